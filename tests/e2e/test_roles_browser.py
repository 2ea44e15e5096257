"""End-to-end (issue 14): sign in through a real OpenID Connect provider (django-oauth-toolkit on loopback) in
headless Chromium, as each role: each sees exactly its controls; a guest's websocket never carries a household
figure; two signed-in users keep their own datasets; each sign-in leaves one audit row."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api")
from browser_helpers import (  # noqa: E402
    LOAD_TIMEOUT_MS,
    RERUN_TIMEOUT_MS,
    assert_no_exception,
    choose,
    wait_script_done,
    wait_settled,
)
from oidc_helpers import TEST_USERS, OidcProvider, app_port_and_redirect, sign_in, start_app_with_auth  # noqa: E402
from playwright.sync_api import Browser, Page, expect  # noqa: E402

from povmap.core.i18n import t  # noqa: E402
from povmap.core.privacy import privacy_note  # noqa: E402
from povmap.core.vocab import DIMENSIONS  # noqa: E402
from povmap.core.thai import fmt_number  # noqa: E402
from povmap.data import uploads as U  # noqa: E402
from povmap.data.datasource import open_engine  # noqa: E402
from povmap.present.profile import build_profile  # noqa: E402
from povmap.userdb import audit, scenarios  # noqa: E402
from povmap.userdb.db import user_database  # noqa: E402
import pandas as pd  # noqa: E402

from povmap.core.access import OPERATOR, Role, User  # noqa: E402

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "e2e"
FIXTURES = REPO / "tests" / "fixtures" / "uploads"
VIEWPORT = {"width": 1366, "height": 900}
# What a household view sends, in both languages: a guest's websocket must carry none of it.
GUEST_VISITS = ("?dataset=households&scope=46&level=district", "profile?area=46", "compare?areas=46,4601",
                "pilot?dataset=households",
                # a hand-made link to the change view between the two household rounds
                "?dataset=households&vs=builtin-households-synthetic-2567&scope=46&level=district")


@pytest.fixture(scope="module")
def auth_app(tmp_path_factory, user_db):
    """A provider and an app signing in through it, sharing the session's user database and datasets."""
    tmp = tmp_path_factory.mktemp("auth")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    port, redirect = app_port_and_redirect()
    with OidcProvider(tmp / "provider", ARTIFACTS / "oidc-provider.log", [redirect]) as provider:
        server = start_app_with_auth(provider, port, tmp / "app", ARTIFACTS / "streamlit-auth-server.log",
                                     dict(os.environ))
        try:
            server.wait_healthy(LOAD_TIMEOUT_MS / 1000)
            yield server.url
        finally:
            server.stop()


def _page(browser: Browser, request, name: str) -> Page:
    context = browser.new_context(viewport=VIEWPORT, locale="th-TH")
    context.set_default_timeout(30_000)
    page = context.new_page()
    request.addfinalizer(lambda: _close(page, f"{request.node.name}-{name}"))
    return page


def _close(page: Page, name: str) -> None:
    try:
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    finally:
        page.context.close()


def _open(page: Page, url: str) -> None:
    page.goto(url)
    wait_script_done(page, LOAD_TIMEOUT_MS)
    wait_settled(page, LOAD_TIMEOUT_MS)
    assert_no_exception(page)


ROLES = {  # who: (sees household views, imports data, edits Area Managers, has the admin page)
    "guest": (False, False, False, False),
    "nobody": (False, False, False, False),  # signed in, no role: a guest
    "ana": (True, False, False, False),
    "stew": (True, True, False, False),
    "adm": (True, True, True, True),
}


