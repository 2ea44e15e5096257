"""Saved scenarios: exact round trip across a restart, naming rules, diff, crash safety, concurrency."""
from __future__ import annotations

import os
import pickle
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from povmap.core.config import REPO_ROOT
from povmap.userdb import db as userdb
from povmap.userdb import scenarios
from povmap.userdb.db import HEAD, SCHEMA_VERSION, DEFAULT_USER_DB, UserDBError, connect, user_db_path
from povmap.userdb.scenarios import ScenarioError

FRAME = {"scope": "46", "level": "subdistrict", "dataset": "tpmap", "dimensions": ["health", "income"],
         "tiers": [1, 2]}
SETTINGS = {"weights": {"rate": 0.5, "people": 0.5}, "enabled": ["rate", "people"], "normalisation": "rank",
            "gates": {"min_people": 50}, "top_n": 3, "per_district_k": None, "alpha": 0.05, "fdr": True,
            "permutations": 999, "seed": 42, "note": "ทดลอง"}


def shortlist(codes=("460101", "460102", "460201"), ranks=None) -> pd.DataFrame:
    n = len(codes)
    return pd.DataFrame({
        "code": pd.Series(codes, dtype=str),
        "name_th": pd.Series(["กาฬสินธุ์", "เหนือ", "นามน", "ก", "ข"][:n], dtype=str),
        "name_en": pd.Series(["Kalasin", None, "Na Mon", "K", "Kh"][:n], dtype=str),
        "rank": pd.array(ranks or list(range(1, n + 1)), dtype="Int64"),
        "score": np.linspace(0.9, 0.1, n),
        "rate": pd.array([2.5, None, 7.25, 1.0, 2.0][:n], dtype="Float64"),
        "people": np.array([120, 80, 300, 1, 2][:n], dtype="int32"),
        "gate_ok": [True, False, True, True, True][:n],
        "tier": pd.Categorical(["a", "b", "a", "a", "b"][:n]),
        "remark": pd.Series(["x", None, "ค", "y", "z"][:n], dtype=object),
    })


def test_user_db_path(monkeypatch, tmp_path):
    monkeypatch.delenv("POVMAP_USER_DB", raising=False)
    assert user_db_path() == DEFAULT_USER_DB == REPO_ROOT / "data" / "povmap.sqlite"
    monkeypatch.setenv("POVMAP_USER_DB", str(tmp_path / "env.sqlite"))
    assert user_db_path() == tmp_path / "env.sqlite"
    assert user_db_path(tmp_path / "flag.sqlite") == tmp_path / "flag.sqlite"


