"""Every page at the sizes people open it on (issue 15): a 1024×768 projector, a 1366×768 laptop, a 1920×1080
screen and a 390×844 phone, in Thai and English. No text is cut (an element whose text overflows a box that clips
it, or ends in "…"), no page scrolls sideways, and on the explorer the legend is in sight without scrolling on a
laptop. Each page's screenshot is kept in test-artifacts/e2e/layout/ to look at.
"""
from __future__ import annotations

import pytest
from browser_helpers import ARTIFACTS, LOAD_TIMEOUT_MS, wait_script_done, wait_settled
from playwright.sync_api import expect

SIZES = [(1024, 768), (1366, 768), (1920, 1080), (390, 844)]
PAGES = {  # name: the address a shared link would open
    "explorer": "/",
    "profile": "/profile?area=460101",
    "compare": "/compare?areas=460304,4603",
    "pilot": "/pilot?",
    "areamanagers": "/areamanagers?",
    "data": "/data?",
    "sources": "/sources?",
    "glossary": "/glossary?",
    "admin": "/admin?",
    # the explorer's change view between the synthetic file's two rounds, scattered provinces
    "change": "/?dataset=households&vs=builtin-households-synthetic-2567&scope=sra7&level=district",
}
PAGES = {name: path + ("&" if "?" in path else "?") for name, path in PAGES.items()}
# The sizes where the explorer's legend must be in sight on opening (a laptop and a large screen; on a projector
# and a phone the map comes first and the legend right under it).
LEGEND_IN_SIGHT = {(1366, 768), (1440, 900), (1920, 1080)}

# Elements in the main area whose text is wider than a box that clips it. Tables and code boxes scroll on purpose;
# the map is a picture in a frame.
CUT_TEXT = """() => [...document.querySelectorAll('[data-testid="stMain"] *')].filter(el => {
  const cs = getComputedStyle(el);
  if (cs.overflowX === 'visible' && cs.textOverflow !== 'ellipsis') return false;
  if (!(el.innerText || '').trim()) return false;
  if (el.closest('[data-testid="stDataFrame"],[data-testid="stCode"],[data-testid="stDataFrameResizable"],iframe'))
    return false;
  return el.scrollWidth > el.clientWidth + 1;
}).map(el => (el.getAttribute('data-testid') || el.tagName) + ': ' + el.innerText.trim().slice(0, 60))"""
SIDEWAYS = """() => { const m = document.querySelector('[data-testid="stMain"]');
  return m.scrollWidth - m.clientWidth; }"""


@pytest.fixture(scope="module")
def layout_dir():
    out = ARTIFACTS / "layout"
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.mark.parametrize("lang", ["th", "en"])
@pytest.mark.parametrize("size", SIZES + [(1440, 900)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_page_fits_the_screen(browser, app_url, layout_dir, size, lang):
    width, height = size
    context = browser.new_context(viewport={"width": width, "height": height}, locale="th-TH")
    context.set_default_timeout(LOAD_TIMEOUT_MS)
    problems = []
    try:
        page = context.new_page()
        for name, path in PAGES.items() if size in SIZES else [("explorer", PAGES["explorer"])]:
            page.goto(f"{app_url}{path}lang={lang}")
            wait_script_done(page, LOAD_TIMEOUT_MS)
            expect(page.locator("h1").first).to_be_visible()
            wait_settled(page, LOAD_TIMEOUT_MS)
            page.screenshot(path=str(layout_dir / f"{name}-{lang}-{width}x{height}.png"))
            problems += [f"{name}: cut text {c!r}" for c in page.evaluate(CUT_TEXT)]
            if (extra := page.evaluate(SIDEWAYS)) > 1:
                problems.append(f"{name}: the page scrolls sideways by {extra} px")
            if name in ("explorer", "change") and size in LEGEND_IN_SIGHT:
                box = page.get_by_test_id("povmap-legend").bounding_box()
                if box is None or box["y"] + box["height"] > height:
                    problems.append(f"{name}: the legend ends below the fold ({box})")
                head = page.get_by_test_id("povmap-headline").bounding_box()
                if head is None or head["y"] + head["height"] > height:
                    problems.append(f"{name}: the headline figures end below the fold ({head})")
    finally:
        context.close()
    assert not problems, f"{width}×{height} {lang}:\n" + "\n".join(problems)
