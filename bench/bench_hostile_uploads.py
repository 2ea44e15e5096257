"""Hostile uploads (issue 13): each is refused with a named reason within the target (≤ 5 s, ≤ 500 MB RSS).

    .venv/bin/python bench/bench_hostile_uploads.py            # 3 runs of each file
    .venv/bin/python bench/bench_hostile_uploads.py --runs 5 --json bench/results/hostile.json

Makes, in a temporary folder: an XLSX whose sheet inflates to 1 GB (2 MB packed), one inflating to 100 MB
(~200 KB), one with 1 GB of shared strings, a 4.7 MB CSV with 100,000 columns, and for comparison a valid
household CSV of 20,000 rows. Each run is a fresh Python process that imports povmap, reads the bytes and calls
``povmap.data.uploads.check``; it reports the check's wall time, the process's peak RSS
(``VmHWM`` of /proc/self/status, interpreter and libraries included) and the problem's code. Exits 0 whatever the
figures (a report) and 2 when a run crashes.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET_S, TARGET_MB = 5.0, 500.0

_CHILD = r"""
import json, sys, time
from pathlib import Path
from povmap.data import uploads as U
data = Path(sys.argv[1]).read_bytes()
t = time.perf_counter()
rep = U.check(data, Path(sys.argv[1]).name, kind="households")
s = time.perf_counter() - t
codes = rep.errors["code"].tolist()[:1] or ["accepted"]
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))  # reset by exec
print(json.dumps({"s": s, "mb": hwm / 1024, "result": codes[0],
                  "rows": rep.rows}))
"""

_CONTENT_TYPES = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                  'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
                  'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/'
                  'workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+'
                  'xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
                  'officedocument.spreadsheetml.worksheet+xml"/></Types>')
_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
         'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
         'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WB = ('<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
       'main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="s" '
       'sheetId="1" r:id="rId1"/></sheets></workbook>')
_WB_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
            'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')


def _xlsx(path: Path, parts: dict[str, object]) -> None:
    """A workbook whose parts are bytes or iterables of byte chunks (streamed: a 1 GB part never sits in memory)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WB)
        z.writestr("xl/_rels/workbook.xml.rels", _WB_RELS)
        for name, data in parts.items():
            with z.open(name, "w", force_zip64=True) as f:
                for chunk in ([data] if isinstance(data, bytes) else data):
                    f.write(chunk)


def _repeat(head: bytes, unit: bytes, total: int, tail: bytes):
    yield head
    block = unit * (1_000_000 // len(unit))
    for _ in range(total // len(block)):
        yield block
    yield tail


def _sheet(target_bytes: int):
    row = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>'
    head = b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    return _repeat(head, row, target_bytes, b"</sheetData></worksheet>")


def make_files(folder: Path) -> dict[str, Path]:
    files = {}
    files["xlsx_sheet_1gb"] = folder / "sheet_1gb.xlsx"
    _xlsx(files["xlsx_sheet_1gb"], {"xl/worksheets/sheet1.xml": _sheet(1_000_000_000)})
    files["xlsx_sheet_100mb"] = folder / "sheet_100mb.xlsx"
    _xlsx(files["xlsx_sheet_100mb"], {"xl/worksheets/sheet1.xml": _sheet(100_000_000)})
    files["xlsx_shared_strings_1gb"] = folder / "strings_1gb.xlsx"
    _xlsx(files["xlsx_shared_strings_1gb"], {"xl/worksheets/sheet1.xml": _sheet(1000),
                                             "xl/sharedStrings.xml": _repeat(b"<sst><si><t>", b"a", 1_000_000_000,
                                                                             b"</t></si></sst>")})
    files["csv_100000_columns"] = folder / "wide.csv"
    header = ",".join(f"c{i}" for i in range(100_000))
    files["csv_100000_columns"].write_text(header + "\n" + ",".join(["1"] * 100_000) * 1 + "\n")
    files["valid_20000_households"] = folder / "valid.csv"
    sys.path.insert(0, str(REPO))
    from povmap.core import households as hh
    from povmap.data.datasource import open_data

    df = open_data().households.head(20_000)
    hh.write_household_file(df, files["valid_20000_households"])
    return files


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        files = make_files(Path(tmp))
        print(f"{'file':28} {'packed':>10} {'median s':>9} {'max s':>7} {'peak MB':>8}  result")
        for name, path in files.items():
            runs = []
            for _ in range(args.runs):
                p = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True,
                                   cwd=REPO, timeout=600)
                if p.returncode:
                    print(p.stderr[-2000:], file=sys.stderr)
                    return 2
                runs.append(json.loads(p.stdout.strip().splitlines()[-1]))
            med = statistics.median(r["s"] for r in runs)
            peak = max(r["mb"] for r in runs)
            out[name] = {"bytes": path.stat().st_size, "median_s": med, "max_s": max(r["s"] for r in runs),
                         "peak_mb": peak, "result": runs[0]["result"], "runs": args.runs}
            print(f"{name:28} {path.stat().st_size / 1e6:>8.2f}MB {med:>9.3f} {out[name]['max_s']:>7.3f} "
                  f"{peak:>8.0f}  {runs[0]['result']}")
    ok = all(v["max_s"] <= TARGET_S and v["peak_mb"] <= TARGET_MB for v in out.values())
    print(f"targets (≤ {TARGET_S} s, ≤ {TARGET_MB:.0f} MB): {'met' if ok else 'NOT met'}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
