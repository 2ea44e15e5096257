"""A PNG export on a server that has no Chromium (issue 12), in headless Chromium against a real ``streamlit run``.

The server runs with a ``PATH`` that holds only this Python's folder and no ``BROWSER_PATH``, so
``povmap.core.config.browser_path`` finds no browser and every PNG/PDF export fails. Clicking "Map PNG (slide)" must
show the reason in the page's language under the button, and no download may start (before issue 12 an empty
file was downloaded without a word). The error state is screenshot at 1366×768 in Thai and in English.

Waits are on the app's own signals: the alert, the script state.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api")
from browser_helpers import (  # noqa: E402
    ARTIFACTS,
    LAPTOP,
    LOAD_TIMEOUT_MS,
    RERUN_TIMEOUT_MS,
    AppServer,
    assert_no_traceback,
    wait_map_painted,
    wait_script_done,
)
from playwright.sync_api import Page, expect  # noqa: E402

pytestmark = pytest.mark.e2e

TEXT = {  # the slide button's label and the reason (povmap/locales: export.map_slide, error.export.no_browser)
    "th": ("แผนที่ PNG (สไลด์)", "ไม่พบเบราว์เซอร์"),
    "en": ("Map PNG (slide)", "No browser found"),
}


@pytest.fixture(scope="module")
def no_browser_server(tmp_path_factory):
    env = {"PATH": str(Path(sys.executable).parent), "BROWSER_PATH": ""}
    with AppServer(ARTIFACTS / "export-faults-server.log", env) as server:
        server.wait_healthy()
        yield server


@pytest.fixture
def screen_page(browser):
    context = browser.new_context(viewport=LAPTOP, locale="th-TH")
    context.set_default_timeout(30_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["th", "en"])
def test_failed_map_png_says_why_and_downloads_nothing(screen_page: Page, no_browser_server, lang: str):
    page = screen_page
    label, reason = TEXT[lang]
    downloads = []
    page.on("download", lambda d: downloads.append(d))
    page.goto(no_browser_server.url + ("/" if lang == "th" else "/?lang=en"))
    wait_script_done(page, LOAD_TIMEOUT_MS)
    wait_map_painted(page)
    main = page.get_by_test_id("stMainBlockContainer")
    button = main.get_by_role("button", name=label, exact=True)
    expect(button).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    button.click()
    alert = main.get_by_test_id("stAlert").filter(has_text=reason)
    expect(alert).to_be_visible(timeout=RERUN_TIMEOUT_MS)
    wait_script_done(page)
    expect(button).to_be_visible()  # still there: a click tries again
    assert not downloads, [d.suggested_filename for d in downloads]
    assert_no_traceback(page)
    alert.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"export-error-{lang}.png"))
    if lang == "th":  # the message is Thai (a product name aside), not the English one
        expect(alert).not_to_contain_text(TEXT["en"][1])
