"""End-to-end: the pilot-area page in headless Chromium against a real ``streamlit run``.

Two page sessions cover the whole flow, each on Kalasin (one province keeps the browser fast):

* criteria maps, shortlist, map, then two clicks on shortlist rows compare those two areas inline;
* save a scenario under a Thai name; reload the browser (a new Streamlit session: the address
  bar's ``?scenario=<id>`` reopens it); open a plain ``/pilot`` page, pick the scenario in the
  saved list and open it; download CSV, XLSX and GeoJSON and read them back with ``tests/export_readers.py``.

Waits are on conditions only: Streamlit's script state, specific elements and values, images
loaded, the map canvas showing colours. The first load of ``/pilot`` computes the default
20-province frame (cached on the server's engine afterwards), hence the long load timeout.
"""
from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api")
from browser_helpers import (  # noqa: E402
    LOAD_TIMEOUT_MS,
    RERUN_TIMEOUT_MS,
    assert_no_exception,
    choose,
    wait_map_painted,
    wait_rendered,
    wait_script_done,
    wait_settled,
)
from playwright.sync_api import Locator, Page, expect  # noqa: E402

from povmap.present import exports
from povmap.userdb import scenarios  # noqa: E402

pytestmark = pytest.mark.e2e

TITLE_TH = "เลือกพื้นที่นำร่อง"
CRITERION_TH = "อัตราคนจน (%)"  # title of one small criterion map
SCOPE_LABEL, SCOPE_ONE = "ขอบเขต", "จังหวัดเดียว"
PROVINCE_LABEL, KALASIN, KALASIN_CODE = "จังหวัด", "กาฬสินธุ์", "46"
N_CRITERIA = 8
SMALL_MAPS = '[data-testid="stImage"] img'
ROW_PX, MARKER_PX = 35, 30  # glide-data-grid: rows are 35 px (row 0 is the header), the row-marker column 30 px
MATCHES_SAVED = "ตรงกับที่บันทึกไว้"
COMPARING_TWO = "เปรียบเทียบ 2 พื้นที่ที่เลือก"
CODE_COL, RANK_COL = "รหัส", "อันดับ"
OPEN_PROFILE = "เปิดข้อมูลพื้นที่"


# ---- helpers (same conventions as test_browser.py) ---------------------------------------------

def sidebar_combobox(page: Page, label: str) -> Locator:
    return page.get_by_test_id("stSidebar").get_by_role("combobox", name=label, exact=True)


def main(page: Page) -> Locator:
    return page.get_by_test_id("stMainBlockContainer")


def success_alert(page: Page, text: str) -> Locator:
    return page.get_by_test_id("stAlert").filter(has_text=text)


def shortlist_table(page: Page) -> Locator:
    """The shortlist dataframe: the one whose header has a column "อันดับ" (its accessible table is in the DOM)."""
    header = page.locator("th").filter(has_text=re.compile(rf"^{RANK_COL}$"))
    return page.get_by_test_id("stDataFrame").filter(has=header)


def open_pilot(page: Page) -> None:
    page.goto(page.app_url + "/pilot")  # type: ignore[attr-defined]
    expect(page.locator("h1").first).to_have_text(TITLE_TH, timeout=LOAD_TIMEOUT_MS)
    wait_script_done(page, LOAD_TIMEOUT_MS)
    wait_rendered(page)  # select boxes load lazily: a skeleton stands in until their code has arrived
    assert_no_exception(page)


def choose_kalasin(page: Page) -> None:
    """Scope "one province"; its province box defaults to Kalasin (46)."""
    choose(page, sidebar_combobox(page, SCOPE_LABEL), page.get_by_role("option", name=SCOPE_ONE, exact=True))
    expect(sidebar_combobox(page, PROVINCE_LABEL)).to_have_value(KALASIN, timeout=RERUN_TIMEOUT_MS)
    wait_script_done(page, LOAD_TIMEOUT_MS)
    expect(sidebar_combobox(page, SCOPE_LABEL)).to_have_value(SCOPE_ONE)
    assert_no_exception(page)


