#!/usr/bin/env python3
"""Benchmark of pilot-area selection (issue 3), through ``povmap.pilot`` as the page calls it.

For each frame (subdistricts of the 20 PPAOS provinces, subdistricts of all of Thailand):

1. **clustering**: contiguity (from the per-process national queen graph) + LISA + Gi* with 999 permutations,
   the step the page caches per frame. Each run uses a fresh engine memo, so nothing is reused between runs;
   the national graph build is timed separately (once per store per process).
2. **re-ranking after a weight change**: ``pilot.run`` with a new weight (normalise, score, gate, rank), no stability;
3. **re-ranking + robustness**: the same with the 500-draw weight perturbation, as the page runs it.

Targets (issue 3): clustering ≤ 3 s for all of Thailand's subdistricts, re-ranking ≤ 200 ms.

    .venv/bin/python bench/bench_pilot.py [--runs N] [--json OUT]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
import pandas as pd  # noqa: E402
from _stats import ms, summary  # noqa: E402 (bench/ is on sys.path when a script runs)

from povmap import pilot  # noqa: E402
from povmap.core import caches
from povmap.data.datasource import open_engine  # noqa: E402
from povmap.pilot.criteria import Frame  # noqa: E402

TARGETS_MS = {"clustering": 3000.0, "rerank": 200.0}
FRAMES = {"ppaos20 subdistricts": Frame(scope="ppaos20"), "Thailand subdistricts": Frame(scope="all")}
NO_AM = pd.DataFrame(columns=["manager", "code", "note"], dtype=str)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", help="write the samples and summary here")
    args = ap.parse_args(argv)
    engine = open_engine()
    t0 = time.perf_counter()
    pilot.national_graph(engine, "subdistrict")
    graph_ms = ms(t0)
    out: dict = {"national_graph_ms": graph_ms, "load": os.getloadavg(), "frames": {}}
    print(f"national queen graph (subdistricts, once per process): {graph_ms:,.0f} ms   load {os.getloadavg()[0]:.2f}")
    print(f"{'frame':<24}{'areas':>7}{'clustering ms':>22}{'re-rank ms':>20}{'re-rank+robust ms':>22}")
    for label, frame in FRAMES.items():
        pilot.cached_frame_data(engine, frame)  # criteria are cached per frame too; time them apart
        clus, rerank, robust = [], [], []
        for i in range(args.runs):
            caches.declared()["pilot.clusters"].entries(engine).clear()
            t0 = time.perf_counter()
            crit = pilot.criteria_set(engine, frame, pilot.Settings(), NO_AM)
            clus.append(ms(t0))
            w = dict(pilot.DEFAULT_WEIGHTS)
            w["rate"] = 1.0 + 0.25 * (i % 4)  # a different weight each run, as a slider move
            s = pilot.Settings(weights=tuple(w.items()))
            t0 = time.perf_counter()
            pilot.run(crit, s, with_stability=False)
            rerank.append(ms(t0))
            t0 = time.perf_counter()
            pilot.run(crit, s)
            robust.append(ms(t0))
        res = {"areas": len(crit.values), "clustering": summary(clus), "rerank": summary(rerank),
               "rerank_robust": summary(robust), "samples": {"clustering": clus, "rerank": rerank, "rerank_robust": robust}}
        out["frames"][label] = res

        def cell(s):
            return f"{s['median']:,.0f} [{s['min']:,.0f}–{s['max']:,.0f}]"
        print(f"{label:<24}{res['areas']:>7,}{cell(res['clustering']):>22}{cell(res['rerank']):>20}{cell(res['rerank_robust']):>22}")
    th = out["frames"]["Thailand subdistricts"]
    ok_c = th["clustering"]["median"] <= TARGETS_MS["clustering"]
    ok_r = max(f["rerank"]["median"] for f in out["frames"].values()) <= TARGETS_MS["rerank"]
    print(f"clustering, all of Thailand ≤ 3 s: {'PASS' if ok_c else 'FAIL'};  re-ranking ≤ 200 ms: {'PASS' if ok_r else 'FAIL'}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(out, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
