#!/usr/bin/env python3
"""Load test (issue 7): one povmap server, N concurrent sessions changing the explorer's filters.

One ``streamlit run app.py`` on a free loopback port (its own throw-away ``POVMAP_USER_DB`` and
``POVMAP_USER_DATA``) serves ``--sessions`` sessions (default 20) that, for ``--seconds`` (default
60), each change one filter at a time and wait for the finished script run before the next change:
a dimension pill, the metric, the level, the scope, or the province. Reported: reruns completed,
errors (an exception or error box on the page, a script that did not compile, a websocket that
failed or closed), lost responses (a change with no finished run within ``--change-timeout``),
changes that did not change the view (the address bar, which the explorer keeps equal to the view,
stayed the same), p50/p95 rerun latency as the client sees it and the server's own script time,
and the server's resident memory (the whole process tree) at start, after one session, after all
N and at the end, with the growth per session ``(RSS_N − RSS_1)/(N − 1)``.

**Websocket clients, not 20 browser pages.** Each session is a websocket client speaking
Streamlit's own protocol, as the browser does: ``BackMsg.rerun_script`` with the widget state of
the changed widget (the label the browser would send: ``string_value`` for a selectbox,
``string_array_value`` for pills), and ``ForwardMsg`` deltas back until ``script_finished``. The
server does exactly the work it does for a browser. Twenty Chromium pages are not used because
on this 2-core machine, without a GPU, every page rasterises its deck.gl map in software: one
subdistrict repaint keeps a renderer busy for seconds (see "Peers" in ``bench/README.md``), so 20
pages would measure Chromium's fight with the server for the same two cores, not the server.
The clients report no cached message hashes, so the server sends every element in full on every
run (a browser may get unchanged big elements as a hash reference): the bytes are an upper bound.

The sessions make changes back to back with no think time (``--think-ms`` adds one), so the
latencies are those of a saturated server: with N sessions each waits for about N runs. The views
stay regional: nationwide subdistrict maps (3 MB each) are left to ``bench_explorer.py`` and
``bench_peers.py``; subdistricts are shown for one province or a province group.

Memory: after the server is healthy (start); after session 1 has opened and visited every kind
of view the load uses, so that the shared data (boundaries, TPMAP tables, imports) is loaded
(after 1 session); after the other N − 1 sessions have opened (after all N); and at the end of
the load. Before each reading the server must be idle (the spatial warm-up thread compiles numba
kernels after the first session). The tree includes the headless Chromium that the app keeps for
PNG/PDF exports. RSS from psutil when it is installed, else from ``/proc``.

    .venv/bin/python bench/bench_load.py [--sessions 20] [--seconds 60] [--json bench/results/load.json]

Exit status 0 whatever the figures are; 2 if the run itself breaks (the server does not start,
the first session cannot open, or the hard time limit ``--max-wall`` is reached).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import signal
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from _stats import load_avg, ms, summary  # bench/ is on sys.path when a script runs
from bench_peers import HEALTH_DEADLINE_S, REPO, BenchError, Server, git_head, snapshot, wait_idle

PAGE_KEY = "explorer.{}.th"  # the explorer's widget keys in the default language (Thai)
WIDGETS = ("dims", "metric", "level", "scope", "province")
# How often each kind of change is picked (province only while the scope is one province).
ACTIONS = {"dims": 4, "metric": 2, "level": 2, "scope": 1.5, "province": 1.5}
# The deterministic tour session 1 makes before "after 1 session": every kind of view the load uses.
WARM_UP_TOUR = (("level", 1), ("scope", 1), ("level", 2), ("metric", 1), ("dims", None), ("scope", 3),
                ("province", 5), ("level", 0), ("scope", 0))
SCOPE_ALL, SCOPE_ONE = 0, 3  # indexes of "all of Thailand" and "one province" in the scope box
LEVEL_SUBDISTRICT = 2


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def pct(values, q: float):
    """The ``q``-th percentile (0–100) by linear interpolation; None without samples."""
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def server_runs(server: Server, offset: int) -> list[dict]:
    """The ``bench-run {json}`` lines of the server's script runs after ``offset``. Under load two runner
    threads can print at once and share a line, so the records are found anywhere in the text."""
    with open(server.log_path, "rb") as f:
        f.seek(offset)
        text = f.read().decode("utf-8", "replace")
    return [json.loads(m) for m in re.findall(r"bench-run (\{[^{}]*\})", text)]


# ---------------------------------------------------------------------------------------------
# Server memory
# ---------------------------------------------------------------------------------------------
def tree_rss_mb(pid: int) -> dict:
    """RSS of the server process and of its whole process tree, MB (10^6 bytes)."""
    try:
        import psutil
    except ImportError:
        psutil = None
    if psutil is not None:
        try:
            root = psutil.Process(pid)
            procs = [root, *root.children(recursive=True)]
            rss = {}
            for p in procs:
                try:
                    rss[p.pid] = p.memory_info().rss
                except psutil.Error:
                    pass
            return {"main": rss.get(pid, 0) / 1e6, "tree": sum(rss.values()) / 1e6, "procs": len(rss), "via": "psutil"}
        except psutil.Error:
            return {"main": None, "tree": None, "procs": 0, "via": "psutil"}
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdecimal():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    todo, rss = [pid], {}
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/statm") as f:
                rss[p] = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            continue
        todo.extend(children.get(p, []))
    return {"main": rss[pid] / 1e6 if pid in rss else None, "tree": sum(rss.values()) / 1e6, "procs": len(rss),
            "via": "/proc"}


# ---------------------------------------------------------------------------------------------
# One session: a websocket client speaking Streamlit's protocol
# ---------------------------------------------------------------------------------------------
class Session:
    """A browser tab without the browser: opens the explorer, then changes one filter per rerun."""

    def __init__(self, idx: int, ws_url: str, rng: random.Random, change_timeout: float):
        self.idx, self.ws_url, self.rng, self.change_timeout = idx, ws_url, rng, change_timeout
        self.ws = None
        self.page_hash = ""
        self.query = ""
        self.widgets: dict[str, object] = {}  # name -> the widget's latest proto
        self.values: dict[str, object] = {}  # name -> the label(s) the session shows (what the browser holds)
        self.samples: list[dict] = []
        self.errors: list[str] = []
        self.lost = 0
        self.reconnects = 0

    async def open(self) -> dict:
        import websockets

        self.ws = await websockets.connect(self.ws_url, subprotocols=["streamlit"], max_size=None,
                                           ping_interval=None, open_timeout=self.change_timeout)
        self.page_hash, self.query, self.widgets, self.values = "", "", {}, {}
        return await self.rerun(None, "open")

    async def close(self) -> None:
        if self.ws is not None:
            try:
                await self.ws.close()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass
            self.ws = None

    async def rerun(self, state, action: str) -> dict:
        """Send one rerun request (``state``: a WidgetState, or None for the first run) and read
        until the run it started has finished. Returns the sample (also kept in ``samples``)."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
        from websockets.exceptions import ConnectionClosed, WebSocketException

        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = self.query
        cs.page_script_hash = self.page_hash
        if state is not None:
            cs.widget_states.widgets.append(state)
        before = self.query
        rec = {"session": self.idx, "action": action, "t": time.time(), "ms": None, "bytes": 0, "ok": False}
        t0 = time.perf_counter()
        started, errors = False, []
        try:
            await self.ws.send(msg.SerializeToString())
            deadline = time.monotonic() + self.change_timeout
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError
                data = await asyncio.wait_for(self.ws.recv(), timeout=left)
                rec["bytes"] += len(data)
                fm = ForwardMsg()
                fm.ParseFromString(data)
                kind = fm.WhichOneof("type")
                if kind == "new_session":
                    started = True
                elif kind == "delta" and started:
                    self._element(fm.delta, errors)
                elif kind == "navigation":
                    self.page_hash = fm.navigation.page_script_hash or self.page_hash
                elif kind == "page_info_changed":
                    self.query = fm.page_info_changed.query_string
                elif kind == "session_event" and fm.session_event.WhichOneof("type") == "script_compilation_exception":
                    errors.append("script compilation error")
                elif kind == "script_finished" and started:
                    status = fm.script_finished
                    if status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                        started = False  # st.rerun(): the follow-up run finishes the change
                        continue
                    if status == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                        errors.append("script did not compile")
                    break
        except (TimeoutError, asyncio.TimeoutError):
            self.lost += 1
            rec["lost"] = True
            errors.append(f"no finished run within {self.change_timeout:.0f} s")
        except (ConnectionClosed, WebSocketException, OSError) as exc:
            errors.append(f"websocket: {type(exc).__name__}: {exc}")
            rec["ws_error"] = True
        else:
            rec["ms"] = ms(t0)
            rec["ok"] = not errors
            # Every change alters the view, so the address bar (the explorer keeps it = the view) must change.
            rec["applied"] = state is None or self.query != before
        rec["errors"] = errors
        self.errors.extend(errors)
        self.samples.append(rec)
        return rec

    def _element(self, delta, errors: list[str]) -> None:
        if delta.WhichOneof("type") != "new_element":
            return
        el = delta.new_element
        kind = el.WhichOneof("type")
        if kind == "exception":
            errors.append(f"exception on page: {el.exception.type}: {el.exception.message[:200]}")
        elif kind == "alert" and el.alert.format == el.alert.ERROR:
            errors.append(f"error box on page: {el.alert.body[:200]}")
        elif kind in ("selectbox", "button_group"):
            proto = getattr(el, kind)
            for name in WIDGETS:
                if proto.id.endswith("-" + PAGE_KEY.format(name)):
                    self.widgets[name] = proto
                    if proto.set_value or name not in self.values:  # the server set it, or first sight
                        if kind == "selectbox":
                            self.values[name] = proto.raw_value or proto.options[proto.default]
                        else:
                            self.values[name] = list(proto.raw_values) or [proto.options[i].content
                                                                            for i in proto.default]

    # ---- changes ------------------------------------------------------------------------
    def choices(self) -> list[str]:
        scope_one = self.values.get("scope") == self._label("scope", SCOPE_ONE)
        return [a for a in ACTIONS if a in self.widgets and (a != "province" or scope_one)]

    def _label(self, name: str, index: int) -> str | None:
        proto = self.widgets.get(name)
        return proto.options[index] if proto is not None and index < len(proto.options) else None

    def change(self, action: str, index: int | None = None):
        """The WidgetState of one change (a different option of ``action``; ``index`` picks it), or None."""
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        proto = self.widgets[action]
        ws = WidgetState()
        ws.id = proto.id
        if action == "dims":
            options = [o.content for o in proto.options]
            current = [o for o in options if o in self.values.get("dims", options)]
            flip = options[index] if index is not None else self.rng.choice(options)
            new = [o for o in current if o != flip] if flip in current else [o for o in options if o in current or o == flip]
            if not new:  # keep at least one dimension: the page asks for one otherwise
                new = [self.rng.choice([o for o in options if o != flip])]
            ws.string_array_value.data[:] = new
            self.values["dims"] = new
            return ws
        options = list(proto.options)
        if index is None:
            allowed = [i for i, o in enumerate(options) if o != self.values.get(action)]
            level_sub = self.values.get("level") == self._label("level", LEVEL_SUBDISTRICT)
            if action == "level" and self.values.get("scope") == self._label("scope", SCOPE_ALL):
                allowed = [i for i in allowed if i != LEVEL_SUBDISTRICT]  # no nationwide subdistrict map
            if action == "scope" and level_sub:
                allowed = [i for i in allowed if i != SCOPE_ALL]
            if not allowed:
                return None
            index = self.rng.choice(allowed)
        if options[index] == self.values.get(action):
            return None
        ws.string_value = options[index]
        self.values[action] = options[index]
        return ws

    async def step(self, action: str | None = None, index: int | None = None) -> dict | None:
        action = action or self.rng.choices(self.choices(), weights=[ACTIONS[a] for a in self.choices()])[0]
        if action not in self.widgets:
            return None
        state = self.change(action, index)
        if state is None:
            return None
        return await self.rerun(state, action)


