"""Faults, end to end (issue 7): a server killed during a scenario save, and a damaged data store.

**Killed during a save.** A browser click cannot time a kill to land inside a save: a save is one
SQLite transaction of a few milliseconds inside a page run of a second or more. So the saves
happen in a loop inside the server process itself: this file, run as a script with ``--saving``,
starts a thread that saves real Kalasin shortlists through ``povmap.scenarios.save`` (what the
pilot page's "save" button calls), overwriting four Thai names in turn with a changing top-N,
and then runs Streamlit's own CLI (``streamlit run app.py``) in the same process. Each save
writes "begin" before and "done" after to a log. The test waits until a randomly chosen save
is in flight ("begin" without "done") and SIGKILLs the server's process group at once. Then a
plain ``streamlit run app.py`` restarts on the same user database, and the browser:

* reopens the last completed save (``/pilot?scenario=<id>``): the page recomputes it and says
  the list matches the saved one ("ตรงกับที่บันทึกไว้");
* reads the saved-scenario list: exactly the names in the database, each with its full count.

The database must pass ``PRAGMA integrity_check``, hold every completed save as logged, and for
the save the kill interrupted either the old or the new shortlist, never a mix.

**Damaged store.** A copy of the data store is served by its own server (``POVMAP_STORE``); each
case restores it, then deletes, truncates or garbles one file (or the manifest) and stamps the
manifest with a new build time, so the app builds a new engine as after a reinstall. The page
must name the file and the rebuild command (``povmap data install --force``) with no traceback.

Waits are on the health endpoint, the script-finished state, elements present and the save log.
"""
from __future__ import annotations

import json
import random
import shutil
import sqlite3
import sys
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import Page, expect  # noqa: E402

from browser_helpers import (  # noqa: E402
    LOAD_TIMEOUT_MS, REPO_ROOT, AppServer, assert_no_traceback, health, wait_rendered, wait_script_done,
)
from test_pilot_browser import MATCHES_SAVED, main, success_alert  # noqa: E402

pytestmark = pytest.mark.e2e

ARTIFACTS = REPO_ROOT / "test-artifacts" / "e2e"
NAMES = ("ทดสอบ ก", "ทดสอบ ข", "ทดสอบ ค", "ทดสอบ ง")  # the loop overwrites these in turn
SAVED_LABEL = "สถานการณ์ที่บันทึกไว้"
REBUILD = "povmap data install --force"
SAVES_DEADLINE_S = 180  # the saving server computes Kalasin's criteria first (numba kernels compile)


# ---- the saving server (this file run as a script) ---------------------------------------------

def _save_loop(log_path: Path) -> None:
    """Save Kalasin shortlists as the pilot page does, for ever; "begin"/"done" lines in ``log_path``."""
    with open(log_path, "a", encoding="utf-8") as log:
        def write(**event) -> None:
            log.write(json.dumps(event, ensure_ascii=False) + "\n")
            log.flush()

        try:
            from povmap import areamanagers, pilot, scenarios
            from povmap.config import store_dir
            from povmap.criteria import Frame
            from povmap.metrics import Engine
            from povmap.store import Store
            from povmap.userdb import user_db_path

            db, engine = user_db_path(), Engine(Store(store_dir()))
            crit = pilot.criteria_set(engine, Frame(scope="46", level="subdistrict"), pilot.Settings(),
                                      areamanagers.list_coverage(db))
            keys = list(crit.values.columns)  # the page's order: its settings then compare equal on reopening
            for i in range(10**9):
                settings = pilot.Settings(weights=tuple((k, pilot.DEFAULT_WEIGHTS[k]) for k in keys),
                                          enabled=tuple(keys), top_n=5 + i % 11)
                result = pilot.run(crit, settings)
                table = pilot.shortlist_table(result)
                name, codes = NAMES[i % len(NAMES)], table["code"].tolist()
                write(event="begin", i=i, name=name, codes=codes)
                sid = scenarios.save(db, name, result.frame.as_dict(), result.settings.as_dict(), table,
                                     engine.store.version, overwrite=True)
                write(event="done", i=i, name=name, codes=codes, id=sid)
        except BaseException as exc:  # noqa: BLE001 - the test reads it from the log and fails with it
            write(event="error", error=f"{type(exc).__name__}: {exc}")


