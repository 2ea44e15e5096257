#!/usr/bin/env python3
"""Benchmark of ``povmap.present.profile.build_profile``: milliseconds per profile at each level.

One Python process, one ``Engine`` on the installed store (as the app holds it). It reports:

1. the Engine's construction and the first ("cold") ``build_profile`` call at each level, in the
   order province → district → subdistrict: these load the store tables a profile needs and build
   the per-engine indexes (figure tables with sibling ranks, village, household and population indexes);
2. warm calls: ``--runs`` rounds over the sample codes (round robin, so machine noise hits every
   code alike), median / min / max per level and per code, with PASS/FAIL against the target
   (≤ 150 ms median per level).

    .venv/bin/python bench/bench_profile.py [--runs N] [--store DIR] [--json OUT]

Exit status 0 whatever the figures are (it is a report); 2 if a profile cannot be built.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from _stats import load_avg, ms, summary  # noqa: E402 (bench/ is on sys.path when a script runs)

TARGET_MS = 150.0
# A few areas per level: an ordinary one, a large one, Bangkok (no TPMAP data), an abolished code
# that profiles its successor, a district with TPMAP non-DOPA units (4601), a subdistrict without a TPMAP row.
SAMPLES = {
    "province": ["46", "30", "10", "84"],
    "district": ["4601", "3001", "1001", "8405"],
    "subdistrict": ["460102", "300101", "840503", "530306", "460101"],
}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=30, help="warm rounds over the sample codes (default 30)")
    ap.add_argument("--store", help="installed store (default: $POVMAP_STORE or data/store)")
    ap.add_argument("--json", help="also write every sample and the summary to this JSON file")
    args = ap.parse_args(argv)
    if args.runs < 1:
        ap.error("--runs must be at least 1")

    t0 = time.perf_counter()
    import pandas as pd

    from povmap.core import config
    from povmap.data.datasource import open_engine
    from povmap.data.store import StoreError
    from povmap.present.profile import build_profile
    import_ms = ms(t0)

    try:
        t0 = time.perf_counter()
        engine = open_engine(config.load(store=args.store))
        store = engine.data
        engine_ms = ms(t0)
    except StoreError as exc:
        print(f"no usable store: {exc}", file=sys.stderr)
        return 2

    print(f"bench_profile  {datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC}  host {platform.node()}  "
          f"cpus {os.cpu_count()}  load {load_avg()}")
    print(f"python {platform.python_version()}  pandas {pd.__version__}  store {store.path}")
    print(f"imports {import_ms:,.0f} ms   Engine(store) {engine_ms:,.0f} ms\n")

    cold: dict[str, tuple[str, float]] = {}
    try:
        for level, codes in SAMPLES.items():  # first call per level: loads tables, builds indexes
            t0 = time.perf_counter()
            build_profile(engine, codes[0])
            cold[level] = (codes[0], ms(t0))
        for codes in SAMPLES.values():  # the other samples once each (their first call is not timed)
            for code in codes[1:]:
                build_profile(engine, code)
        times: dict[str, list[float]] = {c: [] for codes in SAMPLES.values() for c in codes}
        for _ in range(args.runs):
            for codes in SAMPLES.values():
                for code in codes:
                    t0 = time.perf_counter()
                    build_profile(engine, code)
                    times[code].append(ms(t0))
    except Exception as exc:  # a report, but a failing profile is a failure
        print(f"build_profile failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2

    print("cold: first call at each level on a fresh engine (store tables + per-engine indexes), ms")
    for level, (code, t) in cold.items():
        print(f"  {level:<12} {code:<7} {t:>8,.1f}")

    print(f"\nwarm: {args.runs} rounds over the samples, ms (median [min–max])")
    print(f"  {'level':<12} {'code':<7} {'median':>8} {'min':>8} {'max':>8}")
    result = {"level": {}, "code": {}}
    verdicts = []
    for level, codes in SAMPLES.items():
        for code in codes:
            s = summary(times[code])
            result["code"][code] = s
            print(f"  {level:<12} {code:<7} {s['median']:>8.1f} {s['min']:>8.1f} {s['max']:>8.1f}")
        s = summary([t for c in codes for t in times[c]])
        result["level"][level] = s
        ok = s["median"] <= TARGET_MS
        verdicts.append(ok)
        print(f"  {level:<12} {'all':<7} {s['median']:>8.1f} {s['min']:>8.1f} {s['max']:>8.1f}   "
              f"target ≤ {TARGET_MS:.0f} ms median: {'PASS' if ok else 'FAIL'}")
    print(f"\nload at end {load_avg()}")
    print("overall:", "PASS" if all(verdicts) else "FAIL")

    if args.json:
        out = {
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "host": platform.node(),
            "cpus": os.cpu_count(), "python": platform.python_version(), "pandas": pd.__version__,
            "runs": args.runs, "target_ms": TARGET_MS, "import_ms": import_ms, "engine_ms": engine_ms,
            "cold_ms": {lv: {"code": c, "ms": t} for lv, (c, t) in cold.items()},
            "warm_ms": result, "samples_ms": times,
        }
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(out, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
