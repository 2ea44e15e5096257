#!/usr/bin/env python3
"""Benchmark of pilot-area scoring: re-ranking and the stability check on a nationwide subdistrict table.

The table is synthetic and seeded, with the shape of the real one: 7,436 subdistricts x 9 criteria
(skewed counts and rates, 0/1 cluster and coverage flags, some unknown values), about 928 districts of
uneven size, 90 % of areas eligible. It times, ``--runs`` times each, median [min–max]:

1. **re-rank** = ``normalise`` + ``composite`` + ``rank``, what a weight change costs, per normalisation
   and per shortlist rule (national top 20; best 2 of each district);
2. **stability** = ``sensitivity.stability`` with 500 draws, per rule.

    .venv/bin/python bench/bench_scoring.py [--runs N] [--json OUT]

Exit status 0 whatever the figures are (it is a report); it prints PASS/FAIL against the targets
(re-rank ≤ 200 ms, stability ≤ 1 s, medians).
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
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from _stats import load_avg, summary  # noqa: E402 (bench/ is on sys.path when a script runs)

from povmap.pilot.scoring import NORMALISATIONS, Rule, composite, normalise, rank  # noqa: E402
from povmap.pilot.sensitivity import stability  # noqa: E402

N_AREAS, N_DISTRICTS, DRAWS, SEED = 7436, 928, 500, 2566
TARGET_RERANK_MS, TARGET_STABILITY_MS = 200.0, 1000.0
WEIGHTS = {"count": 1.0, "rate": 1.0, "share": 0.5, "lisa": 0.5, "gistar": 0.5, "depth": 1.0,
           "tier1": 1.0, "coverage": 1.0, "readiness": 0.5}


def table(seed: int = SEED):
    """(criteria values, district of each area, eligibility), index = 6-digit text codes."""
    rng = np.random.default_rng(seed)
    n = N_AREAS
    sizes = rng.multinomial(n - N_DISTRICTS, rng.dirichlet(np.full(N_DISTRICTS, 3.0))) + 1  # >= 1 each
    district = np.repeat(np.arange(N_DISTRICTS), sizes)
    codes = [f"{1000 + d:04d}{i:02d}" for d, i in zip(district, np.arange(n) - np.repeat(np.cumsum(sizes) - sizes,
                                                                                         sizes) + 1)]
    idx = pd.Index(codes)
    values = pd.DataFrame({
        "count": rng.gamma(1.2, 40.0, n).round(),
        "rate": rng.beta(1.5, 30.0, n),
        "share": rng.beta(2.0, 5.0, n),
        "lisa": (rng.random(n) < 0.08).astype(float),
        "gistar": (rng.random(n) < 0.10).astype(float),
        "depth": rng.gamma(2.0, 0.5, n),
        "tier1": rng.poisson(3.0, n).astype(float),
        "coverage": (rng.random(n) < 0.30).astype(float),
        "readiness": rng.random(n),
    }, index=idx)
    for col, share in (("lisa", 0.03), ("gistar", 0.03), ("depth", 0.05), ("readiness", 0.10)):
        values.loc[rng.random(n) < share, col] = np.nan
    groups = pd.Series([f"{1000 + d:04d}" for d in district], index=idx)
    eligible = pd.Series(rng.random(n) < 0.9, index=idx)
    order = rng.permutation(n)  # rows in no particular order, as a join would leave them
    return values.iloc[order], groups.iloc[order], eligible.iloc[order]


def timed(fn, runs: int) -> list[float]:
    fn()  # warm-up (imports, first-use allocations)
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000.0)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=20, help="timed runs per figure (default 20)")
    ap.add_argument("--json", default=str(REPO / "bench" / "results" / "scoring.json"),
                    help="write every sample and the summary here (default bench/results/scoring.json)")
    args = ap.parse_args(argv)
    if args.runs < 1:
        ap.error("--runs must be at least 1")

    values, groups, eligible = table()
    rules = {"top20": (Rule(top_n=20), None), "district_k2": (Rule(per_group_k=2), groups)}
    print(f"bench_scoring  {datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC}  host {platform.node()}  "
          f"cpus {os.cpu_count()}  load {load_avg()}")
    print(f"python {platform.python_version()}  numpy {np.__version__}  pandas {pd.__version__}  "
          f"table {len(values):,} areas x {values.shape[1]} criteria, {groups.nunique()} districts, "
          f"{int(eligible.sum()):,} eligible\n")

    samples, result, verdicts = {}, {}, []
    print(f"{'figure':<34} {'median':>8} {'min':>8} {'max':>8}   (ms, {args.runs} runs)")
    for method in NORMALISATIONS:
        for name, (rule, g) in rules.items():
            def rerank(method=method, rule=rule, g=g):
                rank(composite(normalise(values, method), WEIGHTS), eligible=eligible, groups=g, rule=rule)
            key = f"rerank.{method}.{name}"
            samples[key] = timed(rerank, args.runs)
    norm = normalise(values, "percentile")
    for name, (rule, g) in rules.items():
        key = f"stability.{name}"
        samples[key] = timed(lambda rule=rule, g=g: stability(norm, WEIGHTS, eligible=eligible, groups=g, rule=rule,
                                                                draws=DRAWS), args.runs)
    for key, s in samples.items():
        result[key] = summary(s)
        target = TARGET_RERANK_MS if key.startswith("rerank") else TARGET_STABILITY_MS
        ok = result[key]["median"] <= target
        verdicts.append(ok)
        print(f"{key:<34} {result[key]['median']:>8.1f} {result[key]['min']:>8.1f} {result[key]['max']:>8.1f}   "
              f"target ≤ {target:,.0f}: {'PASS' if ok else 'FAIL'}")
    stab = stability(norm, WEIGHTS, eligible=eligible, groups=groups, rule=Rule(per_group_k=2), draws=DRAWS)
    print(f"\nstability, best 2 per district: {len(stab.table):,} shortlisted, "
          f"{int(stab.table['fragile'].sum()):,} fragile, median stay {stab.table['stay_share'].median():.2f}")
    print(f"load at end {load_avg()}")
    print("overall:", "PASS" if all(verdicts) else "FAIL")

    out = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "host": platform.node(),
        "cpus": os.cpu_count(), "load_end": load_avg(), "python": platform.python_version(),
        "numpy": np.__version__, "pandas": pd.__version__, "runs": args.runs, "areas": len(values),
        "criteria": values.shape[1], "districts": int(groups.nunique()), "draws": DRAWS, "seed": SEED,
        "target_ms": {"rerank": TARGET_RERANK_MS, "stability": TARGET_STABILITY_MS},
        "summary_ms": result, "samples_ms": samples,
    }
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(out, indent=1), encoding="utf-8")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