# ---------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------
async def load_phase(sessions: list[Session], seconds: float, think_ms: float, rss_samples: list,
                     pids: int | list[int]) -> None:
    """Every session changes filters for ``seconds``; the memory of the servers ``pids`` is read once a second."""
    pids = [pids] if isinstance(pids, int) else pids
    stop = time.monotonic() + seconds

    async def drive(s: Session) -> None:
        while time.monotonic() < stop:
            rec = await s.step()
            if rec is not None and (rec.get("lost") or rec.get("ws_error")):
                # A lost or broken session starts over on a new connection, as a user would reload.
                await s.close()
                s.reconnects += 1
                try:
                    await s.open()
                except Exception as exc:  # noqa: BLE001 - counted, and the session gives up
                    s.errors.append(f"reconnect failed: {type(exc).__name__}: {exc}")
                    return
            if think_ms:
                await asyncio.sleep(think_ms / 1000)  # the user's think time between two changes

    async def sample_rss() -> None:
        while time.monotonic() < stop:
            readings = [tree_rss_mb(p) for p in pids]
            rss_samples.append({"t": time.time(), **readings[0]} if len(pids) == 1 else
                               {"t": time.time(), "per_server": readings})
            await asyncio.sleep(1.0)  # one memory reading per second during the load

    await asyncio.gather(sample_rss(), *(drive(s) for s in sessions))


