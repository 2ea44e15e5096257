"""End-to-end: the explorer page in headless Chromium against a real ``streamlit run``.

Waits are on conditions only: Streamlit's script state, specific elements, and the map
canvas actually showing colours. The one short fixed wait is between hovering and
clicking the WebGL map, so that deck.gl registers the hover first.
"""
from __future__ import annotations

import io
import re
import time

import pytest

pytest.importorskip("playwright.sync_api")
from browser_helpers import (  # noqa: E402
    LOAD_TIMEOUT_MS,
    MAP_FRAME,
    RERUN_TIMEOUT_MS,
    assert_no_exception,
    choose,
    map_canvas,
    map_tooltip,
    wait_map_painted,
    wait_script_done,
    wait_settled,
)
from playwright.sync_api import Locator, Page, expect  # noqa: E402

pytestmark = pytest.mark.e2e

TITLE_TH = "แผนที่ความยากจนประเทศไทย"
TITLE_EN = "Thailand poverty map"
LEGEND = '[data-testid="povmap-legend"]'
CRUMB_CHILD = re.compile(r"^› ")


# ---- helpers --------------------------------------------------------------------------------------

def open_app(page: Page) -> None:
    page.goto(page.app_url)  # type: ignore[attr-defined]
    wait_script_done(page, LOAD_TIMEOUT_MS)
    expect(page.locator("h1").first).to_have_text(TITLE_TH, timeout=LOAD_TIMEOUT_MS)
    wait_map_painted(page)


def sidebar_combobox(page: Page, label: str) -> Locator:
    return page.get_by_test_id("stSidebar").get_by_role("combobox", name=label)


def child_crumbs(page: Page) -> Locator:
    """Breadcrumb buttons below the country (``› จังหวัด`` …)."""
    return page.get_by_test_id("stMainBlockContainer").get_by_role("button").filter(has_text=CRUMB_CHILD)


# ---- tests ----------------------------------------------------------------------------------------

def test_language_switch(app_page: Page):
    """First in the file on purpose: the first click of the first session after a server start
    was once lost (widgets created before st.navigation changed identity in that run)."""
    page = app_page
    open_app(page)
    sidebar = page.get_by_test_id("stSidebar")
    english = sidebar.get_by_role("radio", name="English", exact=True)  # st.segmented_control option
    english.click()
    expect(page.locator("h1").first).to_have_text(TITLE_EN, timeout=RERUN_TIMEOUT_MS)
    wait_script_done(page)
    expect(english).to_have_attribute("aria-checked", "true")
    expect(sidebar_combobox(page, "Level shown")).to_have_value("Province")
    assert_no_exception(page)

    sidebar.get_by_role("radio", name="ไทย", exact=True).click()
    expect(page.locator("h1").first).to_have_text(TITLE_TH, timeout=RERUN_TIMEOUT_MS)
    wait_script_done(page)
    expect(sidebar_combobox(page, "ระดับที่แสดง")).to_have_value("จังหวัด")
    assert_no_exception(page)


def test_opens_with_thai_title_and_map(app_page: Page):
    page = app_page
    open_app(page)
    expect(page.locator("h1").first).to_be_visible()
    expect(page.locator("h1").first).to_have_text(TITLE_TH)
    expect(page.locator(LEGEND)).to_be_visible()
    assert_no_exception(page)
    n = wait_map_painted(page)
    assert n > 5, f"map canvas has only {n} colours"
    # The ranking table's module was asked for with the page (app_pages/_server.EarlyModules): before the module of
    # the first widget the script's run shows (a select box in the sidebar), which Streamlit asks for as it comes.
    asked = page.evaluate("""() => performance.getEntriesByType('resource').map((e) => [e.name, e.startTime])""")
    grid = [t for url, t in asked if re.search(r"/static/js/DataFrame\.[\w-]+\.js$", url)]
    widget = [t for url, t in asked if re.search(r"/static/js/Selectbox\.[\w-]+\.js$", url)]
    assert len(grid) == 1 and widget and grid[0] < min(widget), (grid, widget)


