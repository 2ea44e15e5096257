"""End-to-end (issue 18): two povmap servers on one PostgreSQL behind HAProxy, started the way deploy/cluster.py
starts them (Debian ``postgresql`` and ``haproxy``), with sign-in through the test OpenID Connect provider.

* Sign in through the balancer; save a scenario on one server; open it from a session on the other.
* Import a household file on one server: the other lists it at once; delete it there: gone on the first too.
* Stop PostgreSQL: a signed-in user's page says the user database cannot be reached and goes on with the public
  map, as a guest; start it again: signed in as before.
* SIGKILL a server while its user is on the page: the balancer takes it out within seconds, and the user's page
  reconnects to the other server, still signed in, with nothing saved lost.
"""
from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api")
from browser_helpers import (  # noqa: E402
    LOAD_TIMEOUT_MS,
    RERUN_TIMEOUT_MS,
    assert_no_exception,
    wait_map_painted,
    wait_script_done,
)
from oidc_helpers import TEST_USERS, OidcProvider, sign_in, write_auth_secrets  # noqa: E402
from playwright.sync_api import Browser, BrowserContext, Page, expect  # noqa: E402
from test_data_browser import FIXTURES, choose_households, open_data, upload_and_check  # noqa: E402
from test_pilot_browser import (  # noqa: E402
    MATCHES_SAVED,
    choose_kalasin,
    open_pilot,
    save_scenario,
    success_alert,
    wait_kalasin_shortlist,
)

from deploy.cluster import Cluster, free_port  # noqa: E402
from povmap.core.i18n import t  # noqa: E402
from povmap.data import uploads as U  # noqa: E402
from povmap.userdb import scenarios  # noqa: E402

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "e2e"
TAKEN_OUT_S = 5  # a dead server is out of the balancer's rotation within this


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, user_db):
    """Two servers behind the balancer, signing in through the provider; the imported-datasets folder is the test
    session's (one folder every server reads)."""
    tmp = tmp_path_factory.mktemp("cluster")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    port = free_port()
    site = f"http://localhost:{port}"  # the redirect URI's host, so the sign-in cookies come back
    with OidcProvider(tmp / "provider", ARTIFACTS / "cluster-oidc-provider.log", [f"{site}/oauth2callback"]) as idp:
        work = tmp / "app"
        write_auth_secrets(work, idp, site)  # the same for every server
        with Cluster(2, tmp / "cluster", env=dict(os.environ), cwd=work, port=port) as c:
            c.site = site
            _wait_all_up(c)
            yield c
        for p in (c.root / "s1.log", c.root / "s2.log", c.root / "haproxy.log"):
            if p.exists():
                (ARTIFACTS / f"cluster-{p.name}").write_text(p.read_text(errors="replace"))


def _wait_all_up(c: Cluster) -> None:
    deadline = time.monotonic() + LOAD_TIMEOUT_MS / 1000
    while set(c.balancer.states().values()) != {"UP"}:
        assert time.monotonic() < deadline, c.balancer.states()
        time.sleep(0.2)  # poll interval of the balancer's own health checks (1 s)


