#!/usr/bin/env python3
"""Load test (issue 18): 100 websocket sessions through HAProxy to 1, 2 and 4 povmap servers on one PostgreSQL.

For each server count the deployment of ``deploy/cluster.py`` is started afresh (PostgreSQL, N servers through
``serve.py``, HAProxy with sticky sessions and health checks), and ``--sessions`` sessions (default 100) connect
through the balancer, which spreads them round robin. Each session is ``bench_load.py``'s websocket client speaking
Streamlit's protocol: it opens the explorer and, for ``--seconds`` (default 60), changes one filter at a time with
no pause, waiting for the finished run before the next change.

Reported per server count: reruns completed and reruns per second, errors (must be 0), lost responses (must be 0),
p50/p95 rerun latency as the client sees it, each server's resident memory at the end (the server process, and its process tree with the
Chromium it keeps for PNG/PDF exports), and the
servers' CPU seconds per rerun over the load. From the last: how many reruns per second, and how many users at a
given pace, a 16-core host would hold (one server process per core: a server runs Python scripts under one GIL).

    make bench-deps && .venv/bin/python bench/bench_cluster.py [--servers 1 2 4] [--sessions 100] [--seconds 60]

Exit status 0 whatever the figures are; 2 if the run itself breaks.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from _stats import load_avg
from bench_load import ACTIONS, Session, load_phase, log, pct, tree_rss_mb
from bench_peers import REPO, BenchError, cpu_seconds, git_head, wait_idle

sys.path.insert(0, str(REPO))
from deploy.cluster import Cluster  # noqa: E402

HOST_CORES = 16
USER_PACE_S = 10.0  # a user in a meeting changes a filter about every 10 s: the pace of the "users held" estimate


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of ``pid`` and every process below it (the export Chromium included)."""
    from server_helpers import descendants  # tests/e2e: the harness the benches share

    return sum(cpu_seconds(p) for p in {pid, *descendants(pid)})


class Probe:
    """What ``bench_peers.wait_idle`` reads of a server: its process tree's CPU time."""

    def __init__(self, pid: int):
        self.pid = pid

    def cpu_seconds(self) -> float:
        return tree_cpu_seconds(self.pid)


async def drive(cluster: Cluster, args) -> dict:
    ws_url = cluster.url.replace("http://", "ws://") + "/_stcore/stream"
    rng = random.Random(args.seed)
    sessions = [Session(i, ws_url, random.Random(rng.random()), args.change_timeout) for i in range(args.sessions)]
    # One session per server first, one after the other: each server loads its data once, as after a restart.
    for s in sessions[:cluster.n]:
        rec = await s.open()
        if not rec["ok"]:
            raise BenchError(f"session {s.idx} could not open the explorer: {rec['errors']}")
    opened = await asyncio.gather(*(s.open() for s in sessions[cluster.n:]), return_exceptions=True)
    failed_open = [o for o in opened if isinstance(o, BaseException) or not o["ok"]]
    pids = [s.proc.pid for s in cluster.servers]
    await asyncio.to_thread(wait_idle, [Probe(p) for p in pids], args.idle_max)
    for s in sessions:
        s.samples.clear()
    cpu0 = [tree_cpu_seconds(p) for p in pids]
    rss: list = []
    t0 = time.perf_counter()
    await load_phase(sessions, args.seconds, 0.0, rss, pids)
    wall = time.perf_counter() - t0
    cpu = [tree_cpu_seconds(p) - c for p, c in zip(pids, cpu0)]
    memory = [tree_rss_mb(p) for p in pids]
    await asyncio.gather(*(s.close() for s in sessions))
    samples = [r for s in sessions for r in s.samples]
    done = [r for r in samples if r["ms"] is not None]
    lat = [r["ms"] for r in done]
    return {
        "servers": cluster.n, "sessions": args.sessions, "seconds": wall, "failed_to_open": len(failed_open),
        "changes_sent": len(samples), "reruns": len(done), "reruns_per_s": len(done) / wall,
        "errors": sum(len(r["errors"]) for r in samples if not r.get("lost")) + len(failed_open),
        "error_examples": sorted({e for r in samples for e in r["errors"]})[:10],
        "lost": sum(1 for r in samples if r.get("lost")),
        "reconnects": sum(s.reconnects for s in sessions),
        "p50_ms": pct(lat, 50), "p95_ms": pct(lat, 95),
        "by_action_p50_ms": {a: pct([r["ms"] for r in done if r["action"] == a], 50) for a in ACTIONS},
        "rss_mb_per_server": [m["main"] for m in memory], "rss_tree_mb_per_server": [m["tree"] for m in memory],
        "cpu_s_per_server": cpu,
        "cpu_s_per_rerun": sum(cpu) / len(done) if done else None,
    }