def _saving_server(log_path: Path, streamlit_args: list[str]) -> None:
    sys.path.insert(0, str(REPO_ROOT))
    threading.Thread(target=_save_loop, args=(log_path,), name="fault-save-loop", daemon=True).start()
    from streamlit.web.cli import main as streamlit_main

    sys.argv = ["streamlit", *streamlit_args]
    streamlit_main(prog_name="streamlit")


# ---- test helpers --------------------------------------------------------------------------------

def _events(log_path: Path) -> list[dict]:
    try:
        lines = log_path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    events = []
    for line in lines:
        try:
            events.append(json.loads(line))
        except ValueError:  # the line being written
            break
    return events


def _kill_during_save(server: AppServer, log_path: Path, target: int) -> list[dict]:
    """SIGKILL the server as soon as save number ``target`` (0-based) or a later one is in flight."""
    deadline = time.monotonic() + SAVES_DEADLINE_S
    while True:
        events = _events(log_path)
        if events and events[-1]["event"] == "error":
            pytest.fail(f"the save loop failed: {events[-1]['error']}\n{server.tail()}")
        if events and events[-1]["event"] == "begin" and events[-1]["i"] >= target:
            server.kill()
            return _events(log_path)
        if server.proc.poll() is not None:
            pytest.fail(f"the saving server exited by itself:\n{server.tail()}")
        if time.monotonic() > deadline:
            pytest.fail(f"save {target} not reached in {SAVES_DEADLINE_S} s ({len(events)} log lines)")
        time.sleep(0.001)  # poll interval: a save takes a few milliseconds


def _user_env(tmp: Path) -> dict[str, str]:
    return {"POVMAP_USER_DB": str(tmp / "user.sqlite"), "POVMAP_USER_DATA": str(tmp / "user_data")}


def saved_list(page: Page) -> list[str]:
    """The options of the saved-scenario box ("name · count · date"). A click can land while the charts
    above still settle and the list does not open; then the box is clicked again (at most 3 times)."""
    box = main(page).get_by_role("combobox", name=SAVED_LABEL, exact=True)
    options = page.get_by_role("option")
    for attempt in range(3):
        box.click()
        try:
            expect(options.first).to_be_visible(timeout=5_000)
            break
        except AssertionError:
            if attempt == 2:
                raise
            page.keyboard.press("Escape")
    listed = options.all_inner_texts()
    page.keyboard.press("Escape")
    return listed


@pytest.fixture
def servers():
    """The test's own servers, stopped after ``app_page`` took its screenshot (list this fixture first)."""
    started: list[AppServer] = []
    yield started
    for server in reversed(started):
        server.stop()


# ---- killed during a save ---------------------------------------------------------------------