def test_drill_down_by_ranking_table(app_page: Page):
    page = app_page
    open_app(page)
    table = page.get_by_test_id("stDataFrame").first  # the ranking, right of the map
    expect(table).to_be_visible()
    expect(table.locator("canvas").first).to_be_visible()
    # a click at a position lands on another row if the layout still moves (see browser_helpers.wait_settled)
    wait_settled(page)
    # glide-data-grid: row-marker column is 30 px wide, rows are 35 px, row 0 is the header
    table.click(position={"x": 15, "y": 35 + 35 / 2})
    expect(child_crumbs(page)).to_have_text(["› แม่ฮ่องสอน"], timeout=RERUN_TIMEOUT_MS)  # first by the rate
    wait_script_done(page)
    expect(sidebar_combobox(page, "ระดับที่แสดง")).to_have_value("อำเภอ")
    wait_map_painted(page)
    assert_no_exception(page)

    page.get_by_test_id("stMainBlockContainer").get_by_role("button", name="ประเทศไทย", exact=True).click()
    expect(child_crumbs(page)).to_have_count(0, timeout=RERUN_TIMEOUT_MS)
    wait_script_done(page)
    expect(sidebar_combobox(page, "ระดับที่แสดง")).to_have_value("จังหวัด")
    expect(page.get_by_test_id("povmap-headline")).to_contain_text("76 พื้นที่ที่มีข้อมูล (จังหวัด)")  # Bangkok: no data
    assert_no_exception(page)


def test_households_dataset_is_labelled_synthetic(app_page: Page):
    page = app_page
    open_app(page)
    # (not box.click() then option.click(): a scroll while the page settles closes the list, see choose())
    choose(page, sidebar_combobox(page, "ชุดข้อมูล"), page.get_by_role("option", name="ครัวเรือนยากจน (PPAOS)"))
    warning = page.get_by_test_id("stAlert").filter(has_text="ข้อมูลสังเคราะห์")
    expect(warning).to_be_visible(timeout=RERUN_TIMEOUT_MS)
    wait_script_done(page)
    expect(sidebar_combobox(page, "ชุดข้อมูล")).to_have_value("ครัวเรือนยากจน (PPAOS)")
    expect(page.locator(LEGEND)).to_be_visible()
    wait_map_painted(page)
    assert_no_exception(page)


# Candidate points (fractions of the canvas) inside large north-eastern provinces on the
# nationwide province map (Surin, Buriram, Nakhon Ratchasima, Khon Kaen, …).
NE_POINTS = [(0.65, 0.40), (0.60, 0.38), (0.68, 0.36), (0.62, 0.44)]


def test_drill_down_by_map_click(app_page: Page):
    page = app_page
    open_app(page)
    canvas = map_canvas(page)
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box, "map canvas has no bounding box"
    tooltip = map_tooltip(page)
    tried = []
    for fx, fy in NE_POINTS:
        x, y = box["x"] + fx * box["width"], box["y"] + fy * box["height"]
        page.mouse.move(x, y)
        page.wait_for_timeout(400)  # let deck.gl register the hover before the click
        hovered = tooltip.first.inner_text().split("\n")[0] if tooltip.count() and tooltip.first.is_visible() else None
        page.mouse.click(x, y)
        try:
            # either the rerun has started or the drill-down has already rendered
            page.wait_for_function(
                """() => document.querySelector('[data-testid="stApp"]')?.dataset.testScriptState !== 'notRunning'
                     || [...document.querySelectorAll('[data-testid="stMainBlockContainer"] button')]
                          .some(b => b.innerText.trim().startsWith('› '))""",
                timeout=5_000)
        except Exception:  # noqa: BLE001 - no rerun from this click: try the next point
            tried.append(f"({fx:.2f}, {fy:.2f}) hover={hovered!r}")
            continue
        expect(child_crumbs(page)).to_have_count(1, timeout=RERUN_TIMEOUT_MS)
        wait_script_done(page)
        expect(sidebar_combobox(page, "ระดับที่แสดง")).to_have_value("อำเภอ")
        if hovered:
            expect(child_crumbs(page)).to_have_text([re.compile(r"^› " + re.escape(hovered.split(" · ")[0]))])
        wait_map_painted(page)
        assert_no_exception(page)
        return
    pytest.fail(
        "clicking the province map never started a rerun (no deck.gl selection) at " + "; ".join(tried)
        + ". Hover picking works (hover=…), so WebGL picking is alive. deck.gl only fires onClick for a tap "
        "whose pointerdown-to-pointerup time is under 250 ms, and its pick on pointerdown blocks; in software "
        "WebGL picking outlines takes ~1 s, so the click is dropped. Keep the outlines on map.js's own "
        "non-pickable canvas and only the fills pickable.")