def test_survives_restart_identically(db, tmp_path):
    result = shortlist()
    sid = scenarios.save(db, "  กาฬสินธุ์   รอบแรก ", FRAME, SETTINGS, result, "abc@2025-01-01")
    out = tmp_path / "loaded.pkl"
    # A fresh interpreter stands for an app restart; pickle carries dtypes exactly back to us.
    code = f"""
        import pickle, sys
        from povmap.userdb import scenarios, db as userdb
        s = scenarios.load(sys.argv[1], {sid})
        pickle.dump(s, open(sys.argv[2], "wb"))
    """
    subprocess.run([sys.executable, "-c", textwrap.dedent(code), str(db), str(out)], check=True,
                   cwd=REPO_ROOT, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    s = pickle.loads(out.read_bytes())
    pd.testing.assert_frame_equal(s.result, result, check_exact=True)
    assert list(s.result.dtypes) == list(result.dtypes)
    assert s.frame == FRAME and s.settings == SETTINGS
    assert (s.id, s.name, s.store_version) == (sid, "กาฬสินธุ์ รอบแรก", "abc@2025-01-01")
    assert s.created_at == s.updated_at and s.created_at.endswith("+00:00")


def test_index_and_numpy_settings_round_trip(db):
    result = shortlist().set_index(pd.Index(["x", "y", "z"], dtype=object, name="k"))
    settings = {"top_n": np.int64(3), "weights": np.array([0.5, 0.5]), "pair": (1, 2)}
    s = scenarios.load(db, scenarios.save(db, "idx", FRAME, settings, result, "v"))
    pd.testing.assert_frame_equal(s.result, result, check_exact=True)
    assert s.settings == {"top_n": 3, "weights": [0.5, 0.5], "pair": [1, 2]}


def test_list_rename_delete(db):
    assert scenarios.list_scenarios(db) == []
    a = scenarios.save(db, "A", FRAME, SETTINGS, shortlist(), "v")
    b = scenarios.save(db, "B", {**FRAME, "scope": "ppaos20", "level": "district"}, SETTINGS,
                       shortlist(("4601", "4602")), "v")
    infos = scenarios.list_scenarios(db)
    assert [i.id for i in infos] == [b, a]  # newest first
    assert (infos[0].name, infos[0].n_areas, infos[0].level, infos[0].scope) == ("B", 2, "district", "ppaos20")

    scenarios.rename(db, a, "A renamed")
    assert scenarios.load(db, a).name == "A renamed"
    assert scenarios.list_scenarios(db)[0].id == a  # renaming counts as a change
    scenarios.rename(db, a, "a RENAMED")  # a change of case of its own name is fine
    with pytest.raises(ScenarioError):
        scenarios.rename(db, a, "b")

    scenarios.delete(db, b)
    assert [i.id for i in scenarios.list_scenarios(db)] == [a]
    for call in (lambda: scenarios.load(db, b), lambda: scenarios.delete(db, b),
                 lambda: scenarios.rename(db, b, "x")):
        with pytest.raises(ScenarioError, match=str(b)):
            call()


def test_duplicate_name_and_overwrite(db):
    sid = scenarios.save(db, "Pilot", FRAME, SETTINGS, shortlist(), "v1")
    created = scenarios.load(db, sid).created_at
    with pytest.raises(ScenarioError) as e:
        scenarios.save(db, " pilot ", FRAME, SETTINGS, shortlist(), "v2")
    assert "overwrite" in e.value.en and "บันทึกทับ" in e.value.th and "pilot" in e.value.th
    assert scenarios.load(db, sid).store_version == "v1"

    again = scenarios.save(db, "pilot", FRAME, {"top_n": 2}, shortlist(("4601",)), "v2", overwrite=True)
    s = scenarios.load(db, again)
    assert again == sid and s.created_at == created and s.updated_at > created
    assert (s.name, s.settings, s.store_version, len(s.result)) == ("pilot", {"top_n": 2}, "v2", 1)
    assert len(scenarios.list_scenarios(db)) == 1


@pytest.mark.parametrize("name", ["", "   ", "x" * 81])
def test_bad_names(db, name):
    with pytest.raises(ScenarioError) as e:
        scenarios.save(db, name, FRAME, SETTINGS, shortlist(), "v")
    assert "80" in e.value.en and "80" in e.value.th


def test_bad_result_is_refused(db):
    with pytest.raises(ScenarioError):
        scenarios.save(db, "x", FRAME, SETTINGS, shortlist().drop(columns="rank"), "v")
    with pytest.raises(ScenarioError):
        scenarios.save(db, "x", FRAME, SETTINGS, shortlist(("4601", "4601")), "v")
    assert scenarios.list_scenarios(db) == []


def test_diff(db):
    a = scenarios.load(db, scenarios.save(db, "a", FRAME, SETTINGS, shortlist(("460101", "460102", "460201")), "v"))
    b = scenarios.load(db, scenarios.save(
        db, "b", FRAME, SETTINGS, shortlist(("460201", "460103", "460101"), ranks=[1, 2, 3]), "v"))
    d = scenarios.diff(a, b)
    assert d.both == ["460101", "460201"]
    assert d.only_a == ["460102"] and d.only_b == ["460103"]
    rc = d.rank_changes
    assert list(rc.columns) == ["code", "rank_a", "rank_b"] and rc["rank_a"].dtype == "float64"
    assert rc.fillna(0).to_dict("records") == [{"code": "460101", "rank_a": 1, "rank_b": 3},
                                               {"code": "460102", "rank_a": 2, "rank_b": 0},
                                               {"code": "460201", "rank_a": 3, "rank_b": 1},
                                               {"code": "460103", "rank_a": 0, "rank_b": 2}]
    same = scenarios.diff(a, a)
    assert same.only_a == same.only_b == [] and (same.rank_changes["rank_a"] == same.rank_changes["rank_b"]).all()


# The child saves ever-larger scenarios, printing "<id> <i>" after each commit. With a stall point it
# stops inside save number `stall` with everything written but not yet committed, and says so.
CHILD = """
import sys, time
from contextlib import contextmanager
import numpy as np, pandas as pd
from povmap.userdb import scenarios, db as userdb

def result(i):
    n = 20_000 + i * 1000
    return pd.DataFrame({"code": [f"{k:06d}" for k in range(n)], "name_th": ["ตำบล"] * n,
                         "rank": np.arange(1, n + 1), "score": np.full(n, float(i))})

db, stall = sys.argv[1], int(sys.argv[2])
real = scenarios.transaction

@contextmanager
def stalling(path):
    with real(path) as conn:
        yield conn
        if i == stall:
            print("uncommitted", flush=True)
            time.sleep(60)

scenarios.transaction = stalling
for i in range(10_000):
    # Names repeat every 4 saves: fresh inserts first, then in-place overwrites; both must be all-or-nothing.
    sid = scenarios.save(db, f"s{i % 4}", {"level": "subdistrict", "i": i}, {"i": i}, result(i), str(i),
                         overwrite=True)
    print(sid, i, flush=True)
"""


def _child(db, stall=-1):
    return subprocess.Popen([sys.executable, "-c", CHILD, str(db), str(stall)], stdout=subprocess.PIPE,
                            text=True, cwd=REPO_ROOT, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})