async def run(args, server: Server, meta: dict) -> dict:
    ws_url = server.url.replace("http://", "ws://") + "/_stcore/stream"
    rng = random.Random(args.seed)
    sessions = [Session(i, ws_url, random.Random(rng.random()), args.change_timeout) for i in range(args.sessions)]
    pid = server.proc.pid
    out: dict = {"memory": {}, "rss_during_load": []}
    idle = lambda: wait_idle([server], max_s=args.idle_max)  # noqa: E731

    out["memory"]["start"] = tree_rss_mb(pid)
    log(f"start: server RSS {out['memory']['start']['tree']:.0f} MB")

    first = sessions[0]
    rec = await first.open()
    if not rec["ok"]:
        raise BenchError(f"session 1 could not open the explorer: {rec['errors']}")
    out["first_run_ms"] = rec["ms"]
    log(f"session 1 open: first run {rec['ms'] / 1000:.1f} s (imports, data)")
    for action, index in WARM_UP_TOUR:
        r = await first.step(action, index)
        if r is not None and not r["ok"]:
            raise BenchError(f"session 1 failed on its warm-up tour ({action}): {r['errors']}")
    out["warm_up"] = [s for s in first.samples]
    waited = await asyncio.to_thread(idle)
    out["memory"]["after_1"] = tree_rss_mb(pid)
    log(f"after 1 session (warm-up tour, idle after {waited:.0f} s): RSS {out['memory']['after_1']['tree']:.0f} MB")

    opened = await asyncio.gather(*(s.open() for s in sessions[1:]), return_exceptions=True)
    bad = [o for o in opened if isinstance(o, BaseException) or not o["ok"]]
    if bad:
        log(f"{len(bad)} session(s) failed to open: {bad[:3]}")
    out["open_ms"] = [o["ms"] for o in opened if not isinstance(o, BaseException)]
    waited = await asyncio.to_thread(idle)
    out["memory"]["after_n"] = tree_rss_mb(pid)
    log(f"after {args.sessions} sessions (idle after {waited:.0f} s): RSS {out['memory']['after_n']['tree']:.0f} MB")

    offset = server.log_offset()
    for s in sessions:
        s.samples.clear()
    log(f"load: {args.sessions} sessions × {args.seconds:.0f} s, load average {load_avg()} …")
    cpu0, t0 = time.process_time(), time.perf_counter()
    await load_phase(sessions, args.seconds, args.think_ms, out["rss_during_load"], pid)
    out["load_wall_s"] = time.perf_counter() - t0
    out["client_cpu_s"] = time.process_time() - cpu0
    out["memory"]["end"] = tree_rss_mb(pid)
    out["server_runs"] = server_runs(server, offset)
    out["samples"] = [r for s in sessions for r in s.samples]
    out["sessions"] = [{"session": s.idx, "changes": len(s.samples), "lost": s.lost, "reconnects": s.reconnects,
                        "errors": s.errors[:20]} for s in sessions]
    await asyncio.gather(*(s.close() for s in sessions))
    return out


