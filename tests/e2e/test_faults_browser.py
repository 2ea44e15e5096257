"""Faults, end to end (issue 7): a server killed during a scenario save or a data import, and a damaged
data store.

**Killed during a save.** A browser click cannot time a kill to land inside a save: a save is one
SQLite transaction of a few milliseconds inside a page run of a second or more. So the saves
happen in a loop inside the server process itself: this file, run as a script with ``--saving``,
starts a thread that saves real Kalasin shortlists through ``povmap.userdb.scenarios.save`` (what the
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

**Killed during an import.** The same again with ``--importing``: the loop writes the built-in
households (235,704 rows) as a user's CSV file, checks it once with ``povmap.data.uploads.check`` and,
once the server answers, imports it again and again with ``import_dataset`` (what the Data page's
"Import" calls; about 80 ms each, most of it writing the hidden ``.tmp-<id>-<pid>`` folder that is
then renamed into place), each under its own name. The test kills the server while an import is in
flight, after at least one completed, and restarts it on the same user data folder. The restarted
server's Data page (``/data``) renders without a traceback and its listing removes the hidden folder
the kill left; the registry lists exactly the imports logged as done, plus the interrupted one only
if the kill came after its rename (then whole); every listed table loads with all its rows; the
dataset in use is the last completed import (or the interrupted one, if it got that far); the
page's households picker shows it and offers exactly the built-in and the listed imports.

**Damaged store.** A copy of the data store is served by its own server (``POVMAP_STORE``); each
case restores it, then deletes, truncates or garbles one file (or the manifest) and stamps the
manifest with a new build time, so the app builds a new engine as after a reinstall. The page
must name the file and the rebuild command (``povmap data install --force``) with no traceback.

Waits are on the health endpoint, the script-finished state, elements present and the loops' logs.
"""
from __future__ import annotations

import json
import random
import re
import shutil
import sqlite3
import sys
import threading
import time
import traceback
from contextlib import contextmanager
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api")
from browser_helpers import (  # noqa: E402
    ARTIFACTS,
    LOAD_TIMEOUT_MS,
    REPO_ROOT,
    AppServer,
    assert_no_traceback,
    health,
    wait_rendered,
    wait_script_done,
    wait_settled,
)
from playwright.sync_api import Locator, Page, expect  # noqa: E402
from test_pilot_browser import MATCHES_SAVED, main, success_alert  # noqa: E402

pytestmark = pytest.mark.e2e

NAMES = ("ทดสอบ ก", "ทดสอบ ข", "ทดสอบ ค", "ทดสอบ ง")  # the loop overwrites these in turn
SAVED_LABEL = "สถานการณ์ที่บันทึกไว้"
DATA_TITLE, DATASET_LABEL = "ข้อมูล", "ชุดข้อมูล"  # the Data page's title, its pickers' label
REBUILD = "povmap data install --force"
SAVES_DEADLINE_S = 180  # the saving server computes Kalasin's criteria first (numba kernels compile)
IMPORT_NAME = "นำเข้าทดสอบ {}"  # a distinct name per import: the Data page's picker tells them apart
IMPORTS_MAX = 40  # the kill comes after a few; this bounds the disk used if it never does
IMPORTS_DEADLINE_S = 60


# ---- the looping servers (this file run as a script) -------------------------------------------

@contextmanager
def _event_log(log_path: Path):
    """A writer of one JSON event per line to ``log_path``; an exception in the block ends it as an
    "error" event, which the test reads and fails with."""
    with open(log_path, "a", encoding="utf-8") as log:
        def write(**event) -> None:
            log.write(json.dumps(event, ensure_ascii=False) + "\n")
            log.flush()

        try:
            yield write
        except BaseException as exc:  # noqa: BLE001 - reported through the log
            write(event="error", error=f"{type(exc).__name__}: {exc}", where=traceback.format_exc(limit=-6))


def _save_loop(log_path: Path) -> None:
    """Save Kalasin shortlists as the pilot page does, for ever; "begin"/"done" lines in ``log_path``."""
    with _event_log(log_path) as write:
        from povmap import pilot
        from povmap.data.datasource import open_engine
        from povmap.pilot.criteria import Frame
        from povmap.userdb import areamanagers, scenarios
        from povmap.userdb.db import user_database

        db, engine = user_database(), open_engine()
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
                                 engine.data.version, overwrite=True)
            write(event="done", i=i, name=name, codes=codes, id=sid)