def test_filter_change_recolours_without_fetching_geometry(app_page: Page):
    """The map's promise (povmap/web/maplayer.py): geometry is fetched once; a filter change sends colours only."""
    page = app_page
    page.goto(page.app_url + "/?scope=46&level=subdistrict")  # type: ignore[attr-defined]
    wait_script_done(page, LOAD_TIMEOUT_MS)
    wait_map_painted(page, min_colours=3)
    geo_requests: list[str] = []
    page.on("request", lambda r: geo_requests.append(r.url) if "/geo/" in r.url or r.url.endswith("deck.js") else None)
    frame = page.frame_locator(MAP_FRAME).first
    before = frame.locator("#map").get_attribute("data-fill")
    assert frame.locator("#map").get_attribute("data-features") == "135"  # Kalasin's subdistricts
    [map_js] = [f for f in page.frames if "area_map" in f.url]
    # Fills without antialiasing (the outlines above them have it): software WebGL would fill four samples a pixel
    assert map_js.evaluate("() => document.querySelector('#map > canvas').getContext('webgl2')"
                           ".getContextAttributes().antialias") is False
    frames_before = map_js.evaluate("() => window.povmapRenders.length")
    painted_before = int(frame.locator("#map").get_attribute("data-painted"))
    page.get_by_test_id("stSidebar").get_by_role("button", name="ด้านรายได้").click()
    frame.locator(f'#map:not([data-fill="{before}"])').wait_for(state="attached", timeout=RERUN_TIMEOUT_MS)
    wait_script_done(page)
    wait_map_painted(page, min_colours=3)
    # data-painted names the rerun whose colours are on screen: set in the frame that drew them
    map_js.wait_for_function("(n) => Number(document.getElementById('map').dataset.painted) > n", arg=painted_before,
                             timeout=RERUN_TIMEOUT_MS)
    assert geo_requests == [], geo_requests
    # The new colours are drawn once, not after the old ones drawn again (each frame redraws every fill)
    assert map_js.evaluate("() => window.povmapRenders.length") - frames_before == 1
    assert frame.locator("#map").get_attribute("data-features") == "135"
    assert_no_exception(page)


# The fills' own vertex shader (map.js AreaFillLayer) against deck.gl's: the nationwide map (Web Mercator) and a
# Bangkok district at zoom 13, where deck.gl takes positions relative to the view's centre ("auto offset").
@pytest.mark.parametrize("path, zoomed", [("/?level=subdistrict", False),
                                          ("/?scope=10&level=subdistrict&parent=1001", True)])
def test_the_fills_own_shader_draws_what_deck_gls_polygon_shader_draws(app_page: Page, path: str, zoomed: bool):
    from PIL import Image, ImageChops

    page = app_page
    page.goto(page.app_url + path)  # type: ignore[attr-defined]
    wait_script_done(page, LOAD_TIMEOUT_MS)
    wait_map_painted(page, min_colours=1)
    [map_js] = [f for f in page.frames if "area_map" in f.url]
    assert map_js.evaluate("() => deckgl.getViewports()[0].zoom > 12") is zoomed
    assert map_js.evaluate("""() => deckgl.layerManager.getLayers().filter((l) => l.id === "areas")
        .map((l) => [l.constructor.layerName, l.getShaders("top").vs.includes("povmap-area-fill-vertex-shader")])""") \
        == [["AreaFillLayer", True]]

    def drawn(script: str) -> Image.Image:  # the map once a frame drawn after ``script`` is on screen
        before = map_js.evaluate("() => window.povmapRenders.length")
        map_js.evaluate(script)
        map_js.wait_for_function("(n) => window.povmapRenders.length > n", arg=before, timeout=RERUN_TIMEOUT_MS)
        return Image.open(io.BytesIO(map_canvas(page).screenshot())).convert("RGB")

    def differing(a: Image.Image, b: Image.Image) -> int:
        return ImageChops.difference(a, b).convert("L").point(lambda v: 255 if v > 24 else 0).histogram()[255]

    ours = drawn("() => deckgl.redraw('test')")
    assert len(ours.getcolors(ours.width * ours.height) or []) > 2  # a drawn map, not a blank canvas
    map_js.evaluate("""() => deckgl.setProps({layers: fillLayers().map((l) =>
        new deck.SolidPolygonLayer({...l.props, data: l.props.data, id: `${l.id}-deck`}))})""")
    # deck.gl draws a new layer once the browser has linked its shaders (asynchronously): redraw until it shows
    deadline, n = time.monotonic() + 30, None
    while n is None or n > 0.001 * ours.width * ours.height:
        assert time.monotonic() < deadline, f"{n} pixels differ from deck.gl's own polygon shader"
        n = differing(ours, drawn("() => deckgl.redraw('test')"))
    assert map_js.evaluate("() => deckgl.layerManager.getLayers().map((l) => l.constructor.layerName)").count(
        "SolidPolygonLayer") >= 1


