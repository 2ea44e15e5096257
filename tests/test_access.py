"""Roles, ownership, version checks and the audit log (issue 14), called directly as a hand-made request would:
every guarded operation refuses what the role does not allow, whatever a page showed, and every change leaves
exactly one audit row."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from povmap.core.access import (
    LOCAL_USER,
    OPERATOR,
    AccessDenied,
    Action,
    Grant,
    Role,
    User,
    guest,
    require,
    roles_from_groups,
    user_from_claims,
)
from povmap.data import uploads as U
from povmap.data.uploads.visibility import can_manage, can_see
from povmap.userdb import areamanagers, audit, dataops, roles, scenarios
from povmap.userdb.db import connect, transaction

FIXTURES = Path(__file__).parent / "fixtures" / "uploads"
ANA = User("ana@example.org", "Ana Analyst", Role.ANALYST, signed_in=True)
BEN = User("ben@example.org", "Ben Analyst", Role.ANALYST, signed_in=True)
STEW = User("stew@example.org", "Somchai Steward", Role.STEWARD, frozenset({"46"}), signed_in=True)
ADM = User("adm@example.org", "Adam Admin", Role.ADMIN, signed_in=True)
GUEST = guest()
EVERYONE = (GUEST, ANA, STEW, ADM)
FRAME = {"scope": "46", "level": "subdistrict", "dataset": "tpmap"}
VALID = {"46", "4601", "460101", "460102", "84", "8401"}


@pytest.fixture
def user_data(tmp_path, monkeypatch):
    root = tmp_path / "user_datasets"
    monkeypatch.setenv(U.USER_DATA_ENV, str(root))
    return root


def log(db) -> pd.DataFrame:
    return audit.entries(db, by=ADM)


def shortlist() -> pd.DataFrame:
    return pd.DataFrame({"code": ["460101", "460102"], "rank": [1, 2]})


# ---- the table of roles ----------------------------------------------------------------------------------------

EXPECTED = {  # action -> roles allowed (steward without provinces named)
    Action.VIEW_HOUSEHOLDS: {Role.ANALYST, Role.STEWARD, Role.ADMIN},
    Action.SAVE_SCENARIO: {Role.ANALYST, Role.STEWARD, Role.ADMIN},
    Action.MANAGE_DATA: {Role.STEWARD, Role.ADMIN},
    Action.EDIT_AREA_MANAGERS: {Role.ADMIN},
    Action.MANAGE_ROLES: {Role.ADMIN},
    Action.SET_DEFAULTS: {Role.ADMIN},
    Action.READ_AUDIT: {Role.ADMIN},
}


@pytest.mark.parametrize("action", list(Action))
def test_each_role_may_do_exactly_what_the_table_says(action):
    assert {u.role for u in EVERYONE if u.can(action)} == EXPECTED[action]


def test_a_steward_manages_data_of_their_provinces_only():
    assert STEW.can(Action.MANAGE_DATA, ["46"])
    assert not STEW.can(Action.MANAGE_DATA, ["46", "84"])
    assert not STEW.can(Action.MANAGE_DATA, [])  # a dataset with no known province (damaged): admins only
    assert ADM.can(Action.MANAGE_DATA, ["46", "84"]) and ADM.can(Action.MANAGE_DATA, [])
    with pytest.raises(AccessDenied) as exc:
        require(STEW, Action.MANAGE_DATA, ["46", "84"])
    assert "84" in exc.value.message("th") and "84" in exc.value.message("en")


def test_guests_see_households_only_when_the_admin_allows():
    assert not guest().can(Action.VIEW_HOUSEHOLDS)
    assert guest(households=True).can(Action.VIEW_HOUSEHOLDS)
    assert not guest(households=True).can(Action.SAVE_SCENARIO)


def test_roles_come_from_the_group_claim_and_the_admin_table_whichever_is_higher():
    assert roles_from_groups(["povmap-analyst"]) == (Role.ANALYST, frozenset())
    assert roles_from_groups("povmap-steward-46 povmap-steward-49") == (Role.STEWARD, frozenset({"46", "49"}))
    assert roles_from_groups(["POVMAP-ADMIN", "povmap-steward-46"])[0] == Role.ADMIN
    assert roles_from_groups(["other", "povmap-", "povmap-guest", "povmap-steward-4"]) == (Role.GUEST, frozenset())
    claims = {"email": "Stew@Example.org", "name": "Somchai", "groups": ["povmap-analyst"]}
    assert user_from_claims(claims).role == Role.ANALYST
    u = user_from_claims(claims, [Grant("stew@example.org", Role.STEWARD, frozenset({"46"})),
                                  Grant("other@example.org", Role.ADMIN)])
    assert (u.id, u.role, u.provinces, u.name, u.signed_in) == ("stew@example.org", Role.STEWARD, {"46"}, "Somchai", True)
    assert user_from_claims({"email": "x@example.org"}).role == Role.GUEST  # signed in, no role
    assert user_from_claims({"email": "boss@example.org"}, admins=["Boss@example.org"]).role == Role.ADMIN
    assert user_from_claims({"sub": "abc"}, claim="roles").id == "abc"


# ---- the audit log ---------------------------------------------------------------------------------------------

def test_the_audit_log_is_append_only(db):
    audit.record(db, ADM, "setting", "x")
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), transaction(db) as conn:
        conn.execute(sa.text("UPDATE audit SET user_id = 'someone else'"))
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), transaction(db) as conn:
        conn.execute(sa.text("DELETE FROM audit"))
    assert len(log(db)) == 1
    for u in (GUEST, ANA, STEW):
        with pytest.raises(AccessDenied):
            audit.entries(db, by=u)


def test_roles_and_settings_need_an_admin_and_are_audited(db):
    for u in (GUEST, ANA, STEW):
        with pytest.raises(AccessDenied):
            roles.grant(db, "x@example.org", Role.ADMIN, by=u)
        with pytest.raises(AccessDenied):
            roles.set_setting(db, roles.GUESTS_SEE_HOUSEHOLDS, True, by=u)
    assert roles.grants(db) == [] and log(db).empty
    roles.grant(db, " Stew@Example.org ", Role.STEWARD, {"46", "49"}, by=ADM, address="10.0.0.5")
    roles.set_setting(db, roles.GUESTS_SEE_HOUSEHOLDS, True, by=ADM)
    assert roles.grants(db) == [Grant("stew@example.org", Role.STEWARD, frozenset({"46", "49"}))]
    assert roles.setting(db, roles.GUESTS_SEE_HOUSEHOLDS) is True
    assert roles.revoke(db, "stew@example.org", by=ADM) and not roles.revoke(db, "stew@example.org", by=ADM)
    entries = log(db)
    assert entries["action"].tolist() == ["role_revoke", "setting", "role_grant"]
    assert entries.iloc[2]["address"] == "10.0.0.5" and entries.iloc[2]["user_id"] == ADM.id


# ---- scenarios: owners and versions ----------------------------------------------------------------------------

def test_only_the_owner_or_an_admin_changes_a_scenario(db):
    with pytest.raises(AccessDenied):
        scenarios.save(db, "guest's", FRAME, {}, shortlist(), "v", by=GUEST)
    sid = scenarios.save(db, "Kalasin A", FRAME, {}, shortlist(), "v", by=ANA)
    info = scenarios.list_scenarios(db)[0]
    assert (info.owner, info.owner_name, info.version) == (ANA.id, ANA.name, 1)
    for attempt in (lambda: scenarios.rename(db, sid, "mine now", by=BEN),
                    lambda: scenarios.delete(db, sid, by=BEN),
                    lambda: scenarios.save(db, "kalasin a", FRAME, {}, shortlist(), "v", overwrite=True, by=BEN)):
        with pytest.raises(AccessDenied) as exc:
            attempt()
        assert ANA.name in exc.value.message("en")
    assert scenarios.load(db, sid).name == "Kalasin A" and scenarios.load(db, sid).version == 1
    scenarios.save(db, "Kalasin A (Ben's copy)", FRAME, {}, shortlist(), "v", by=BEN)  # everyone may copy
    assert scenarios.same_name(" kalasin   A", "Kalasin A") and not scenarios.same_name("Kalasin A", "Kalasin B")
    scenarios.rename(db, sid, "Kalasin B", by=ANA)
    scenarios.save(db, "Kalasin B", FRAME, {}, shortlist(), "v", overwrite=True, by=ADM)
    assert scenarios.load(db, sid).owner == ANA.id  # an admin's overwrite keeps the owner
    scenarios.delete(db, sid, by=ADM)
    assert log(db)["action"].tolist() == ["scenario_delete", "scenario_overwrite", "scenario_rename",
                                          "scenario_save", "scenario_save"]


def test_a_stale_scenario_save_is_refused_and_says_who_changed_it(db):
    sid = scenarios.save(db, "Shared", FRAME, {}, shortlist(), "v", by=ANA)
    opened = scenarios.load(db, sid).version  # two windows of Ana open it
    scenarios.rename(db, sid, "Shared v2", by=ANA, expected_version=opened)
    with pytest.raises(scenarios.ScenarioConflict) as exc:
        scenarios.save(db, "Shared v2", FRAME, {"x": 1}, shortlist(), "v", overwrite=True, by=ANA,
                       expected_version=opened)
    assert ANA.id in exc.value.message("en") and "น." in exc.value.message("th")  # who, and when in Bangkok time
    with pytest.raises(scenarios.ScenarioConflict):
        scenarios.delete(db, sid, by=ANA, expected_version=opened)
    assert scenarios.load(db, sid).settings == {} and scenarios.load(db, sid).version == 2


def test_scenarios_saved_before_sign_in_belong_to_admins(tmp_path):
    db = tmp_path / "old.sqlite"
    with sqlite3.connect(db) as conn:  # a database of schema version 1 with a scenario in it
        conn.executescript(SCHEMA_1)
        conn.execute("INSERT INTO scenario (name, name_key, frame, settings, result, result_object_columns, n_areas, "
                     "level, scope, store_version, created_at, updated_at) VALUES ('old', 'old', '{}', '{}', x'', "
                     "'{}', 0, 'province', 'all', 'v', '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00')")
        conn.execute("PRAGMA user_version = 1")
    connect(db).close()
    info = scenarios.list_scenarios(db)[0]
    assert (info.name, info.owner, info.version) == ("old", "", 1)
    assert not info.changeable_by(ANA) and info.changeable_by(ADM) and info.changeable_by(LOCAL_USER)


# ---- Area Managers: admins, and no lost update --------------------------------------------------------------------

def test_area_managers_are_edited_by_admins_only(db):
    table = pd.DataFrame({"manager": ["KSU"], "code": ["46"], "note": [""]})
    for u in (GUEST, ANA, STEW):
        with pytest.raises(AccessDenied):
            areamanagers.replace_all(db, table, valid_codes=VALID, by=u)
        with pytest.raises(AccessDenied):
            areamanagers.add(db, "KSU", "46", valid_codes=VALID, by=u)
        with pytest.raises(AccessDenied):
            areamanagers.remove(db, "KSU", "46", by=u)
        with pytest.raises(AccessDenied):
            areamanagers.import_csv(db, b"manager,code\nKSU,46\n", valid_codes=VALID, by=u)
    assert areamanagers.list_coverage(db).empty and log(db).empty


def test_a_concurrent_area_manager_save_is_refused_with_what_the_other_changed(db):
    areamanagers.add(db, "KSU", "46", valid_codes=VALID, by=ADM)
    start_version, start = areamanagers.state(db)[0], areamanagers.list_coverage(db)  # two admins open the page
    other = User("eve@example.org", "Eve Admin", Role.ADMIN, signed_in=True)
    theirs = pd.concat([start, pd.DataFrame({"manager": ["PSU"], "code": ["84"], "note": [""]})])
    areamanagers.replace_all(db, theirs, valid_codes=VALID, by=other, expected_version=start_version, base=start)
    mine = pd.DataFrame({"manager": ["MSU"], "code": ["4601"], "note": ["new"]})  # and I removed KSU
    with pytest.raises(areamanagers.AreaManagerConflict) as exc:
        areamanagers.replace_all(db, mine, valid_codes=VALID, by=ADM, expected_version=start_version, base=start)
    assert exc.value.added == ["PSU – 84"] and exc.value.removed == []
    for lang in ("th", "en"):
        assert "Eve Admin" in exc.value.message(lang) and "PSU – 84" in exc.value.message(lang)
    assert sorted(areamanagers.list_coverage(db)["manager"]) == ["KSU", "PSU"]  # theirs kept, nothing half-saved
    version = areamanagers.state(db)[0]
    areamanagers.replace_all(db, mine, valid_codes=VALID, by=ADM, expected_version=version)  # after a reload
    assert areamanagers.list_coverage(db)["manager"].tolist() == ["MSU"]
    assert log(db)["action"].tolist() == ["area_managers"] * 3


# ---- datasets: import, publish, delete, defaults and who sees what ------------------------------------------------

def _households_report(tmp_path, provinces: tuple[str, ...]) -> U.Report:
    lines = (FIXTURES / "good_households.csv").read_text(encoding="utf-8").splitlines()
    keep = [lines[0], *[ln for ln in lines[1:] if ln.split(",")[1][:2] in provinces]]
    path = tmp_path / f"households-{'-'.join(provinces)}.csv"
    path.write_text("\n".join(keep) + "\n", encoding="utf-8")
    return U.check(path.read_bytes(), path.name, kind="households")


def test_a_steward_imports_only_within_their_provinces_and_nothing_else_is_written(db, user_data, tmp_path):
    both = _households_report(tmp_path, ("46", "84"))
    for u in (GUEST, ANA, STEW):
        with pytest.raises(AccessDenied):
            dataops.import_as(both, U.VALID_ROWS, by=u, db=db)
    assert U.list_datasets() == [] and log(db).empty
    info = dataops.import_as(_households_report(tmp_path, ("46",)), U.VALID_ROWS, by=STEW, db=db)
    assert (info.owner, info.provinces, info.published) == (STEW.id, ["46"], False)
    assert U.active_id("households") == U.BUILTIN["households"]  # a signed-in import changes nobody's default
    assert log(db)["action"].tolist() == ["dataset_import"]


def test_who_sees_an_unpublished_household_file_and_who_after_publishing(db, user_data, tmp_path):
    info = dataops.import_as(_households_report(tmp_path, ("46",)), U.VALID_ROWS, by=STEW, db=db)
    other_steward = User("s2@example.org", "S2", Role.STEWARD, frozenset({"84"}), signed_in=True)
    assert {u.id for u in (GUEST, ANA, BEN, STEW, ADM, other_steward) if can_see(u, info)} == {STEW.id, ADM.id}
    for u in (GUEST, ANA, other_steward):
        with pytest.raises(AccessDenied):
            dataops.publish_as(info.id, True, by=u, db=db)
        with pytest.raises(AccessDenied):
            dataops.delete_as(info.id, by=u, db=db)
    assert dataops.session_ids(ANA, {"households": info.id})["households"] == U.BUILTIN["households"]
    info = dataops.publish_as(info.id, True, by=STEW, db=db)
    assert {u.id for u in (GUEST, ANA, STEW, ADM) if can_see(u, info)} == {ANA.id, STEW.id, ADM.id}
    assert not can_see(guest(households=False), info) and can_see(guest(households=True), info)
    assert dataops.session_ids(ANA, {"households": info.id})["households"] == info.id
    assert dataops.session_ids(GUEST, {"households": info.id})["households"] == U.BUILTIN["households"]
    assert can_manage(STEW, info) and not can_manage(other_steward, info)
    dataops.delete_as(info.id, by=STEW, db=db)
    assert U.list_datasets() == []
    assert log(db)["action"].tolist() == ["dataset_delete", "dataset_publish", "dataset_import"]


def test_defaults_are_an_admins_and_must_be_published(db, user_data, tmp_path):
    info = dataops.import_as(_households_report(tmp_path, ("46",)), U.VALID_ROWS, by=ADM, db=db)
    for u in (GUEST, ANA, STEW):
        with pytest.raises(AccessDenied):
            dataops.set_default_as("households", info.id, by=u, db=db)
    with pytest.raises(U.DatasetError):
        dataops.set_default_as("households", info.id, by=ADM, db=db)
    dataops.publish_as(info.id, True, by=ADM, db=db)
    dataops.set_default_as("households", info.id, by=ADM, db=db)
    assert U.active_id("households") == info.id
    assert dataops.session_ids(ANA, {})["households"] == info.id  # new sessions start with the default
    assert dataops.session_ids(GUEST, {})["households"] == U.BUILTIN["households"]
    assert log(db)["action"].tolist() == ["default_dataset", "dataset_publish", "dataset_import"]


def test_local_mode_and_the_command_line_keep_working_as_one_admin(db, user_data, tmp_path):
    info = dataops.import_as(_households_report(tmp_path, ("46", "84")), U.VALID_ROWS, by=LOCAL_USER, db=db)
    assert U.active_id("households") == info.id  # one person: their import is what the command line reads
    assert can_see(LOCAL_USER, info) and can_see(OPERATOR, info)


def test_a_signed_in_users_own_choice_is_kept_for_them_alone(db):
    roles.set_user_dataset(db, ANA, "tpmap", "tpmap-20260101T000000-abcdef")
    roles.set_user_dataset(db, GUEST, "tpmap", "x")  # a guest's choice lives in their session only
    assert roles.user_datasets(db, ANA) == {"tpmap": "tpmap-20260101T000000-abcdef"}
    assert roles.user_datasets(db, BEN) == {} and roles.user_datasets(db, GUEST) == {}
    roles.set_user_pref(db, ANA, "lang", "en")
    assert roles.user_prefs(db, ANA) == {"dataset.tpmap": "tpmap-20260101T000000-abcdef", "lang": "en"}
    assert roles.user_datasets(db, ANA) == {"tpmap": "tpmap-20260101T000000-abcdef"}
    assert log(db).empty  # one's own view is no shared change


# The schema of version 1 as povmap wrote it before its migrations moved to Alembic (PRAGMA user_version = 1).
SCHEMA_1 = """
CREATE TABLE scenario (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, name_key TEXT NOT NULL UNIQUE, frame TEXT NOT NULL,
    settings TEXT NOT NULL, result BLOB NOT NULL, result_object_columns TEXT NOT NULL, n_areas INTEGER NOT NULL,
    level TEXT NOT NULL, scope TEXT NOT NULL, store_version TEXT NOT NULL, created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE area_manager (
    manager TEXT NOT NULL CHECK (manager <> ''), code TEXT NOT NULL CHECK (length(code) IN (2, 4, 6)),
    note TEXT NOT NULL DEFAULT '', PRIMARY KEY (manager, code)
);
CREATE INDEX area_manager_code ON area_manager(code);
"""