def aggregate(res: dict, n: int) -> dict:
    samples = res["samples"]
    done = [r for r in samples if r["ms"] is not None]
    lat = [r["ms"] for r in done]
    server_ms = [r["ms"] for r in res["server_runs"]]
    mem = res["memory"]
    growth = {k: ((mem["after_n"][k] - mem["after_1"][k]) / (n - 1) if n > 1 and mem["after_n"][k] is not None
                  and mem["after_1"][k] is not None else None) for k in ("tree", "main")}
    peak = max((r["tree"] for r in res["rss_during_load"] if r["tree"] is not None), default=None)
    by_action = {a: summary([r["ms"] for r in done if r["action"] == a]) for a in ACTIONS}
    return {
        "changes_sent": len(samples),
        "reruns_completed": len(done),
        "reruns_per_s": len(done) / res["load_wall_s"] if res["load_wall_s"] else None,
        "errors": sum(len(r["errors"]) for r in samples if not r.get("lost")),
        "error_examples": sorted({e for r in samples for e in r["errors"]})[:10],
        "lost": sum(1 for r in samples if r.get("lost")),
        "ws_errors": sum(1 for r in samples if r.get("ws_error")),
        "not_applied": sum(1 for r in done if r.get("applied") is False),
        "reconnects": sum(s["reconnects"] for s in res["sessions"]),
        "latency_ms": {**summary(lat), "p50": pct(lat, 50), "p95": pct(lat, 95)},
        "server_ms": {**summary(server_ms), "p50": pct(server_ms, 50), "p95": pct(server_ms, 95)},
        "latency_by_action": by_action,
        "bytes_per_rerun": summary([r["bytes"] for r in done]),
        "rss_mb": {k: mem[k] for k in ("start", "after_1", "after_n", "end")},
        "rss_peak_tree_mb": peak,
        "growth_per_session_mb": growth,
        "growth_per_session_end_mb": ((mem["end"]["tree"] - mem["after_1"]["tree"]) / (n - 1) if n > 1 else None),
    }