def report(meta: dict, rows: list[dict]) -> str:
    def num(v, digits=0):
        return "—" if v is None else f"{v:,.{digits}f}"

    out = [f"\npovmap behind HAProxy — {meta['date']} — {meta['cpus']} CPUs, load {meta['load_start']} → "
           f"{meta['load_end']} — code {meta['code']}",
           f"{meta['sessions']} websocket sessions × {meta['seconds']:.0f} s through the balancer, no think time\n",
           f"  {'servers':>7} {'reruns/s':>9} {'× 1 server':>10} {'p50 ms':>8} {'p95 ms':>8} {'errors':>7} {'lost':>5} "
           f"{'RSS/server MB':>14} {'(with Chromium)':>16} {'CPU s/rerun':>12}"]
    base = rows[0]["reruns_per_s"] if rows else None
    for r in rows:
        out.append(f"  {r['servers']:>7} {num(r['reruns_per_s'], 1):>9} {num(r['reruns_per_s'] / base, 2):>10} "
                   f"{num(r['p50_ms']):>8} {num(r['p95_ms']):>8} {r['errors']:>7} {r['lost']:>5} "
                   f"{num(sum(r['rss_mb_per_server']) / r['servers']):>14} "
                   f"{num(sum(r['rss_tree_mb_per_server']) / r['servers']):>16} {num(r['cpu_s_per_rerun'], 3):>12}")
    best = min((r["cpu_s_per_rerun"] for r in rows if r["cpu_s_per_rerun"]), default=None)
    if best:
        rate = HOST_CORES / best
        out.append(f"\n  A {HOST_CORES}-core host ({HOST_CORES} servers, one per core) at {best:.3f} CPU s per rerun: "
                   f"about {rate:,.0f} reruns/s, i.e. about {rate * USER_PACE_S:,.0f} users changing a filter every "
                   f"{USER_PACE_S:.0f} s (CPU-bound estimate; memory {HOST_CORES} × the RSS per server above).")
    for r in rows:
        if r["error_examples"]:
            out.append(f"  errors with {r['servers']} server(s): " + " | ".join(r["error_examples"]))
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--servers", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--sessions", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--change-timeout", type=float, default=120.0,
                    help="seconds a change may wait for its finished run before it counts as lost (default 120)")
    ap.add_argument("--idle-max", type=float, default=240.0)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--json", help="also write the figures to this JSON file")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(REPO / "tests" / "e2e"))
    from povmap.core.config import store_dir

    tmp = Path(tempfile.mkdtemp(prefix="povmap-cluster-bench-"))
    log(f"logs in {tmp}")
    meta = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "cpus": os.cpu_count(),
            "load_start": load_avg(), "code": git_head(), "sessions": args.sessions, "seconds": args.seconds,
            "command": " ".join([Path(sys.executable).name, *sys.argv])}
    rows = []
    for n in args.servers:
        env = {**os.environ, "POVMAP_STORE": str(store_dir().resolve()), "POVMAP_USER_DATA": str(tmp / "user_data")}
        try:
            with Cluster(n, tmp / f"servers-{n}", env=env, cwd=REPO) as cluster:
                log(f"{n} server(s) up behind {cluster.url}; {args.sessions} sessions × {args.seconds:.0f} s …")
                rows.append(asyncio.run(drive(cluster, args)))
        except (BenchError, RuntimeError) as exc:
            log(f"cluster bench aborted with {n} server(s): {exc}")
            return 2
        log(json.dumps({k: rows[-1][k] for k in ("servers", "reruns_per_s", "p50_ms", "p95_ms", "errors", "lost")}))
    meta["load_end"] = load_avg()
    print(report(meta, rows))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"meta": meta, "rows": rows}, indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