def _import_loop(log_path: Path, url: str) -> None:
    """Import the built-in households as a user's CSV file, as the Data page's "Import" does, under a new
    name each time; "begin"/"done" lines in ``log_path``. The file is written and checked once; the
    imports start when the server at ``url`` answers (an import is short: they would be over before)."""
    with _event_log(log_path) as write:
        from povmap.core import households as hh
        from povmap.data import uploads as U
        from povmap.data.datasource import open_data

        path = log_path.with_name("households.csv")
        hh.write_household_file(open_data().households, path)
        report = U.check(path.read_bytes(), path.name, kind=U.KIND_HOUSEHOLDS)
        while health(url) != "ok":
            time.sleep(0.05)  # poll interval; the test's own bounded health wait fails first if it never comes
        for i in range(IMPORTS_MAX):
            name = IMPORT_NAME.format(i)
            write(event="begin", i=i, name=name)
            info = U.import_dataset(report, U.VALID_ROWS, name=name)
            write(event="done", i=i, name=name, id=info.id, rows=info.rows_accepted)
        raise RuntimeError(f"{IMPORTS_MAX} imports and no kill came")


def _looping_server(mode: str, log_path: Path, streamlit_args: list[str]) -> None:
    """``streamlit run`` with the loop of ``mode`` ("--saving" or "--importing") in a thread of the same process."""
    sys.path.insert(0, str(REPO_ROOT))
    url = f"http://127.0.0.1:{streamlit_args[streamlit_args.index('--server.port') + 1]}"
    target, args = (_save_loop, (log_path,)) if mode == "--saving" else (_import_loop, (log_path, url))
    threading.Thread(target=target, args=args, name=f"fault-loop{mode}", daemon=True).start()
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


def _kill_in_flight(server: AppServer, log_path: Path, target: int, deadline_s: float) -> list[dict]:
    """SIGKILL the server as soon as step number ``target`` (0-based) or a later one of its loop is in
    flight ("begin" is the last line of the log); the log as it is after the kill."""
    deadline = time.monotonic() + deadline_s
    while True:
        events = _events(log_path)
        if events and events[-1]["event"] == "error":
            pytest.fail(f"the server's loop failed: {events[-1]['error']}\n{events[-1].get('where', '')}\n{server.tail()}")
        if events and events[-1]["event"] == "begin" and events[-1]["i"] >= target:
            server.kill()
            return _events(log_path)
        if server.proc.poll() is not None:
            pytest.fail(f"the looping server exited by itself:\n{server.tail()}")
        if time.monotonic() > deadline:
            pytest.fail(f"step {target} not reached in {deadline_s} s ({len(events)} log lines)")
        time.sleep(0.001)  # poll interval: a save takes a few milliseconds, an import a few dozen


def _run_loop_and_kill(servers: list[AppServer], mode: str, env: dict[str, str], log_path: Path, target: int,
                       deadline_s: float) -> tuple[list[dict], list[dict], dict | None]:
    """Start this file as a ``mode`` server, kill it while step ``target`` or a later one is in flight:
    (the log, its "done" events, the "begin" event of the step the kill interrupted or None)."""
    server = AppServer(ARTIFACTS / f"faults-{mode.strip('-')}-server.log", env,
                       entry=[sys.executable, str(Path(__file__).resolve()), mode, str(log_path)])
    servers.append(server)
    server.wait_healthy()
    events = _kill_in_flight(server, log_path, target, deadline_s)
    done = [e for e in events if e["event"] == "done"]
    assert done, f"no step completed before the kill:\n{server.tail()}"
    return events, done, events[-1] if events[-1]["event"] == "begin" else None


def _restart(servers: list[AppServer], env: dict[str, str], mode: str) -> AppServer:
    """A plain ``streamlit run app.py`` on the same user files, once healthy."""
    server = AppServer(ARTIFACTS / f"faults-restarted-after-{mode.strip('-')}-server.log", env)
    servers.append(server)
    server.wait_healthy()
    return server


def _user_env(tmp: Path) -> dict[str, str]:
    return {"POVMAP_USER_DB": str(tmp / "user.sqlite"), "POVMAP_USER_DATA": str(tmp / "user_data")}


def options_of(page: Page, box: Locator) -> list[str]:
    """The options of a select box, opened once the page has settled (a list opened while the elements above
    still move closes again; see browser_helpers.wait_settled)."""
    options = page.get_by_role("option")
    wait_settled(page)
    box.evaluate("e => e.scrollIntoView({block: 'center'})")
    wait_settled(page)
    box.click()
    expect(options.first).to_be_visible()
    listed = options.all_inner_texts()
    page.keyboard.press("Escape")
    return listed