def _kill(proc) -> list[tuple[int, int]]:
    """SIGKILL the child; returns the (id, i) of every save it reported as committed."""
    os.kill(proc.pid, signal.SIGKILL)
    rest = proc.stdout.read()
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    return [tuple(map(int, ln.split())) for ln in rest.split("\n") if ln and ln != "uncommitted"]


def _check_consistent(db) -> dict[int, int]:
    """Integrity is ok and every listed scenario loads whole, all parts from one save; returns id -> i."""
    if not userdb.is_database_url(db):
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    seen = {}
    for info in scenarios.list_scenarios(db):
        s = scenarios.load(db, info.id)
        i = s.settings["i"]
        assert s.frame["i"] == i and s.store_version == str(i) and info.n_areas == len(s.result)
        assert len(s.result) == 20_000 + i * 1000 and (s.result["score"] == i).all()
        assert s.result["code"].iloc[-1] == f"{len(s.result) - 1:06d}"
        seen[s.id] = i
    return seen


@pytest.mark.parametrize("stall,expect", [
    (3, [0, 1, 2]),      # killed inside a new insert: it is absent
    (5, [4, 1, 2, 3]),   # killed inside an overwrite of s1: s1 keeps save 1
])
def test_sigkill_inside_a_save_keeps_the_previous_state(db, stall, expect):
    proc = _child(db, stall)
    lines = []
    try:
        while (line := proc.stdout.readline().strip()) != "uncommitted":
            assert line, "child ended early"
            lines.append(tuple(map(int, line.split())))
    finally:
        lines += _kill(proc)
    seen = _check_consistent(db)
    assert [seen[sid] for sid in sorted(seen)] == expect
    assert lines[-1][1] == stall - 1 and seen[lines[-1][0]] == stall - 1  # the last completed save is intact


def test_sigkill_at_random_moments(db):
    """Several children on the same file, each killed wherever it happens to be (often mid-save)."""
    rng = np.random.default_rng(7)
    for _ in range(3):
        proc = _child(db)
        try:
            assert proc.stdout.readline(), "child died before saving"
            time.sleep(rng.uniform(0, 0.25))
        finally:
            lines = _kill(proc)
        seen = _check_consistent(db)
        if lines:
            sid, i = lines[-1]
            assert seen[sid] >= i  # a later save may have committed before it could print
        assert seen


def test_concurrent_saves_from_threads(db):
    scenarios.save(db, "warm-up", FRAME, SETTINGS, shortlist(), "v")  # create the schema once
    errors, taken = [], []

    def work(t):
        try:
            for k in range(15):
                scenarios.save(db, f"t{t}-{k}", FRAME, {"t": t, "k": k}, shortlist(), "v")
                try:
                    scenarios.save(db, f"race-{k}", FRAME, {"t": t}, shortlist(), "v")
                    taken.append(k)
                except ScenarioError:
                    pass  # the other thread got this name first
        except Exception as exc:  # surfaces in the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in (1, 2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    names = [i.name for i in scenarios.list_scenarios(db)]
    assert len(names) == 1 + 30 + 15 and len(set(names)) == len(names)
    assert sorted(taken) == list(range(15))  # each contested name went to exactly one thread


def test_first_use_from_many_threads_at_once(tmp_path):
    """Sessions may start together on a new install: creating the schema must not race.

    SQLite's switch to WAL fails at once (no busy handler) when it races another opener; it did so
    in about 1 round in 15, so run enough rounds on fresh files to catch it."""
    for round_ in range(30):
        db = tmp_path / f"user{round_}.sqlite"
        start, errors = threading.Barrier(8), []

        def work(t):
            start.wait()
            try:
                if t % 2:
                    scenarios.list_scenarios(db)
                else:
                    scenarios.save(db, f"n{t}", FRAME, SETTINGS, shortlist(), "v")
            except Exception as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert errors == [] and len(scenarios.list_scenarios(db)) == 4, round_


def test_damaged_file_is_reported_and_kept(tmp_path):
    db = tmp_path / "povmap.sqlite"
    junk = b"this is a spreadsheet, not a database\n" * 200
    db.write_bytes(junk)
    for call in (lambda: scenarios.list_scenarios(db), lambda: connect(db),
                 lambda: scenarios.save(db, "x", FRAME, SETTINGS, shortlist(), "v")):
        with pytest.raises(UserDBError) as e:
            call()
        assert str(db) in e.value.en and str(db) in e.value.th
        assert "move the file aside" in e.value.en and "ย้ายไฟล์" in e.value.th
        assert "povmap.sqlite.damaged" in e.value.en
    assert db.read_bytes() == junk