def report(meta: dict, agg: dict) -> str:
    out = []
    p = out.append

    def num(v, digits=0, unit=""):
        return "—" if v is None else f"{v:,.{digits}f}{unit}"

    lat, srv = agg["latency_ms"], agg["server_ms"]
    p("")
    p(f"povmap load test — {meta['date']} — {meta['host']} ({meta['cpus']} CPUs, load {meta['load_start']} → "
      f"{meta['load_end']}) — code {meta['code']}")
    p(f"{meta['sessions']} websocket sessions × {meta['seconds']:.0f} s on one `streamlit run app.py` "
      f"(streamlit {meta['versions']['streamlit']}); think time {meta['think_ms']:.0f} ms; seed {meta['seed']}")
    p("")
    rows = [
        ("filter changes sent", num(agg["changes_sent"])),
        ("reruns completed", f"{agg['reruns_completed']:,} ({num(agg['reruns_per_s'], 1)}/s)"),
        ("errors (page exception/error box, compile, ws)", num(agg["errors"])),
        ("lost responses (no finished run in time)", num(agg["lost"])),
        ("changes that did not change the view", num(agg["not_applied"])),
        ("session reconnects", num(agg["reconnects"])),
        ("rerun latency p50 / p95, ms (client: sent → finished)", f"{num(lat['p50'])} / {num(lat['p95'])} "
                                                                  f"[{num(lat['min'])}–{num(lat['max'])}]"),
        ("server script time p50 / p95, ms", f"{num(srv['p50'])} / {num(srv['p95'])} (n={srv['n']})"),
        ("bytes per rerun, median [max], MB", f"{num((agg['bytes_per_rerun']['median'] or 0) / 1e6, 2)} "
                                              f"[{num((agg['bytes_per_rerun']['max'] or 0) / 1e6, 2)}]"),
    ]
    for label, value in rows:
        p(f"  {label:<56} {value}")
    p("")
    p("  latency by change, median [min–max] ms: " + "; ".join(
        f"{a} {num(s['median'])} [{num(s['min'])}–{num(s['max'])}] ×{s['n']}"
        for a, s in agg["latency_by_action"].items() if s["n"]))
    p("")
    p(f"  {'server RSS, MB':<28} {'process tree':>13} {'server process':>15} {'processes':>10}")
    labels = {"start": "start (healthy, no session)", "after_1": "after 1 session",
              "after_n": f"after all {meta['sessions']}", "end": "end of the load"}
    for key, label in labels.items():
        m = agg["rss_mb"][key]
        p(f"  {label:<28} {num(m['tree']):>13} {num(m['main']):>15} {m['procs']:>10}")
    g = agg["growth_per_session_mb"]
    p(f"  {'peak during the load':<28} {num(agg['rss_peak_tree_mb']):>13}")
    p(f"  growth per session (RSS_N − RSS_1)/(N − 1): {num(g['tree'], 2)} MB (tree), {num(g['main'], 2)} MB "
      f"(server process); at the end of the load: {num(agg['growth_per_session_end_mb'], 2)} MB (tree)")
    if agg["error_examples"]:
        p("")
        p("  error examples: " + " | ".join(agg["error_examples"]))
    p("")
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=20, help="concurrent sessions (default 20)")
    ap.add_argument("--seconds", type=float, default=60.0, help="length of the load phase (default 60)")
    ap.add_argument("--think-ms", type=float, default=0.0, help="pause between a session's changes (default 0)")
    ap.add_argument("--change-timeout", type=float, default=60.0,
                    help="seconds a change may wait for its finished run before it counts as lost (default 60)")
    ap.add_argument("--idle-max", type=float, default=240.0,
                    help="longest wait for an idle server before a memory reading (default 240 s)")
    ap.add_argument("--max-wall", type=float, default=None,
                    help="hard limit for the whole run, seconds (default: 420 + --seconds + --change-timeout)")
    ap.add_argument("--seed", type=int, default=7, help="random seed of the sessions' changes")
    ap.add_argument("--json", help="also write every sample and the summary to this JSON file")
    ap.add_argument("--in-place", action="store_true",
                    help="run the server on the working tree instead of a copy taken at the start")
    args = ap.parse_args(argv)
    if args.sessions < 1 or args.seconds <= 0:
        ap.error("--sessions must be ≥ 1 and --seconds > 0")
    max_wall = args.max_wall or 420 + args.seconds + args.change_timeout
    if args.json:
        args.json = os.path.abspath(args.json)

    os.chdir(REPO)
    sys.path.insert(0, str(REPO))
    import streamlit
    import websockets

    from povmap.core.config import store_dir
    from povmap.data.store import Store, StoreError

    try:
        store = Store(store_dir())
    except StoreError as exc:
        log(f"{exc}\n(run `make store` first)")
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="povmap-load-"))
    log(f"server log and user data in {tmp}")
    env = {**os.environ, "POVMAP_STORE": str(store.path.resolve()), "POVMAP_USER_DB": str(tmp / "user.sqlite"),
           "POVMAP_USER_DATA": str(tmp / "user_data")}
    meta = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "host": platform.node(),
        "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "load_start": load_avg(), "python": platform.python_version(), "sessions": args.sessions,
        "seconds": args.seconds, "think_ms": args.think_ms, "change_timeout_s": args.change_timeout,
        "seed": args.seed, "store": str(store.path), "code": git_head(),
        "versions": {"streamlit": streamlit.__version__, "websockets": websockets.__version__},
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
    }

    def too_long(signum, frame):
        raise BenchError(f"hard time limit of {max_wall:.0f} s reached")

    signal.signal(signal.SIGALRM, too_long)
    signal.alarm(int(max_wall))
    server = None
    try:
        root = REPO if args.in_place else snapshot(tmp / "code")
        server = Server("povmap-load", "app.py", tmp, env, root)
        server.wait_healthy(time.monotonic() + HEALTH_DEADLINE_S)
        res = asyncio.run(run(args, server, meta))
    except BenchError as exc:
        log(f"load test aborted: {exc}")
        if server is not None:
            log(server.tail())
        return 2
    finally:
        signal.alarm(0)
        if server is not None:
            server.stop()
    meta["load_end"] = load_avg()
    agg = aggregate(res, args.sessions)
    print(report(meta, agg))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"meta": meta, "summary": agg, **res}, f, ensure_ascii=False, indent=1, default=str)
        log(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
