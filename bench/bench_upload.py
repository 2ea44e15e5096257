"""Validate and import a 1,000,000-household file: time and peak memory against the targets (≤ 20 s, ≤ 2 GB); then
serve it: a subdistrict-level household view (tiers and dimensions) and the serving process's memory.

    .venv/bin/python bench/bench_upload.py                      # 1,000,000 households, codes and names
    .venv/bin/python bench/bench_upload.py --households 200000 --variants codes --json bench/results/upload.json

The file is made by resampling the store's synthetic households (seeded) with fresh ids, written as the
documented household CSV (variant ``codes``) or with Thai tambon/district/province names instead of the
code (variant ``names``, which exercises geothai name matching). Each run happens in a fresh Python process
that checks the file as ``povmap data import --max-mb`` does (``povmap.data.uploads.check_path``: a file over 64 MiB
is read in blocks, its accepted rows staged on disk) and calls ``import_dataset(..., "all_or_nothing")``
into a temporary user data folder, and reports wall time per phase and peak RSS
(``VmHWM``, which includes the interpreter and pandas).
A second fresh process then serves the imported dataset as a server would (``open_engine`` on it): the first
subdistrict-level household view of all Thailand (tiers 1-2, every dimension), the same view again and one with
other tiers, and that process's resident memory, beside the same for the built-in household file (235,704 rows).
With ``--households 5000000`` this is issue 18's national file: import ≤ 60 s and ≤ 3 GB, a view ≤ 1 s, memory
that does not grow with the file.
Exits 0 whatever the figures (it is a report) and 2 when a run fails.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
TARGET_SECONDS, TARGET_MB = 20.0, 2048.0  # 1,000,000 households (issue 5)
NATIONAL = 5_000_000, 60.0, 3072.0  # from this many households on: issue 18's national file

# VmHWM, this process's own peak: getrusage's ru_maxrss survives exec, so a child would report the bench's own peak
# (it generated the file) when that is higher.
_PEAK = r"""
def peak_mb():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024
"""

_CHILD = _PEAK + r"""
import json, sys, time
t0 = time.perf_counter()
from pathlib import Path
from povmap.data import uploads as U
from povmap.data.uploads import places
places.current_codes()  # geothai's lists load once per server, not per upload
ready = time.perf_counter()
base_mb = peak_mb()
path = Path(sys.argv[1])
size = path.stat().st_size
t1 = time.perf_counter()
report = U.check_path(path, kind="households", max_bytes=size, root=sys.argv[2])
t3 = time.perf_counter()
info = U.import_dataset(report, "all_or_nothing", root=sys.argv[2])
report.discard()
t4 = time.perf_counter()
print(json.dumps({
    "rows": report.rows, "accepted": report.accepted, "problems": len(report.problems),
    "bytes": size, "imports_s": ready - t0, "check_s": t3 - t1, "in_blocks": report.staged is not None,
    "import_s": t4 - t3, "total_s": t4 - t1, "peak_mb": peak_mb(),
    "baseline_mb": base_mb, "dataset": info.id, "coverage": info.coverage}))
"""


_SERVE = _PEAK + r"""
import json, sys, time
t0 = time.perf_counter()
from povmap.core import config
from povmap.core.engine import Query
from povmap.data.datasource import choose, open_engine


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


root, dataset = sys.argv[1], sys.argv[2]
engine = open_engine(choose(config.load(user_data=root), use=[dataset] if dataset != "builtin" else []))
engine.boundaries("subdistrict")
ready, before = time.perf_counter(), rss_mb()
views = []
for tiers in ((1, 2), (1, 2), (1,)):
    t = time.perf_counter()
    r = engine.compute(Query(dataset="households", level="subdistrict", tiers=tiers, metric="households"))
    views.append(time.perf_counter() - t)
print(json.dumps({"open_s": ready - t0, "first_view_s": views[0], "view_s": views[1], "other_tiers_s": views[2],
                  "areas": int(r.table["count"].notna().sum()), "rss_before_mb": before, "rss_mb": rss_mb(),
                  "peak_mb": peak_mb()}))