def test_busy_db_says_try_again(db_file, monkeypatch):
    db = db_file
    scenarios.save(db, "a", FRAME, SETTINGS, shortlist(), "v")
    monkeypatch.setattr(userdb, "BUSY_TIMEOUT_MS", 100)
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another process in the middle of a save
        with pytest.raises(UserDBError, match="busy"):
            scenarios.save(db, "b", FRAME, SETTINGS, shortlist(), "v")
        assert [i.name for i in scenarios.list_scenarios(db)] == ["a"]  # WAL: reading goes on meanwhile
    finally:
        holder.close()


def test_newer_schema_is_refused(db_file):
    db = db_file
    connect(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(UserDBError, match="newer"):
        scenarios.list_scenarios(db)


def test_connect_sets_up_the_db(tmp_path):
    db = tmp_path / "new" / "dir" / "u.sqlite"
    conn = connect(db)
    try:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() > 0
        assert conn.exec_driver_sql("PRAGMA user_version").scalar() == SCHEMA_VERSION
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == HEAD
    finally:
        conn.close()


# ---- PostgreSQL going away: several servers share one, and it restarts or fails over now and then -----------------

@pytest.fixture
def own_postgres():
    """A PostgreSQL server for one test, which it may stop and start."""
    from deploy.cluster import Postgres

    pg = Postgres().init().start()
    yield pg
    userdb.dispose(pg.url)
    pg.remove()


def test_a_page_is_told_when_postgres_is_unreachable(own_postgres):
    url = own_postgres.url
    scenarios.save(url, "kept", FRAME, SETTINGS, shortlist(), "v")
    own_postgres.stop()
    with pytest.raises(UserDBError) as e:
        scenarios.list_scenarios(url)
    assert "cannot be reached" in e.value.en and "ติดต่อเซิร์ฟเวอร์ฐานข้อมูลไม่ได้" in e.value.th
    for text in (e.value.en, e.value.th):  # no address, and never the password
        assert own_postgres.password not in text and "127.0.0.1" not in text and "postgresql" not in text
    own_postgres.start()
    assert [i.name for i in scenarios.list_scenarios(url)] == ["kept"]


def test_saves_ride_out_ten_seconds_without_postgres(own_postgres):
    """Saves go on while PostgreSQL is stopped for 10 s: a save in flight fails with the message and leaves nothing;
    a save begun during the outage waits and commits; every committed save is there, whole."""
    url, done, failed, changed = own_postgres.url, [], [], threading.Condition()
    stop = threading.Event()

    def saver():
        i = 0
        while not stop.is_set():
            try:
                sid = scenarios.save(url, f"s{i}", FRAME, {"i": i}, shortlist(), str(i))
                outcome = done, (sid, i, time.monotonic())
            except UserDBError as exc:
                outcome = failed, (i, exc)
            with changed:
                outcome[0].append(outcome[1])
                changed.notify_all()
            i += 1

    def saved_after(t: float, n: int) -> bool:
        return sum(1 for *_, at in done if at > t) >= n

    thread = threading.Thread(target=saver)
    thread.start()
    try:
        with changed:
            assert changed.wait_for(lambda: len(done) >= 3, timeout=60)
        own_postgres.stop()
        restarted = threading.Timer(10, own_postgres.start)
        restarted.start()
        restarted.join()
        back = time.monotonic()
        with changed:
            assert changed.wait_for(lambda: saved_after(back, 3), timeout=60)
    finally:
        stop.set()
        thread.join()
    assert all("cannot be reached" in exc.en for _, exc in failed)
    assert len(failed) <= 1  # at most the save the stop cut off; the next one waited for the server
    listed = {i.id: i for i in scenarios.list_scenarios(url)}
    assert set(listed) == {sid for sid, *_ in done}  # every committed save, and nothing half-written
    for sid, i, _ in done:
        s = scenarios.load(url, sid)
        assert (s.name, s.settings, s.store_version) == (f"s{i}", {"i": i}, str(i))


def test_a_wrong_statement_on_postgres_is_not_taken_for_an_outage(pg_url):
    with pytest.raises(sa.exc.ProgrammingError), userdb.reading(pg_url) as conn:
        conn.execute(sa.text("SELECT no_such_column FROM scenario"))
    with pytest.raises(sa.exc.IntegrityError), userdb.transaction(pg_url) as conn:
        conn.execute(sa.text("INSERT INTO role_grant VALUES ('', 'admin', '', 'x', 'y')"))  # a blank user id