def test_kill_during_scenario_save_then_restart_keeps_complete_saves(servers, app_page: Page, tmp_path: Path):
    from povmap import scenarios

    page = app_page
    env, db, log_path = _user_env(tmp_path), tmp_path / "user.sqlite", tmp_path / "saves.jsonl"
    seed = random.randrange(10**6)
    target = random.Random(seed).randint(2, 10)  # inserts while < 4, then overwrites
    saving = AppServer(ARTIFACTS / "faults-saving-server.log", env,
                       entry=[sys.executable, str(Path(__file__).resolve()), "--saving", str(log_path)])
    servers.append(saving)
    saving.wait_healthy()
    events = _kill_during_save(saving, log_path, target)
    done = [e for e in events if e["event"] == "done"]
    in_flight = events[-1] if events[-1]["event"] == "begin" else None
    assert done, "no save completed before the kill"
    last = done[-1]
    latest = {e["name"]: e for e in done}  # each name's last completed save

    server = AppServer(ARTIFACTS / "faults-restarted-server.log", env)
    servers.append(server)
    server.wait_healthy()
    # The last completed save reopens, and the page finds the same shortlist when it recomputes it.
    page.goto(f"{server.url}/pilot?scenario={last['id']}")
    expect(success_alert(page, MATCHES_SAVED).filter(has_text=last["name"])).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    wait_script_done(page, LOAD_TIMEOUT_MS)
    wait_rendered(page)
    assert_no_traceback(page)
    listed = saved_list(page)
    assert health(server.url) == "ok"

    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    infos = scenarios.list_scenarios(db)
    stored = {i.name: scenarios.load(db, i.id) for i in infos}
    # The list shows exactly what is stored, each with its whole shortlist ("name · count · date").
    shown = {text.split(" · ")[0]: int(text.split(" · ")[1]) for text in listed}
    assert shown == {name: len(sc.result) for name, sc in stored.items()}
    assert all(len(sc.result) == i.n_areas for i, sc in zip(infos, stored.values()))
    # Every completed save is there as it was logged; the interrupted one is all old or all new.
    assert stored[last["name"]].result["code"].tolist() == last["codes"]
    for name, sc in stored.items():
        codes = sc.result["code"].tolist()
        allowed = [e["codes"] for e in (latest.get(name), in_flight) if e and e["name"] == name]
        assert codes in allowed, f"{name}: {codes} is neither its last completed save nor the interrupted one"
    assert set(latest) <= set(stored)
    landed = in_flight is not None and stored.get(in_flight["name"]) is not None \
        and stored[in_flight["name"]].result["code"].tolist() == in_flight["codes"]
    print(f"seed {seed}: killed during save {events[-1]['i']} ({'committed' if landed else 'not committed'}"
          f" when killed); {len(done)} saves completed")


# ---- a damaged store --------------------------------------------------------------------------

def _truncate(f: Path) -> None:
    f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])


def _garble(f: Path) -> None:
    data = bytearray(f.read_bytes())
    rng, start = random.Random(1), len(data) // 4
    data[start:start + 4096] = bytes(rng.randrange(256) for _ in range(min(4096, len(data) - start)))
    f.write_bytes(bytes(data))


DAMAGE = {  # case: (file, what is done to it)
    "deleted": ("boundaries_province.parquet", Path.unlink),  # read when the engine is built
    "truncated": ("tpmap_province.parquet", _truncate),  # read by the explorer's first view
    "garbled": ("tpmap_province.parquet", _garble),
    "manifest": ("manifest.json", lambda f: f.write_text("{not json", encoding="utf-8")),
}


@pytest.fixture(scope="module")
def store_server(tmp_path_factory):
    """(server, pristine store, its copy that the server reads)."""
    from povmap.config import store_dir

    pristine = store_dir().resolve()
    tmp = tmp_path_factory.mktemp("damaged")
    copy = tmp / "store"
    shutil.copytree(pristine, copy)
    with AppServer(ARTIFACTS / "faults-store-server.log", {"POVMAP_STORE": str(copy), **_user_env(tmp)}) as server:
        server.wait_healthy()
        yield server, pristine, copy


@pytest.mark.parametrize("case", list(DAMAGE))
def test_damaged_store_file_is_named_with_the_rebuild_command(app_page: Page, store_server, case: str):
    server, pristine, copy = store_server
    name, damage = DAMAGE[case]
    shutil.copytree(pristine, copy, dirs_exist_ok=True)  # undo the previous case
    manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    manifest["built_at"] = f"{manifest['built_at']}-{case}"  # a new build: the app opens it afresh
    (copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    damage(copy / name)

    page = app_page
    page.goto(server.url + "/")
    alert = page.get_by_test_id("stAlert").filter(has_text=name)
    expect(alert).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    expect(alert).to_contain_text(REBUILD)
    wait_script_done(page, LOAD_TIMEOUT_MS)
    wait_rendered(page)
    assert_no_traceback(page)
    assert health(server.url) == "ok"


if __name__ == "__main__" and sys.argv[1:2] == ["--saving"]:
    _saving_server(Path(sys.argv[2]), sys.argv[3:])
