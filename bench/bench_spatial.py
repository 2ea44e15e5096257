#!/usr/bin/env python3
"""Benchmark of ``povmap.pilot.spatial``: Queen contiguity, LISA and Gi* at subdistrict level.

One Python process on the installed store. It reports, as median [min–max] of ``--runs`` runs:

1. ``national_contiguity`` for the 7,423 subdistrict polygons (built once per process by the app);
2. for the subdistricts of the 20 PPAOS provinces and of all Thailand that have a TPMAP rate:
   ``contiguity`` (induced subgraph + island links, from the prebuilt national graph) and ``clusters``
   (LISA + Gi* + global Moran, 999 permutations), with esda's ``n_jobs=1`` and ``n_jobs=-1`` alternating
   (A B A B), and a check that both give identical tables;
3. where the ``clusters`` time goes (esda's Moran_Local, G_Local and global Moran called alone);
4. numba compilation, which esda pays once per process: the first call in this process for each
   ``n_jobs``, and ``spatial.warm_up()`` in fresh processes with an empty and then a filled numba cache
   (``--no-cold`` skips these; they take a minute or two).

    .venv/bin/python bench/bench_spatial.py [--runs N] [--store DIR] [--json OUT] [--no-cold]

Target: contiguity + clusters for all of Thailand's subdistricts ≤ 3 s median (graph prebuilt, warm).
Exit status 0 whatever the figures are (it is a report); 2 if no store or a computation fails.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from _stats import load_avg, summary  # noqa: E402 (bench/ is on sys.path when a script runs)

TARGET_S = 3.0
SCOPES = ("ppaos20", "all")
COLD_SNIPPET = "import time; from povmap import spatial; t = time.perf_counter(); spatial.warm_up(); " \
               "print(time.perf_counter() - t)"


def timed(fn, *args, **kw):
    t0 = time.perf_counter()
    out = fn(*args, **kw)
    return out, time.perf_counter() - t0


def fmt(s: dict) -> str:
    return f"{s['median']:>7.3f} [{s['min']:.3f}–{s['max']:.3f}]"


def cold_compile(cache_dir: str) -> float:
    """Seconds of ``warm_up()`` in a fresh process whose numba cache is ``cache_dir``."""
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)  # numba looks here before esda's own __pycache__
    out = subprocess.run([sys.executable, "-c", COLD_SNIPPET], cwd=REPO, env=env, check=True,
                         capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="timed runs per figure (default 5)")
    ap.add_argument("--store", help="installed store (default: $POVMAP_STORE or data/store)")
    ap.add_argument("--json", default=str(REPO / "bench" / "results" / "spatial.json"),
                    help="write every sample and the summary here (default bench/results/spatial.json)")
    ap.add_argument("--no-cold", action="store_true", help="skip the fresh-process compile measurements")
    args = ap.parse_args(argv)
    if args.runs < 1:
        ap.error("--runs must be at least 1")

    t0 = time.perf_counter()
    import esda
    import numpy as np
    import pandas as pd

    from povmap.core import config
    from povmap.core.engine import Query
    from povmap.core.groups import group_provinces
    from povmap.data.datasource import open_engine
    from povmap.data.store import StoreError
    from povmap.pilot import spatial
    import_s = time.perf_counter() - t0

    try:
        engine = open_engine(config.load(store=args.store))
        store = engine.data
        shapes = store.shapes("subdistrict")
    except StoreError as exc:
        print(f"no usable store: {exc}", file=sys.stderr)
        return 2

    print(f"bench_spatial  {datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC}  host {platform.node()}  "
          f"cpus {os.cpu_count()}  load {load_avg()}")
    print(f"python {platform.python_version()}  esda {esda.__version__}  numba {_numba_version()}  "
          f"store {store.path}")
    print(f"imports {import_s:.1f} s   runs {args.runs}\n")

    samples: dict[str, list[float]] = {}
    try:
        graphs = [timed(spatial.national_contiguity, shapes) for _ in range(args.runs)]
        national = graphs[0][0]
        samples["national_contiguity"] = [s for _, s in graphs]

        values = {}
        for scope in SCOPES:
            t = engine.compute(Query(level="subdistrict", scope=scope, metric="rate")).table
            values[scope] = t.set_index("code")["value"].dropna()
        provinces = {scope: len({c[:2] for c in values[scope].index}) for scope in SCOPES}
        assert provinces["ppaos20"] <= len(group_provinces("ppaos20"))

        first: dict[str, float] = {}
        conts, results = {}, {}
        for scope in SCOPES:
            conts[scope] = spatial.contiguity(national, shapes, values[scope].index)
        for n_jobs in (1, -1):  # the first call per n_jobs compiles esda's numba kernels
            results[n_jobs], first[f"n_jobs={n_jobs}"] = timed(spatial.clusters, values["all"], conts["all"],
                                                             n_jobs=n_jobs)
        same = results[1].table.equals(results[-1].table)

        for scope in SCOPES:
            for _ in range(args.runs):
                cont, s = timed(spatial.contiguity, national, shapes, values[scope].index)
                samples.setdefault(f"{scope}/contiguity", []).append(s)
                for n_jobs in (1, -1):
                    _, s = timed(spatial.clusters, values[scope], cont, n_jobs=n_jobs)
                    samples.setdefault(f"{scope}/clusters n_jobs={n_jobs}", []).append(s)

        cont = conts["all"]
        y = values["all"].reindex(cont.codes).to_numpy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            for _ in range(args.runs):
                for name, fn in (
                    ("Moran_Local", lambda: esda.Moran_Local(y, cont.graph, permutations=999, seed=1,
                                                             keep_simulations=False)),
                    ("G_Local", lambda: esda.G_Local(y, cont.graph, transform="B", star=True, permutations=999,
                                                     seed=1, n_jobs=1, keep_simulations=False)),
                    ("Moran (global)", lambda: esda.Moran(y, cont.graph, permutations=999)),
                ):
                    samples.setdefault(f"all/part {name}", []).append(timed(fn)[1])
    except Exception as exc:  # a report, but a failing computation is a failure
        print(f"spatial computation failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2

    cold: dict[str, float] = {}
    if not args.no_cold:
        with tempfile.TemporaryDirectory() as cache:
            cold["warm_up, empty numba cache"] = cold_compile(cache)
            cold["warm_up, filled numba cache"] = cold_compile(cache)

    stats = {k: summary(v) for k, v in samples.items()}
    print("areas: " + "   ".join(f"{scope} {len(conts[scope].codes):,} subdistricts in {provinces[scope]} provinces, "
                                 f"{len(conts[scope].islands)} islands, {conts[scope].components} components"
                                 for scope in SCOPES))
    print(f"\nseconds, median [min–max] of {args.runs}")
    print(f"  {'national_contiguity (7,423 polygons)':<40} {fmt(stats['national_contiguity'])}")
    for scope in SCOPES:
        for key in (f"{scope}/contiguity", f"{scope}/clusters n_jobs=1", f"{scope}/clusters n_jobs=-1"):
            print(f"  {key:<40} {fmt(stats[key])}")
    for key in [k for k in stats if "/part " in k]:
        print(f"  {key:<40} {fmt(stats[key])}")
    print(f"\n  n_jobs=1 and n_jobs=-1 give identical tables: {same}")
    print("\nfirst call in this process (numba compilation of esda's kernels), s")
    for key, s in first.items():
        print(f"  clusters, all, {key:<25} {s:>7.1f}")
    for key, s in cold.items():
        print(f"  fresh process, {key:<25} {s:>7.1f}")

    best = min((1, -1), key=lambda j: stats[f"all/clusters n_jobs={j}"]["median"])
    total = stats["all/contiguity"]["median"] + stats[f"all/clusters n_jobs={spatial.N_JOBS}"]["median"]
    ok = total <= TARGET_S
    print(f"\nfaster n_jobs for all Thailand: {best} (povmap uses {spatial.N_JOBS})")
    print(f"all Thailand, contiguity + clusters (n_jobs={spatial.N_JOBS}, graph prebuilt): {total:.2f} s   "
          f"target ≤ {TARGET_S:.0f} s: {'PASS' if ok else 'FAIL'}")
    print(f"load at end {load_avg()}")

    out = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "host": platform.node(),
        "cpus": os.cpu_count(), "python": platform.python_version(), "esda": esda.__version__,
        "numba": _numba_version(), "pandas": pd.__version__, "numpy": np.__version__, "runs": args.runs,
        "areas": {s: {"n": len(conts[s].codes), "provinces": provinces[s], "islands": list(conts[s].islands),
                      "components": conts[s].components} for s in SCOPES},
        "target_s": TARGET_S, "total_all_s": total, "pass": ok, "n_jobs_used": spatial.N_JOBS,
        "n_jobs_identical": same, "first_call_s": first, "cold_process_s": cold,
        "summary_s": stats, "samples_s": samples,
    }
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(out, indent=1), encoding="utf-8")
    return 0


def _numba_version() -> str:
    try:
        import numba
        return numba.__version__
    except ImportError:
        return "absent"


if __name__ == "__main__":
    sys.exit(main())