def _pinned(browser: Browser, c, server: str, request) -> tuple[BrowserContext, Page]:
    """A browser whose balancer cookie names ``server``: HAProxy sends its requests there while it is up."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="th-TH")
    context.set_default_timeout(30_000)
    context.add_cookies([{"name": "POVMAP_SERVER", "value": server, "url": c.site}])
    page = context.new_page()
    page.app_url = c.site
    request.addfinalizer(lambda: _close(page, f"{request.node.name}-{server}"))
    return context, page


def _close(page: Page, name: str) -> None:
    try:
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    finally:
        page.context.close()


def _server_of(context: BrowserContext) -> str:
    return next(c["value"] for c in context.cookies() if c["name"] == "POVMAP_SERVER")


def _save_kalasin(page: Page, name: str) -> None:
    open_pilot(page)
    choose_kalasin(page)
    wait_kalasin_shortlist(page)
    save_scenario(page, name)


def _open_saved(page: Page, c, scenario_id: int, name: str) -> None:
    page.goto(f"{c.site}/pilot?scenario={scenario_id}")
    expect(success_alert(page, MATCHES_SAVED).filter(has_text=name)).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    wait_script_done(page, LOAD_TIMEOUT_MS)
    assert_no_exception(page)


def test_a_scenario_saved_on_one_server_opens_on_the_other(cluster, browser: Browser, request):
    ana_ctx, ana = _pinned(browser, cluster, "s1", request)
    sign_in(ana, cluster.site, TEST_USERS["ana"])
    name = f"ทุกเซิร์ฟเวอร์ {time.strftime('%H%M%S')}"
    _save_kalasin(ana, name)
    assert _server_of(ana_ctx) == "s1"
    saved = [s for s in scenarios.list_scenarios(cluster.postgres.url) if s.name == name]
    assert len(saved) == 1 and saved[0].owner == TEST_USERS["ana"].email  # in the shared database

    adm_ctx, adm = _pinned(browser, cluster, "s2", request)
    sign_in(adm, cluster.site, TEST_USERS["adm"])
    _open_saved(adm, cluster, saved[0].id, name)
    assert _server_of(adm_ctx) == "s2"


def _listed(page: Page, name: str):
    """The cells of the Data page's tables naming ``name`` (the grid draws on a canvas; its cells are in the DOM
    for assistive technology, not visible)."""
    return page.get_by_test_id("stDataFrame").locator("td").filter(has_text=name)


def test_an_import_on_one_server_is_listed_on_the_other_and_so_is_its_delete(cluster, browser: Browser, request):
    before = {d.id for d in U.list_datasets()}
    _, one = _pinned(browser, cluster, "s1", request)
    _, two = _pinned(browser, cluster, "s2", request)
    for page in (one, two):
        sign_in(page, cluster.site, TEST_USERS["adm"])
    try:
        open_data(one)
        choose_households(one)
        upload_and_check(one, "good_households.csv", (FIXTURES / "good_households.csv").read_bytes())
        one.get_by_role("button", name="นำเข้า", exact=True).click()
        expect(one.get_by_text("นำเข้า good_households แล้ว").first).to_be_visible(timeout=RERUN_TIMEOUT_MS)
        wait_script_done(one)

        open_data(two)  # the other server, never restarted
        expect(_listed(two, "good_households").first).to_be_attached(timeout=RERUN_TIMEOUT_MS)

        one.get_by_role("button", name="ลบ…").click()
        wait_script_done(one)
        one.get_by_role("button", name="ลบ", exact=True).click()
        expect(one.get_by_text(re.compile(r"^ลบ good_households.* แล้ว$")).first).to_be_visible(timeout=RERUN_TIMEOUT_MS)
        assert {d.id for d in U.list_datasets()} == before

        open_data(two)
        expect(_listed(two, "ครัวเรือนแบบ PPAOS ปี 2566").first).to_be_attached(timeout=RERUN_TIMEOUT_MS)
        expect(_listed(two, "good_households")).to_have_count(0)
        assert_no_exception(two)
    finally:  # the rest of the session's browser tests expect the built-ins only
        for d in U.list_datasets():
            if d.id not in before:
                U.delete_dataset(d.id)


def test_without_postgres_a_page_shows_the_public_map_and_says_why(cluster, browser: Browser, request):
    user = TEST_USERS["ana"]
    _, page = _pinned(browser, cluster, "s1", request)
    sign_in(page, cluster.site, user)
    sidebar, note = page.get_by_test_id("stSidebar"), page.get_by_text(t("auth.db_unavailable", "th"))
    cluster.postgres.stop()
    try:
        page.goto(f"{cluster.site}/?scope=46&level=district")
        expect(note).to_be_visible(timeout=LOAD_TIMEOUT_MS)
        wait_script_done(page, LOAD_TIMEOUT_MS)
        wait_map_painted(page, min_colours=3)  # the public map goes on
        expect(sidebar.get_by_text(user.name)).to_have_count(0)  # a guest until the database answers
        assert_no_exception(page)
    finally:
        cluster.postgres.start()
    page.reload()
    expect(sidebar.get_by_text(user.name)).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    expect(note).to_have_count(0)


def test_a_killed_server_leaves_its_users_signed_in_on_the_other(cluster, browser: Browser, request):
    user = TEST_USERS["ana"]
    ctx, page = _pinned(browser, cluster, "s2", request)
    sign_in(page, cluster.site, user)
    name = f"ก่อนเซิร์ฟเวอร์ดับ {time.strftime('%H%M%S')}"
    _save_kalasin(page, name)
    sid = next(s.id for s in scenarios.list_scenarios(cluster.postgres.url) if s.name == name)

    cluster.servers[1].kill()  # s2, while its user is on the page
    killed = time.monotonic()
    while cluster.balancer.states()["s2"] != "DOWN":
        assert time.monotonic() - killed < TAKEN_OUT_S, cluster.balancer.states()
        time.sleep(0.1)  # poll interval of the balancer's state
    # The open page reconnects by itself (Streamlit's client), to s1 now: a new session there, still signed in.
    expect(page.get_by_test_id("stSidebar").get_by_text(user.name)).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    wait_script_done(page, LOAD_TIMEOUT_MS)
    _open_saved(page, cluster, sid, name)
    assert _server_of(ctx) == "s1"
    assert re.search(r"\bs2\b.*DOWN", str(cluster.balancer.states()))


def test_the_one_machine_deployment_with_demo_sign_in_lets_a_new_user_sign_in(tmp_path, browser: Browser, request):
    """deploy/README.md's command: ``deploy/cluster.py --demo-sign-in`` prints its users, and one of them signs in
    through the balancer and sees the map; Ctrl-C (SIGINT) stops everything."""
    import signal
    import subprocess
    import sys

    from deploy.idp import User

    port = free_port()
    proc = subprocess.Popen([sys.executable, str(REPO / "deploy" / "cluster.py"), "--servers", "1", "--port", str(port),
                             "--root", str(tmp_path / "run"), "--demo-sign-in"], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        printed = []
        while not any("sign in as steward" in line for line in printed):
            line = proc.stdout.readline()  # the command's own signal that it is up: its printed users
            assert line, "".join(printed)
            printed.append(line)
        users = {m[1]: m[2] for m in re.finditer(r"sign in as (\w+) / (\S+)", "".join(printed))}
        assert set(users) == {"admin", "analyst", "steward"}
        context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="th-TH")
        page = context.new_page()
        request.addfinalizer(lambda: _close(page, "demo-sign-in"))
        sign_in(page, f"http://localhost:{port}", User("analyst", users["analyst"], "Demo Analyst", ()))
        wait_map_painted(page)
        assert_no_exception(page)
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=120) == 0