@pytest.mark.parametrize("who", list(ROLES))
def test_each_role_sees_exactly_its_controls(browser, request, auth_app, who):
    households, imports, edits_am, admin = ROLES[who]
    page = _page(browser, request, who)
    if who != "guest":
        sign_in(page, auth_app, TEST_USERS[who])
    _open(page, f"{auth_app}/data?lang=en")
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav.get_by_text("Admin", exact=True)).to_have_count(1 if admin else 0)
    expect(page.get_by_test_id("stFileUploader")).to_have_count(1 if imports else 0)
    expect(page.get_by_text(t("data.import_needs_role", "en"))).to_have_count(0 if imports else 1)
    expect(page.get_by_role("heading", name=t("data.kind.households", "en"))).to_have_count(1 if households else 0)
    expect(page.get_by_role("button", name="Make default")).to_have_count(2 if admin else 0)

    _open(page, f"{auth_app}/?dataset=households&scope=46&level=district&lang=en")
    expect(page.get_by_text(t("auth.households_withheld", "en"))).to_have_count(0 if households else 1)

    _open(page, f"{auth_app}/areamanagers?lang=en")
    expect(page.get_by_role("button", name="Save")).to_have_count(1 if edits_am else 0)
    expect(page.get_by_text(t("am.read_only", "en"))).to_have_count(0 if edits_am else 1)

    page.goto(f"{auth_app}/admin?lang=en")  # a hand-typed link to a page the role does not have
    wait_script_done(page, LOAD_TIMEOUT_MS)
    expect(page.get_by_role("heading", name="Audit log")).to_have_count(1 if admin else 0, timeout=RERUN_TIMEOUT_MS)


def _frames(page: Page) -> list[bytes]:
    """Every websocket message the server sends this page, from now on."""
    received: list[bytes] = []

    def on_ws(ws):
        ws.on("framereceived", lambda payload: received.append(
            payload if isinstance(payload, bytes) else payload.encode("utf-8")))

    page.on("websocket", on_ws)
    return received


def _household_markers(engine) -> list[bytes]:
    """Texts only household figures bring: the privacy note beside them and the profile's household line of the
    areas visited (protected figures, as shown). (Labels such as a heading or a criterion name are no figures.)"""
    out = []
    for lang in ("th", "en"):
        out.append(privacy_note(engine.privacy_k, lang)[:40])
        for code in ("46", "4601"):
            hh = build_profile(engine, code).households
            out.append(t("profile.hh_summary", lang, households=fmt_number(hh["households"]), members="").split(" · ")[0])
    return [m.encode("utf-8") for m in out]


def test_a_guest_never_receives_a_household_figure(browser, request, auth_app):
    markers = _household_markers(open_engine())
    seen = {}
    for who in ("guest", "ana"):  # the analyst is the control: the same visits do carry household figures
        page = _page(browser, request, who)
        if who != "guest":
            sign_in(page, auth_app, TEST_USERS[who])
        frames = _frames(page)
        for visit in GUEST_VISITS:
            for lang in ("th", "en"):
                _open(page, f"{auth_app}/{visit}{'&' if '?' in visit else '?'}lang={lang}")
        blob = b"\n".join(frames)
        seen[who] = [m.decode() for m in markers if m in blob]
        assert len(frames) > 20, "the page's websocket messages were not captured"
    assert seen["guest"] == [], f"a guest was sent household figures: {seen['guest']}"
    assert len(seen["ana"]) >= 4, seen["ana"]


