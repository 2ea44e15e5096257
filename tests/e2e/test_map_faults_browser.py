"""The map after its web folder lost a file (issue 12), in headless Chromium against a real ``streamlit run``.

The server has a web folder of its own (``POVMAP_WEB``). The browser's first geometry request deletes the file it
asks for just before the server answers it (a Playwright route, so the deletion lands between the server's
rerun, which writes missing files, and the browser's fetch): the server answers 404 and the map shows its
error overlay. The next rerun writes the file again (the folder heals); the map must then fetch it again, take
the overlay away and paint the areas. The user reads a plain message in their language; the URL and the HTTP
status are in the map's ``data-error`` attribute and the browser console.

Waits are on the app's own signals: the overlay, the map's ``data-painted`` and ``data-error`` attributes, the
script state.
"""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

pytest.importorskip("playwright.sync_api")
from browser_helpers import (  # noqa: E402
    ARTIFACTS,
    LAPTOP,
    LOAD_TIMEOUT_MS,
    MAP_FRAME,
    RERUN_TIMEOUT_MS,
    AppServer,
    assert_no_traceback,
    wait_map_painted,
    wait_script_done,
)
from playwright.sync_api import Page, Route, expect  # noqa: E402

pytestmark = pytest.mark.e2e

FAILED = {"th": "แผนที่โหลดไม่สำเร็จ โปรดโหลดหน้านี้ใหม่",  # map.js MESSAGES (the technical reason: data-error)
          "en": "The map could not be loaded. Reload the page to try again."}


@pytest.fixture(scope="module")
def web_server(tmp_path_factory):
    """(server, its web folder)."""
    web = tmp_path_factory.mktemp("mapweb") / "web"
    with AppServer(ARTIFACTS / "map-faults-server.log", {"POVMAP_WEB": str(web)}) as server:
        server.wait_healthy()
        yield server, web


@pytest.fixture
def screen_page(browser):
    """A page at 1366×768 (the size the error state is screenshot at)."""
    context = browser.new_context(viewport=LAPTOP, locale="th-TH")
    context.set_default_timeout(30_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["th", "en"])
def test_map_error_overlay_goes_once_the_web_folder_heals(screen_page: Page, web_server, lang: str):
    server, web = web_server
    page = screen_page
    deleted: list[Path] = []
    requested: list[str] = []

    def delete_first_geometry_file(route: Route) -> None:
        requested.append(route.request.url)
        if not deleted:
            path = web / "geo" / unquote(urlsplit(route.request.url).path).split("/geo/", 1)[1]
            path.unlink()
            deleted.append(path)
        route.continue_()

    page.route("**/geo/**", delete_first_geometry_file)
    page.goto(server.url + ("/" if lang == "th" else "/?lang=en"))
    frame = page.frame_locator(MAP_FRAME).first
    overlay, area = frame.locator("#msg"), frame.locator("#map")
    expect(overlay).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    expect(overlay).to_have_text(FAILED[lang])  # no URL or HTTP status for the user to read
    expect(area).to_have_attribute("data-error", re.compile(r"^geo/.*\.bin: HTTP 404$"))
    assert deleted and not deleted[0].exists()
    wait_script_done(page, LOAD_TIMEOUT_MS)
    page.locator(MAP_FRAME).scroll_into_view_if_needed()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"map-error-{lang}.png"))

    # A rerun with the same view: the server writes the file again, and the map's next render fetches it.
    page.locator("body").press("r")
    expect(overlay).to_be_hidden(timeout=RERUN_TIMEOUT_MS)
    assert area.get_attribute("data-error") is None
    wait_map_painted(page)
    # written again, fetched again (more than once if a resize of the frame brought a render before the rerun)
    assert deleted[0].exists() and requested.count(requested[0]) >= 2
    wait_script_done(page)
    assert_no_traceback(page)
    page.screenshot(path=str(ARTIFACTS / f"map-healed-{lang}.png"))
