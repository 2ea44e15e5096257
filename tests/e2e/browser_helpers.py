"""Browser-test helpers shared by the e2e files: wait on Streamlit's own signals and on a painted map,
and start a test's own ``streamlit run`` server (fault tests kill and restart theirs)."""
from __future__ import annotations

import io
import os
import re
import sys
import time
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect
from server_helpers import LoopbackServer, ServerError, free_port, health  # noqa: F401 - re-exported

SCRIPT_DONE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
# The area map (app_pages/_map.py): a component iframe; "#map" holds the fill and outline canvases and
# carries data-painted (the last rerun whose colours are drawn) and data-features.
MAP_FRAME = 'iframe[title="app_pages._map.area_map"]'
LOAD_TIMEOUT_MS = 90_000
RERUN_TIMEOUT_MS = 45_000


def wait_script_done(page: Page, timeout: float = RERUN_TIMEOUT_MS) -> None:
    page.locator(SCRIPT_DONE).wait_for(state="attached", timeout=timeout)


def map_canvas(page: Page) -> Locator:
    """The map's drawing area (both canvases), inside the component's frame."""
    return page.frame_locator(MAP_FRAME).first.locator("#map")


def map_tooltip(page: Page) -> Locator:
    """The hover tooltip (the outline canvas has an empty one of its own)."""
    return page.frame_locator(MAP_FRAME).first.locator(".deck-tooltip").filter(has_text=re.compile(r"\S"))


def canvas_colours(canvas: Locator, min_share: float = 0.001) -> int:
    """Distinct colours covering at least ``min_share`` of the canvas (ignores anti-aliasing and the zoom buttons)."""
    from PIL import Image

    img = Image.open(io.BytesIO(canvas.screenshot())).convert("RGB")
    w, h = img.size
    colours = img.getcolors(w * h) or []
    return sum(1 for count, _ in colours if count >= min_share * w * h)


def wait_map_painted(page: Page, min_colours: int = 5, timeout_s: float = 60) -> int:
    """Wait until the map says it has drawn a rerun's colours and shows more than ``min_colours`` colours."""
    page.frame_locator(MAP_FRAME).first.locator("#map[data-painted]").wait_for(state="attached", timeout=LOAD_TIMEOUT_MS)
    canvas = map_canvas(page)
    canvas.wait_for(state="visible", timeout=LOAD_TIMEOUT_MS)
    deadline = time.monotonic() + timeout_s
    n = canvas_colours(canvas)
    while n <= min_colours:
        if time.monotonic() > deadline:
            pytest.fail(f"map canvas still looks blank after {timeout_s:.0f} s ({n} colours)")
        n = canvas_colours(canvas)  # each screenshot takes a while: no extra sleep needed
    return n


def assert_no_exception(page: Page) -> None:
    expect(page.get_by_test_id("stException")).to_have_count(0)


def wait_rendered(page: Page, timeout: float = LOAD_TIMEOUT_MS) -> None:
    """After a finished run: wait until the frontend has drawn every element (no loading skeletons left)."""
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0, timeout=timeout)


# Layout settled: the script has finished, Streamlit has drawn every element (no skeletons), the main area's
# images have loaded, every component frame has reported its height, and the page's geometry (scroll heights
# and the place of each image and frame) has not changed for SETTLED_FRAMES animation frames in a row.
SETTLED_FRAMES = 10
_SETTLED_JS = """frames => {
  const app = document.querySelector('[data-testid="stApp"]');
  const main = document.querySelector('[data-testid="stMain"]');
  const side = document.querySelector('[data-testid="stSidebarContent"]');
  const imgs = [...document.querySelectorAll('[data-testid="stMainBlockContainer"] img')];
  const frames_ = [...document.querySelectorAll('[data-testid="stMainBlockContainer"] iframe')];
  const ready = app && app.getAttribute('data-test-script-state') === 'notRunning'
    && !document.querySelector('[data-testid="stSkeleton"]')
    && imgs.every(i => i.complete) && frames_.every(f => f.getBoundingClientRect().height > 0);
  const box = e => { const r = e.getBoundingClientRect();
                     return [r.top, r.left, r.height, r.width].map(Math.round).join(); };
  const doc = document.scrollingElement;
  const shape = [doc.scrollHeight, doc.scrollTop, main && main.scrollHeight, main && main.scrollTop,
                 side && side.scrollHeight, ...imgs.map(box), ...frames_.map(box)].join('|');
  const s = window.__povmapSettle || (window.__povmapSettle = {shape: null, same: 0});
  s.same = ready && shape === s.shape ? s.same + 1 : 0;
  s.shape = shape;
  return s.same >= frames;
}"""


def wait_settled(page: Page, timeout: float = LOAD_TIMEOUT_MS) -> None:
    """Wait until the page has stopped moving after a run (see SETTLED_FRAMES above).

    ``data-test-script-state="notRunning"`` alone is not enough before a click that opens a popover: for a
    second or more after the run (longer on a busy machine) Streamlit still replaces loading skeletons, images
    load and the map frame reports its height, so the content above a box low on the page grows. The browser
    then scrolls to keep the box in place (scroll anchoring), that scroll closes an open option list, and the
    option Playwright is about to click detaches.
    """
    page.evaluate("() => { window.__povmapSettle = null; }")
    page.wait_for_function(_SETTLED_JS, arg=SETTLED_FRAMES, polling="raf", timeout=timeout)


def choose(page: Page, combobox: Locator, option: Locator, timeout: float = RERUN_TIMEOUT_MS) -> None:
    """Pick ``option`` in the select box ``combobox`` once the page has settled.

    The box goes to the middle of the window first: its list then opens in view, and Playwright need not scroll
    the page to reach an option (a scroll closes the list too). The list must be open before the option is
    clicked."""
    wait_settled(page)
    combobox.evaluate("e => e.scrollIntoView({block: 'center'})")
    wait_settled(page)  # the scroll itself can bring lazily drawn elements into view
    combobox.click(timeout=timeout)
    # (the list, not the box: while it is open the other boxes leave the accessibility tree, so an .nth() box
    # locator may no longer resolve)
    expect(page.get_by_role("listbox").first).to_be_visible(timeout=timeout)
    option.click(timeout=timeout)


def assert_no_traceback(page: Page) -> None:
    """No exception element and no Python traceback text anywhere on the page."""
    assert_no_exception(page)
    expect(page.locator("body")).not_to_contain_text("Traceback")


# ---- a test's own server -----------------------------------------------------------------------
REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts" / "e2e"  # screenshots and server logs of the browser tests
LAPTOP = {"width": 1366, "height": 768}  # a common laptop and projector size


class AppServer(LoopbackServer):
    """``python serve.py run app.py`` of this checkout (as ``make run``), with ``env`` added to the environment.
    ``entry`` replaces ``python serve.py`` (e.g. a wrapper that runs Streamlit's CLI in a process that also does
    something else). A server that does not come up fails the test."""

    def __init__(self, log_path: Path, env: dict[str, str], entry: list[str] | None = None):
        super().__init__([*(entry or [sys.executable, "serve.py"]), "run", "app.py"], log_path, cwd=REPO_ROOT,
                         env={**os.environ, **env})

    def wait_healthy(self, timeout_s: float = 90) -> None:
        try:
            super().wait_healthy(timeout_s)
        except ServerError as exc:
            pytest.fail(str(exc))