def wait_kalasin_shortlist(page: Page) -> Locator:
    """The shortlist table showing Kalasin subdistrict codes (46xxxx), after the rerun has finished."""
    table = shortlist_table(page)
    expect(table).to_have_count(1, timeout=RERUN_TIMEOUT_MS)
    expect(table).to_be_visible()
    expect(table.locator("canvas").first).to_be_visible()
    expect(table.locator("td").first).to_have_text(re.compile(r"\S"))
    codes = table.locator("td").filter(has_text=re.compile(r"^\d{6}$"))
    expect(codes.first).to_have_text(re.compile(rf"^{KALASIN_CODE}\d{{4}}$"))
    shown = codes.all_inner_texts()
    assert shown and all(c.startswith(KALASIN_CODE) for c in shown), shown
    expect(table.locator("th").filter(has_text=re.compile(rf"^{CODE_COL}$"))).to_have_count(1)
    return table


def wait_small_maps_loaded(page: Page) -> None:
    imgs = main(page).locator(SMALL_MAPS)
    expect(imgs).to_have_count(N_CRITERIA, timeout=RERUN_TIMEOUT_MS)
    page.wait_for_function(
        f"""n => {{ const imgs = [...document.querySelectorAll('[data-testid="stMainBlockContainer"] {SMALL_MAPS}')];
                  return imgs.length === n && imgs.every(i => i.complete && i.naturalWidth > 0); }}""",
        arg=N_CRITERIA, timeout=RERUN_TIMEOUT_MS)


def save_scenario(page: Page, name: str) -> None:
    """Save the shortlist on the page under ``name``; returns once the page says the list is that scenario."""
    form = main(page).get_by_test_id("stForm")
    form.get_by_label("ชื่อสถานการณ์").fill(name)
    form.get_by_role("button", name="บันทึก", exact=True).click()
    expect(success_alert(page, MATCHES_SAVED).filter(has_text=name)).to_be_visible(timeout=RERUN_TIMEOUT_MS)
    wait_script_done(page)


def click_row(table: Locator, row: int) -> None:
    """Click the row-marker cell of data row ``row`` (0-based) of a glide-data-grid table, once the page has
    settled: a click at a position lands on another row while the content above the table still grows."""
    wait_settled(table.page)
    table.scroll_into_view_if_needed()
    wait_settled(table.page)
    table.click(position={"x": MARKER_PX / 2, "y": ROW_PX * (row + 1) + ROW_PX / 2})


def download(page: Page, label: str) -> tuple[str, bytes]:
    button = main(page).get_by_test_id("stDownloadButton").get_by_role("button", name=label, exact=True)
    with page.expect_download(timeout=RERUN_TIMEOUT_MS) as info:
        button.click()
    dl = info.value
    assert dl.failure() is None, f"{label} download failed: {dl.failure()}"
    return dl.suggested_filename, Path(dl.path()).read_bytes()


# ---- tests ----------------------------------------------------------------------------------------

def test_pilot_kalasin_criteria_shortlist_and_compare_two_rows(app_page: Page):
    page = app_page
    open_pilot(page)
    choose_kalasin(page)
    table = wait_kalasin_shortlist(page)
    wait_small_maps_loaded(page)
    # the shortlist map of one province: the background and its two classes (in the list, ranked but not in it); its
    # grey area (the province under the areas) covers 0.1 % of the frame, at the edge of what canvas_colours counts
    wait_map_painted(page, min_colours=2)
    expect(page.locator("h1").first).to_have_text(TITLE_TH)
    criterion = main(page).locator("strong").filter(has_text=re.compile(rf"^{re.escape(CRITERION_TH)}$"))
    expect(criterion.first).to_be_visible()
    assert_no_exception(page)

    # two clicks on shortlist rows compare those two areas right under the table
    table.scroll_into_view_if_needed()
    click_row(table, 0)
    # one row picked: the page offers that area's profile (a rerun has happened)
    expect(main(page).get_by_role("link").filter(has_text=OPEN_PROFILE)).to_be_visible(timeout=RERUN_TIMEOUT_MS)
    wait_script_done(page)
    click_row(table, 1)
    comparing = main(page).get_by_text(COMPARING_TWO, exact=True)
    expect(comparing).to_be_visible(timeout=RERUN_TIMEOUT_MS)
    wait_script_done(page)
    comparing.scroll_into_view_if_needed()
    assert_no_exception(page)


