#!/usr/bin/env python3
"""Benchmark of the static exports: the map PNG (``povmap.present.mapimage.map_png``) and the area brief PDF
(``povmap.present.brief.area_brief_pdf``), seconds per file, warm.

One Python process and one ``Engine`` on the installed store, as the app holds them. It reports:

1. cold: the first call of each case in the process (the first one also starts headless Chromium, and each
   builds its per-engine SVG paths);
2. warm: ``--runs`` rounds over the cases (round robin, so machine noise hits every case alike), median / min /
   max, with PASS/FAIL against the targets (map PNG ≤ 3 s, province brief ≤ 8 s, median).

Cases: the national province map and Kalasin's subdistricts as 1920×1080 slides (Thai), and the province brief
of Kalasin (46, Thai).

    .venv/bin/python bench/bench_exports.py [--runs N] [--store DIR] [--json OUT]

Writes ``bench/results/exports.json`` by default. Exit status 0 whatever the figures are (it is a report);
2 if an export fails.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from _stats import load_avg  # noqa: E402 (bench/ is on sys.path when a script runs)

TARGETS_S = {"png": 3.0, "pdf": 8.0}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="warm rounds over the cases (default 5)")
    ap.add_argument("--store", help="installed store (default: $POVMAP_STORE or data/store)")
    ap.add_argument("--json", default=str(REPO / "bench" / "results" / "exports.json"),
                    help="where to write every sample and the summary (default bench/results/exports.json)")
    args = ap.parse_args(argv)
    if args.runs < 1:
        ap.error("--runs must be at least 1")

    from povmap.core import config
    from povmap.core.engine import Query
    from povmap.data.datasource import open_engine
    from povmap.data.store import StoreError
    from povmap.present.brief import area_brief_pdf
    from povmap.present.mapimage import SLIDE, map_png

    try:
        engine = open_engine(config.load(store=args.store))
    except StoreError as exc:
        print(f"no usable store: {exc}", file=sys.stderr)
        return 2
    cases = {  # name -> (kind, call)
        "map_png_provinces": ("png", lambda: map_png(engine, Query(level="province"), lang="th", size=SLIDE)),
        "map_png_46_subdistricts": ("png", lambda: map_png(engine, Query(level="subdistrict", scope="46"), lang="th",
                                                           size=SLIDE)),
        "brief_pdf_province_46": ("pdf", lambda: area_brief_pdf(engine, "46", lang="th")),
    }
    print(f"bench_exports  {datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC}  host {platform.node()}  "
          f"cpus {os.cpu_count()}  load {load_avg()}\n")

    cold: dict[str, float] = {}
    times: dict[str, list[float]] = {name: [] for name in cases}
    sizes: dict[str, int] = {}
    try:
        for name, (_, call) in cases.items():
            t0 = time.perf_counter()
            sizes[name] = len(call())
            cold[name] = time.perf_counter() - t0
        for _ in range(args.runs):
            for name, (_, call) in cases.items():
                t0 = time.perf_counter()
                call()
                times[name].append(time.perf_counter() - t0)
    except Exception as exc:  # a report, but a failing export is a failure
        print(f"export failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2

    print("cold: first call of each case in this process (the first starts Chromium), s")
    for name, t in cold.items():
        print(f"  {name:<26} {t:>7.2f}")
    print(f"\nwarm: {args.runs} rounds, s (median [min–max])")
    summary, verdicts = {}, []
    for name, (kind, _) in cases.items():
        s = times[name]
        summary[name] = {"median": statistics.median(s), "min": min(s), "max": max(s), "n": len(s),
                         "bytes": sizes[name], "target_s": TARGETS_S[kind]}
        ok = summary[name]["median"] <= TARGETS_S[kind]
        verdicts.append(ok)
        print(f"  {name:<26} {summary[name]['median']:>7.2f} [{min(s):.2f}–{max(s):.2f}]  {sizes[name] / 1e3:>6,.0f} kB   "
              f"target ≤ {TARGETS_S[kind]:.0f} s: {'PASS' if ok else 'FAIL'}")
    print(f"\nload at end {load_avg()}")
    print("overall:", "PASS" if all(verdicts) else "FAIL")

    out = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "host": platform.node(),
           "cpus": os.cpu_count(), "python": platform.python_version(), "runs": args.runs, "load_end": load_avg(),
           "cold_s": cold, "warm_s": summary, "samples_s": times}
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(out, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