def saved_list(page: Page) -> list[str]:
    """The options of the saved-scenario box ("name · count · date")."""
    return options_of(page, main(page).get_by_role("combobox", name=SAVED_LABEL, exact=True))


@pytest.fixture
def servers():
    """The test's own servers, stopped after ``app_page`` took its screenshot (list this fixture first)."""
    started: list[AppServer] = []
    yield started
    for server in reversed(started):
        server.stop()


# ---- killed during a save ---------------------------------------------------------------------

def test_kill_during_scenario_save_then_restart_keeps_complete_saves(servers, app_page: Page, tmp_path: Path):
    from povmap.userdb import scenarios

    page = app_page
    env, db, log_path = _user_env(tmp_path), tmp_path / "user.sqlite", tmp_path / "saves.jsonl"
    seed = random.randrange(10**6)
    target = random.Random(seed).randint(2, 10)  # inserts while < 4, then overwrites
    events, done, in_flight = _run_loop_and_kill(servers, "--saving", env, log_path, target, SAVES_DEADLINE_S)
    last = done[-1]
    latest = {e["name"]: e for e in done}  # each name's last completed save

    server = _restart(servers, env, "--saving")
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


# ---- killed during a data import ---------------------------------------------------------------

def test_kill_during_data_import_then_restart_lists_complete_imports(servers, app_page: Page, tmp_path: Path):
    from povmap.data import uploads as U
    from povmap.data.datasource import open_data

    page = app_page
    env, user_data, log_path = _user_env(tmp_path), tmp_path / "user_data", tmp_path / "imports.jsonl"
    seed = random.randrange(10**6)
    target = random.Random(seed).randint(1, 4)  # at least one import completes; the picker shows them all
    _, done, in_flight = _run_loop_and_kill(servers, "--importing", env, log_path, target, IMPORTS_DEADLINE_S)
    hidden = sorted(p.name for p in user_data.iterdir() if p.name.startswith(".tmp-"))  # what the kill left

    server = _restart(servers, env, "--importing")
    page.goto(f"{server.url}/data")
    wait_script_done(page, LOAD_TIMEOUT_MS)
    expect(page.locator("h1").first).to_have_text(DATA_TITLE, timeout=LOAD_TIMEOUT_MS)
    wait_rendered(page)
    assert_no_traceback(page)
    # The restarted server's listing removed what the killed import left half-written.
    assert not [p.name for p in user_data.iterdir() if p.name.startswith(".tmp-")]

    listed = {d.name: d for d in U.list_datasets(U.KIND_HOUSEHOLDS, root=user_data)}
    landed = listed.get(in_flight["name"]) if in_flight else None  # the kill came after its rename
    landed_ids = {landed.id} if landed else set()
    assert {d.id for d in listed.values()} == {e["id"] for e in done} | landed_ids
    assert len(hidden) <= (1 if in_flight and not landed else 0), hidden  # the interrupted import's folder
    rows = len(open_data().households)
    assert {e["rows"] for e in done} == {rows}
    for d in listed.values():  # each one whole: its manifest and its table
        assert d.rows_accepted == rows and len(U.load_table(d.id, "households", root=user_data)) == rows, d.name
    active = U.active_id(U.KIND_HOUSEHOLDS, root=user_data)
    assert active in {done[-1]["id"]} | landed_ids, active  # each import makes itself the one in use

    # The page's households picker shows the one in use and offers exactly the built-in file's two rounds and
    # these imports.
    picker = main(page).get_by_role("combobox", name=DATASET_LABEL, exact=True).nth(1)
    in_use = next(d.name for d in listed.values() if d.id == active)
    expect(picker).to_have_value(re.compile(rf"^{re.escape(in_use)} \("))
    offered = options_of(page, picker)
    builtins = [i for i in U.BUILTIN_IDS if i.startswith("builtin-households")]
    assert len(builtins) == 2 and len(offered) == len(builtins) + len(listed), offered
    for name in [done[-1]["name"], *listed]:
        assert any(o.startswith(f"{name} (") for o in offered), (name, offered)
    assert health(server.url) == "ok"
    where = ("after it finished" if not in_flight else f"during import {in_flight['i']}, after its rename" if landed
             else f"during import {in_flight['i']}, before its rename ({len(hidden)} hidden folder left)")
    print(f"seed {seed}: killed {where}; {len(done)} imports completed")


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
    from povmap.core.config import store_dir

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


if __name__ == "__main__" and sys.argv[1:2] in (["--saving"], ["--importing"]):
    _looping_server(sys.argv[1], Path(sys.argv[2]), sys.argv[3:])