def test_profile_opens_by_url_with_thai_name_and_charts(app_page: Page):
    page = app_page
    page.goto(page.app_url + "/profile?area=4601")  # type: ignore[attr-defined]
    wait_script_done(page, LOAD_TIMEOUT_MS)
    expect(page.locator("h1").first).to_have_text("อำเภอเมืองกาฬสินธุ์", timeout=LOAD_TIMEOUT_MS)
    chart = page.get_by_test_id("stPlotlyChart").first
    expect(chart).to_be_visible(timeout=RERUN_TIMEOUT_MS)
    expect(chart.locator(".main-svg").first).to_be_attached()
    expect(chart).to_contain_text("ด้านสุขภาพ")  # Thai axis labels rendered by plotly
    assert_no_exception(page)


def test_shared_link_opens_that_view(app_page: Page):
    page = app_page
    page.goto(page.app_url + "/?lang=en&parent=46&metric=rate&bogus=1")  # type: ignore[attr-defined]
    wait_script_done(page, LOAD_TIMEOUT_MS)
    expect(page.locator("h1").first).to_have_text(TITLE_EN, timeout=LOAD_TIMEOUT_MS)
    expect(child_crumbs(page)).to_have_text(["› Kalasin"], timeout=RERUN_TIMEOUT_MS)
    expect(sidebar_combobox(page, "Level shown")).to_have_value("District")
    expect(page.get_by_test_id("stAlert").filter(has_text="bogus")).to_be_visible()
    wait_map_painted(page)
    assert_no_exception(page)


def test_scattered_provinces_get_a_panel_each_and_drill_down_from_it(app_page: Page):
    """The 7 SRA provinces: Lampang, three in the north-east, three in the south, each group in its own panel under
    its provinces' names, every panel painted, and a click in the Lampang panel drills into Lampang."""
    page = app_page
    page.goto(page.app_url + "/?lang=en&scope=sra7&level=province")  # type: ignore[attr-defined]
    wait_script_done(page, LOAD_TIMEOUT_MS)
    wait_map_painted(page)
    frame = page.frame_locator(MAP_FRAME).first
    expect(frame.locator("#map")).to_have_attribute("data-panels", "3")
    expect(frame.locator(".panel-title")).to_have_text(["Lampang", "Kalasin · Mukdahan · Roi Et",
                                                       "Pattani · Phatthalung · Yala"])
    canvas = map_canvas(page)
    box = canvas.bounding_box()
    first = frame.locator(".panel-title").first.locator("xpath=..").bounding_box()  # the Lampang panel's frame
    assert box and first
    page.mouse.click(first["x"] + first["width"] / 2, first["y"] + first["height"] / 2)
    expect(child_crumbs(page)).to_have_text(["› Lampang"], timeout=RERUN_TIMEOUT_MS)
    wait_script_done(page)
    wait_map_painted(page)
    expect(frame.locator("#map")).to_have_attribute("data-panels", "1")
    assert_no_exception(page)


def test_presentation_names_the_areas_and_fits_a_projector(browser, app_url):
    """On a 1024×768 projector the presentation map ends inside the window, and it writes area names on itself
    (shaped by the browser, none overlapping, each over its own area); the five highest are listed."""
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    try:
        page = context.new_page()
        page.goto(f"{app_url}/?scope=46&level=district&present=1&lang=th")
        wait_script_done(page, LOAD_TIMEOUT_MS)
        wait_map_painted(page)
        frame = page.frame_locator(MAP_FRAME).first
        expect(frame.locator("#map")).not_to_have_attribute("data-labels", "0")
        boxes = frame.locator(".label").evaluate_all(
            "els => els.map(e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom, e.textContent]; })")
        assert len(boxes) >= 8, boxes
        assert any(b[4] == "เมืองกาฬสินธุ์" for b in boxes)
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
        frame_box = page.locator(MAP_FRAME).first.bounding_box()
        assert frame_box and frame_box["y"] + frame_box["height"] <= 768, frame_box
        expect(page.get_by_text("สูงสุด 5 อันดับ")).to_be_visible()
        assert_no_exception(page)
    finally:
        context.close()
