"""Hostile links, end to end (issue 7): every page opened with query strings that it must not trust.

Unknown codes, 10,000-character values and names, script and markup injection, and values of the
wrong type, on the explorer (``/``), the area profile, the comparison and the pilot page. For each
link the page must open and finish its run with no exception and no traceback, no JavaScript
dialog may fire, no injected markup may become live DOM (no ``<script>`` with the payload, no
element with an ``onerror`` handler, no ``img[src=x]``, no ``javascript:`` link), the server must
still be healthy afterwards, and a notice must name what the page ignored. A plain link and a
page switch from a filtered explorer view must not show such a notice.
"""
from __future__ import annotations

from urllib.parse import urlencode

import pytest

pytest.importorskip("playwright.sync_api")
from browser_helpers import (  # noqa: E402
    LOAD_TIMEOUT_MS,
    assert_no_traceback,
    health,
    wait_rendered,
    wait_script_done,
)
from playwright.sync_api import Page, expect  # noqa: E402

pytestmark = pytest.mark.e2e

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
JS_LINK = "[x](javascript:alert(1))"
LONG = "4" * 10_000
PROFILE_IGNORED_TH = "ละเว้นค่าในลิงก์ที่ไม่ใช่รหัสพื้นที่"  # the profile's notice when no area code is left
KALASIN_DISTRICT, COMPARE_TH = "อำเภอเมืองกาฬสินธุ์", "เปรียบเทียบพื้นที่"
LIVE_INJECTION_JS = """() => ({
  scripts: [...document.scripts].filter(s => s.textContent.includes("alert(1)")).length,
  onerror: document.querySelectorAll("[onerror]").length,
  img_x: document.querySelectorAll('img[src="x"]').length,
  js_links: [...document.querySelectorAll("a[href]")]
              .filter(a => a.getAttribute("href").trim().toLowerCase().startsWith("javascript:")).length,
})"""

# (page path, case, query parameters, texts the notice must show)
CASES = [
    ("/", "codes_and_types", {"area": "999999", "scope": "zz", "parent": "999999", "k": "²", "tiers": "1,²",
                              "present": "yes", "level": "[]"},
     ["area", "scope=zz", "parent=999999", "k=²", "tiers=1,²", "present=yes", "level=[]"]),
    ("/", "long", {"parent": LONG, "x" * 5_000: "1"}, ["parent=" + "4" * 40 + "…", "x" * 40 + "…"]),
    ("/", "injection", {"scope": SCRIPT, "level": IMG, "metric": JS_LINK, SCRIPT: "1"},
     ["scope=" + SCRIPT, "level=" + IMG, "metric="]),
    ("/profile", "codes_and_types", {"area": "46,999999,4601.0", "scope": "zz", "lang": "xx"},
     ["area=999999", "area=4601.0", "scope", "lang=xx"]),
    ("/profile", "unknown_code", {"area": "999999"}, [PROFILE_IGNORED_TH, "999999"]),
    ("/profile", "long", {"area": LONG}, [PROFILE_IGNORED_TH, "4" * 60]),
    ("/profile", "injection", {"area": IMG, SCRIPT: "1", "x": JS_LINK}, [PROFILE_IGNORED_TH, IMG, SCRIPT]),
    ("/compare", "codes_and_types", {"areas": "46,999999,zz,10,11,12,13", "scope": "zz"},
     ["areas=999999", "areas=zz", "areas=13", "scope"]),
    ("/compare", "long", {"areas": LONG}, ["areas=" + "4" * 40 + "…"]),
    ("/compare", "injection", {"areas": f"{SCRIPT},4601", IMG: "1"}, ["areas=" + SCRIPT, IMG[:40]]),
    ("/pilot", "codes_long_types", {"scenario": "²", "scope": "zz", "lang": SCRIPT, "y" * 10_000: "1"},
     ["scenario=²", "scope", "lang=" + SCRIPT, "y" * 40 + "…"]),
    ("/pilot", "injection", {"scenario": IMG, SCRIPT: JS_LINK}, ["scenario=" + IMG, SCRIPT]),
]


def watch_dialogs(page: Page) -> list[str]:
    """Every JavaScript dialog (alert, confirm, prompt) the page opens from now on, dismissed."""
    dialogs: list[str] = []

    def on_dialog(dialog) -> None:
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return dialogs


def open_link(page: Page, path: str, params: dict[str, str]) -> None:
    page.goto(page.app_url + path + "?" + urlencode(params))  # type: ignore[attr-defined]
    page.locator('[data-testid="stMainBlockContainer"]').wait_for(timeout=LOAD_TIMEOUT_MS)


def notices(page: Page):
    """The alerts that say a link value was ignored (both wordings contain "ละเว้น")."""
    return page.get_by_test_id("stAlert").filter(has_text="ละเว้น")


def assert_safe(page: Page, dialogs: list[str]) -> None:
    wait_rendered(page)
    assert_no_traceback(page)
    assert page.evaluate(LIVE_INJECTION_JS) == {"scripts": 0, "onerror": 0, "img_x": 0, "js_links": 0}
    assert dialogs == []
    assert health(page.app_url) == "ok"  # type: ignore[attr-defined]


@pytest.mark.parametrize("path,case,params,expected", CASES, ids=[f"{p.strip('/') or 'explorer'}-{c}" for p, c, *_ in CASES])
def test_hostile_link_is_ignored_and_named(app_page: Page, path: str, case: str, params: dict, expected: list[str]):
    page = app_page
    dialogs = watch_dialogs(page)
    open_link(page, path, params)
    expect(notices(page).first).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    wait_script_done(page, LOAD_TIMEOUT_MS)
    shown = " ".join(notices(page).all_inner_texts())
    missing = [text for text in expected if text not in shown]
    assert not missing, f"the notice does not name {missing}: {shown[:500]}"
    assert_safe(page, dialogs)


def test_plain_links_and_page_switches_show_no_notice(app_page: Page):
    page = app_page
    dialogs = watch_dialogs(page)
    open_link(page, "/profile", {"area": "4601", "lang": "th"})
    expect(page.locator("h1").first).to_have_text(KALASIN_DISTRICT, timeout=LOAD_TIMEOUT_MS)
    wait_script_done(page, LOAD_TIMEOUT_MS)
    expect(notices(page)).to_have_count(0)
    # a filtered explorer view, then the comparison page from the sidebar: the explorer's parameters
    # must not reach it as "ignored"
    open_link(page, "/", {"level": "district", "metric": "rate"})
    expect(page.locator("h1").first).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    wait_script_done(page, LOAD_TIMEOUT_MS)
    expect(notices(page)).to_have_count(0)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=COMPARE_TH, exact=True).click()
    expect(page.locator("h1").first).to_have_text(COMPARE_TH, timeout=LOAD_TIMEOUT_MS)
    wait_script_done(page, LOAD_TIMEOUT_MS)
    expect(notices(page)).to_have_count(0)
    assert_safe(page, dialogs)