def test_two_users_keep_their_own_dataset(browser, request, auth_app):
    report = U.check((FIXTURES / "good_counts_province_and_districts.csv").read_bytes(),
                     "good_counts_province_and_districts.csv", kind="tpmap", year=2566)
    info = U.import_dataset(report, U.ALL_OR_NOTHING, name="Kalasin counts 2566", activate=False)
    U.set_published(info.id, True)
    try:
        total = fmt_number(int(report.tables["tpmap_province"].query("combo == '11111'")["people"].sum()))
        ana, adm = _page(browser, request, "ana"), _page(browser, request, "adm")
        sign_in(ana, auth_app, TEST_USERS["ana"])
        sign_in(adm, auth_app, TEST_USERS["adm"])
        _open(ana, f"{auth_app}/data?lang=en")
        choose(ana, ana.get_by_role("combobox", name="Dataset").first,
               ana.get_by_role("option", name=re.compile(r"^Kalasin counts 2566 \(")))
        wait_script_done(ana)
        ana.get_by_role("button", name="Use this one").first.click()
        expect(ana.get_by_text("Now using").first).to_be_visible(timeout=RERUN_TIMEOUT_MS)
        for page, want, not_want in ((ana, total, "1,032,987"), (adm, "1,032,987", total), (ana, total, "1,032,987")):
            _open(page, f"{auth_app}/?lang=en")
            expect(page.get_by_text(want).first).to_be_visible(timeout=RERUN_TIMEOUT_MS)
            expect(page.get_by_test_id("povmap-headline")).to_contain_text(want)
            expect(page.get_by_test_id("povmap-headline")).not_to_contain_text(not_want)
        assert U.active_id("tpmap") == U.BUILTIN["tpmap"]  # nobody's choice changed the default
    finally:
        U.delete_dataset(info.id)


def test_each_sign_in_and_household_export_leaves_one_audit_row(browser, request, auth_app):
    db = user_database()

    def rows(action: str = "sign_in") -> int:
        log = audit.entries(db, by=OPERATOR)
        return int(((log["user_id"] == TEST_USERS["stew"].email) & (log["action"] == action)).sum())

    before = rows()
    page = _page(browser, request, "stew")
    sign_in(page, auth_app, TEST_USERS["stew"])
    _open(page, f"{auth_app}/profile?area=46&lang=en")  # more pages, a new tab: the same sign-in
    other_tab = page.context.new_page()
    _open(other_tab, f"{auth_app}/?lang=en")
    assert rows() == before + 1
    again = _page(browser, request, "stew-again")  # a second sign-in (another browser): a second row
    sign_in(again, auth_app, TEST_USERS["stew"])
    assert rows() == before + 2

    exports = rows("export_households")
    _open(again, f"{auth_app}/?dataset=households&scope=46&level=district&lang=en")
    with again.expect_download(timeout=RERUN_TIMEOUT_MS) as info:
        again.get_by_test_id("stDownloadButton").get_by_role("button", name="CSV", exact=True).first.click()
    assert info.value.failure() is None
    assert rows("export_households") == exports + 1  # who downloaded household figures, and what

    again.get_by_role("button", name=re.compile("Sign out|ออกจากระบบ")).click()
    expect(again.get_by_role("button", name=re.compile("^(Sign in|เข้าสู่ระบบ)$"))).to_be_visible(
        timeout=RERUN_TIMEOUT_MS)


def test_a_scenario_is_changed_only_by_its_owner(browser, request, auth_app):
    db = user_database()
    ana = User(TEST_USERS["ana"].email, TEST_USERS["ana"].name, Role.ANALYST, signed_in=True)
    frame = {"scope": "46", "level": "district", "dataset": "tpmap", "dimensions": [d.key for d in DIMENSIONS],
             "tiers": [1, 2]}
    sid = scenarios.save(db, "Ana's Kalasin districts", frame, {}, pd.DataFrame({"code": ["4601"], "rank": [1]}),
                         "v", by=ana)
    try:
        for who, owns in (("stew", False), ("ana", True)):
            page = _page(browser, request, who)
            sign_in(page, auth_app, TEST_USERS[who])
            _open(page, f"{auth_app}/pilot?scenario={sid}&lang=en")
            listed = page.get_by_test_id("stSelectbox").filter(has_text="Saved scenarios")
            box = listed.get_by_role("combobox")
            expect(box).to_have_value(re.compile("Ana Analyst"), timeout=RERUN_TIMEOUT_MS)  # who saved it
            expect(page.get_by_role("button", name="Rename")).to_have_count(1 if owns else 0)
            expect(page.get_by_role("button", name="Delete")).to_have_count(1 if owns else 0)
            expect(page.get_by_text(t("pilot.not_yours", "en"))).to_have_count(0 if owns else 1)
    finally:
        scenarios.delete(db, sid)