"""


def serve(root: str, dataset: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", _SERVE, root, dataset], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def make_file(n: int, variant: str, path: Path, seed: int = 1) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from povmap.core.areas import admin_areas
    from povmap.core.households import HOUSEHOLD_COLUMNS
    from povmap.data.datasource import open_data

    hh = open_data().households
    rng = np.random.default_rng(seed)
    df = hh.iloc[rng.integers(0, len(hh), n)][list(HOUSEHOLD_COLUMNS)].reset_index(drop=True)
    df["household_id"] = [f"B{i:08d}" for i in range(n)]
    if variant == "names":
        a = admin_areas().set_index("code")["name_th"]
        sub = df.pop("subdistrict_code")
        uniq = sub.unique()
        names = {c: (a[c], a[c[:4]], a[c[:2]]) for c in uniq}
        df.insert(1, "ตำบล", sub.map({c: v[0] for c, v in names.items()}))
        df.insert(2, "อำเภอ", sub.map({c: v[1] for c, v in names.items()}))
        df.insert(3, "จังหวัด", sub.map({c: v[2] for c, v in names.items()}))
    table = pa.Table.from_pandas(df, preserve_index=False)
    pacsv.write_csv(table, path, write_options=pacsv.WriteOptions(quoting_style="needed"))


def run(path: Path) -> dict:
    with tempfile.TemporaryDirectory(prefix="povmap-bench-upload-") as root:
        proc = subprocess.run([sys.executable, "-c", _CHILD, str(path), root], cwd=REPO, capture_output=True,
                              text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr[-3000:])
        out = json.loads(proc.stdout.strip().splitlines()[-1])
        out["serve"] = serve(root, out["dataset"])
        out["serve_builtin"] = serve(root, "builtin")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--households", type=int, default=1_000_000)
    ap.add_argument("--variants", default="codes,names", help="comma-separated: codes, names")
    ap.add_argument("--runs", type=int, default=1, help="runs per variant (the median is reported)")
    ap.add_argument("--keep", type=Path, help="keep the generated files in this folder (and reuse them)")
    ap.add_argument("--json", type=Path, help="write every run here")
    args = ap.parse_args(argv)
    out_dir = args.keep or Path(tempfile.mkdtemp(prefix="povmap-bench-files-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    results, failed = {}, False
    target_s, target_mb = NATIONAL[1:] if args.households >= NATIONAL[0] else (TARGET_SECONDS, TARGET_MB)
    for variant in args.variants.split(","):
        path = out_dir / f"households_{args.households}_{variant}.csv"
        t = time.perf_counter()
        if not (args.keep and path.exists()):  # a kept file is the same file (the generator is seeded)
            make_file(args.households, variant, path)
            print(f"{variant}: generated {path.stat().st_size / 1e6:,.1f} MB in {time.perf_counter() - t:.1f} s",
                  flush=True)
        runs = []
        for _ in range(args.runs):
            try:
                runs.append(run(path))
            except RuntimeError as exc:
                print(f"{variant}: FAILED\n{exc}")
                failed = True
                break
        if not runs:
            continue
        runs.sort(key=lambda r: r["total_s"])
        r = runs[len(runs) // 2]
        results[variant] = {"median": r, "runs": runs}
        ok_t, ok_m = r["total_s"] <= target_s, r["peak_mb"] <= target_mb
        print(f"{variant}: {r['rows']:,} rows ({r['bytes'] / 1e6:,.1f} MB), accepted {r['accepted']:,}, "
              f"problems {r['problems']}")
        how = "in blocks" if r["in_blocks"] else "whole"
        print(f"  check ({how}) {r['check_s']:.2f} s + import {r['import_s']:.2f} s "
              f"= {r['total_s']:.2f} s  [{'PASS' if ok_t else 'FAIL'} ≤ {target_s:.0f} s]")
        print(f"  peak RSS {r['peak_mb']:,.0f} MB (interpreter + libraries {r['baseline_mb']:,.0f} MB)  "
              f"[{'PASS' if ok_m else 'FAIL'} ≤ {target_mb:,.0f} MB]")
        for label, v in (("this file", r["serve"]), ("built-in file", r["serve_builtin"])):
            print(f"  serving {label}: first subdistrict view {v['first_view_s']:.2f} s, again {v['view_s']:.3f} s, "
                  f"other tiers {v['other_tiers_s']:.3f} s; RSS {v['rss_mb']:,.0f} MB (peak {v['peak_mb']:,.0f} MB)")
    if not args.keep:
        for p in out_dir.glob("*.csv"):
            p.unlink()
        out_dir.rmdir()
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"households": args.households, "results": results}, indent=1))
    return 2 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
