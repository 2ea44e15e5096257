"""End-to-end: the Data page in headless Chromium: upload a bad file, a mislabelled one and a good one,
read the report, import the good one and see it listed and in use."""
from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api")
from browser_helpers import LOAD_TIMEOUT_MS, RERUN_TIMEOUT_MS, assert_no_exception, wait_script_done  # noqa: E402
from playwright.sync_api import Page, expect  # noqa: E402

from povmap.data import uploads as U  # noqa: E402

pytestmark = pytest.mark.e2e
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "uploads"


def open_data(page: Page) -> None:
    page.goto(f"{page.app_url}/data")  # type: ignore[attr-defined]
    wait_script_done(page, LOAD_TIMEOUT_MS)
    expect(page.locator("h1").first).to_have_text("ข้อมูล", timeout=LOAD_TIMEOUT_MS)


def choose_households(page: Page) -> None:
    page.get_by_test_id("stRadio").get_by_text("ไฟล์ครัวเรือน", exact=True).click()
    expect(page.get_by_text("หนึ่งแถวต่อครัวเรือน").first).to_be_visible(timeout=RERUN_TIMEOUT_MS)
    wait_script_done(page)


def upload_and_check(page: Page, name: str, data: bytes) -> None:
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        {"name": name, "mimeType": "text/csv", "buffer": data})
    expect(page.get_by_text(name).first).to_be_visible(timeout=RERUN_TIMEOUT_MS)
    wait_script_done(page)
    page.get_by_role("button", name="ตรวจไฟล์").click()
    expect(page.get_by_text(f"{name}:").first).to_be_visible(timeout=RERUN_TIMEOUT_MS)
    wait_script_done(page)


def test_upload_bad_mislabelled_and_good_files_then_import(app_page: Page):
    page = app_page
    open_data(page)
    expect(page.get_by_text("< 5").first).to_be_visible()  # the privacy note
    before = [d.id for d in U.list_datasets()]
    choose_households(page)

    upload_and_check(page, "score_above_4.csv", (FIXTURES / "score_above_4.csv").read_bytes())
    expect(page.get_by_text("มีข้อผิดพลาด").first).to_be_visible()
    expect(page.get_by_text("คะแนน").first).to_be_visible()  # the problem names the score and what to do
    assert_no_exception(page)

    # a picture named .csv: the report says the file is not a table, nothing else happens
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
    upload_and_check(page, "photo.csv", png)
    expect(page.get_by_text("นำเข้าไม่ได้").first).to_be_visible()
    assert_no_exception(page)
    assert [d.id for d in U.list_datasets()] == before

    good = (FIXTURES / "good_households.csv").read_bytes()
    upload_and_check(page, "good_households.csv", good)
    expect(page.get_by_text("นำเข้าได้ 6 แถว").first).to_be_visible()
    try:
        page.get_by_role("button", name="นำเข้า", exact=True).click()
        expect(page.get_by_text("นำเข้า good_households แล้ว").first).to_be_visible(timeout=RERUN_TIMEOUT_MS)
        wait_script_done(page)
        assert U.active_id(U.KIND_HOUSEHOLDS) != U.BUILTIN[U.KIND_HOUSEHOLDS]
        # The picker shows the imported one, and only it (no built-in) offers delete and publish.
        expect(page.get_by_role("button", name="ลบ…")).to_have_count(1)
        expect(page.get_by_role("button", name="ลบ…")).to_be_enabled()
        expect(page.get_by_role("button", name="เผยแพร่", exact=True)).to_have_count(1)
        assert_no_exception(page)
    finally:  # the rest of the session's browser tests expect the built-in households
        U.set_active(U.KIND_HOUSEHOLDS, U.BUILTIN[U.KIND_HOUSEHOLDS])
        for d in U.list_datasets():
            if d.id not in before:
                U.delete_dataset(d.id)
