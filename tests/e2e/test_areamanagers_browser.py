"""End-to-end: two people edit Area Managers at once (issue 14). The second save is refused with what the other
changed, nothing is lost, and a reload starts from the other's version."""
from __future__ import annotations

import pytest

pytest.importorskip("playwright.sync_api")
from browser_helpers import LOAD_TIMEOUT_MS, RERUN_TIMEOUT_MS, assert_no_exception, wait_script_done  # noqa: E402
from playwright.sync_api import Page, expect  # noqa: E402

from povmap.core.access import Role, User  # noqa: E402
from povmap.userdb import areamanagers  # noqa: E402
from povmap.userdb.db import user_database  # noqa: E402

pytestmark = pytest.mark.e2e
OTHER = User("eve@example.org", "Eve Admin", Role.ADMIN, signed_in=True)


def test_a_save_over_someone_elses_newer_table_is_refused_and_loses_nothing(app_page: Page):
    page, db = app_page, user_database()
    valid = {"46", "84"}
    before = areamanagers.list_coverage(db)
    try:
        page.goto(f"{page.app_url}/areamanagers?lang=en")  # type: ignore[attr-defined]
        wait_script_done(page, LOAD_TIMEOUT_MS)
        expect(page.get_by_role("button", name="Save")).to_be_visible(timeout=LOAD_TIMEOUT_MS)
        # Meanwhile another admin saves a row (their own session, straight to the shared database).
        assert areamanagers.add(db, "Prince of Songkla University", "84", valid_codes=valid, by=OTHER)
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_text("Eve Admin").first).to_be_visible(timeout=RERUN_TIMEOUT_MS)
        expect(page.get_by_text("Prince of Songkla University – 84").first).to_be_visible()
        assert_no_exception(page)
        stored = areamanagers.list_coverage(db)
        assert "Prince of Songkla University" in set(stored["manager"])  # their row survived my stale save
        page.get_by_role("button", name="Reload the saved table").click()
        wait_script_done(page)
        expect(page.get_by_text("Eve Admin")).to_have_count(0, timeout=RERUN_TIMEOUT_MS)
        page.get_by_role("button", name="Save").click()  # from their version now: saved
        expect(page.get_by_text("Saved (").first).to_be_visible(timeout=RERUN_TIMEOUT_MS)
        assert "Prince of Songkla University" in set(areamanagers.list_coverage(db)["manager"])
    finally:
        areamanagers.replace_all(db, before, valid_codes=set(before["code"]) | valid)