def test_pilot_scenario_save_reload_reopen_export(app_page: Page, user_db: Path):
    # imported here: test_faults_browser imports this module in a server process that has only tests/e2e on its path
    from export_readers import read_csv, read_xlsx  # tests/export_readers.py

    page = app_page
    name = f"ทดสอบ {KALASIN} {time.strftime('%Y%m%d-%H%M%S')}"
    open_pilot(page)
    choose_kalasin(page)
    wait_kalasin_shortlist(page)

    # save under a Thai name: the page then says the list is that scenario, and lists it (newest first)
    save_scenario(page, name)
    saved_box = main(page).get_by_role("combobox", name="สถานการณ์ที่บันทึกไว้", exact=True)
    expect(saved_box).to_have_value(re.compile("^" + re.escape(name) + " · "))
    assert_no_exception(page)
    # the server writes to the test session's throw-away DB (POVMAP_USER_DB inherited by `streamlit run`)
    found = [s for s in scenarios.list_scenarios(user_db) if s.name == name]
    assert len(found) == 1, f"the server did not save into this session's POVMAP_USER_DB ({user_db})"
    saved = found[0]
    saved_codes = scenarios.load(user_db, saved.id).result["code"].tolist()
    assert saved_codes and all(c.startswith(KALASIN_CODE) for c in saved_codes)

    # the address bar now names the scenario, so a browser reload (a new Streamlit session) reopens it
    expect(page).to_have_url(re.compile(rf"/pilot\?(.*&)?scenario={saved.id}(&|$)"))
    page.reload()
    expect(page.locator("h1").first).to_have_text(TITLE_TH, timeout=LOAD_TIMEOUT_MS)
    expect(success_alert(page, MATCHES_SAVED).filter(has_text=name)).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    wait_script_done(page, LOAD_TIMEOUT_MS)
    wait_rendered(page)  # after a reload the select boxes are skeletons until their code has loaded
    expect(sidebar_combobox(page, PROVINCE_LABEL)).to_have_value(KALASIN)
    assert_no_exception(page)

    # a new page at plain /pilot starts from the default frame; the saved list reopens the scenario
    open_pilot(page)
    expect(sidebar_combobox(page, SCOPE_LABEL)).not_to_have_value(SCOPE_ONE)
    expect(success_alert(page, MATCHES_SAVED)).to_have_count(0)
    choose(page, saved_box, page.get_by_role("option").filter(has_text=name))
    expect(saved_box).to_have_value(re.compile("^" + re.escape(name) + " · "))
    wait_script_done(page)
    main(page).get_by_role("button", name="เปิด", exact=True).click(timeout=RERUN_TIMEOUT_MS)
    expect(success_alert(page, MATCHES_SAVED).filter(has_text=name)).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    wait_script_done(page, LOAD_TIMEOUT_MS)
    expect(sidebar_combobox(page, SCOPE_LABEL)).to_have_value(SCOPE_ONE)
    expect(sidebar_combobox(page, PROVINCE_LABEL)).to_have_value(KALASIN)
    wait_kalasin_shortlist(page)
    assert_no_exception(page)

    # exports: named after the scenario, read back to the saved list
    stem = exports.slug(name)
    files = {label: download(page, label) for label in ("CSV", "XLSX", "GeoJSON")}
    assert [f for f, _ in files.values()] == [f"{stem}.csv", f"{stem}.xlsx", f"{stem}.geojson"]

    raw = files["CSV"][1]
    assert raw.startswith(b"\xef\xbb\xbf"), "CSV must start with the UTF-8 BOM (Excel shows Thai)"
    csv, csv_meta = read_csv(raw)
    assert csv.columns[0] == RANK_COL
    codes = csv[CODE_COL].tolist()
    assert codes == saved_codes
    assert all(isinstance(c, str) and c.startswith(KALASIN_CODE) for c in codes)
    assert csv_meta["title"] == name

    xlsx, xlsx_meta = read_xlsx(files["XLSX"][1], sheet="shortlist")
    assert list(xlsx.columns) == list(csv.columns)
    assert xlsx[CODE_COL].tolist() == codes
    assert xlsx_meta["title"] == name

    doc = json.loads(files["GeoJSON"][1].decode("utf-8"))
    assert doc["type"] == "FeatureCollection"
    assert len(doc["features"]) == len(codes)
    assert [f["properties"][CODE_COL] for f in doc["features"]] == codes
    assert all(f["geometry"] for f in doc["features"])
    assert doc["povmap"]["title"] == name
    assert_no_exception(page)
