"""Files made to stall the server are refused by name before the work they would cost (issue 13); the bench
(bench/bench_hostile_uploads.py) times the full-size ones."""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from povmap.data import uploads as U

P = importlib.import_module("povmap.data.uploads.parse")  # the module (the package exports its function parse)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from bench_hostile_uploads import _sheet, _xlsx  # noqa: E402  (the bench's own file makers)


def _error(rep) -> str:
    assert rep.fatal and len(rep.errors), rep.problems
    return rep.errors["code"].iloc[0]


def test_a_sheet_that_inflates_is_refused(tmp_path):
    path = tmp_path / "bomb.xlsx"
    _xlsx(path, {"xl/worksheets/sheet1.xml": _sheet(30_000_000)})
    rep = U.check(path.read_bytes(), "bomb.xlsx", kind="households")
    assert _error(rep) == "xlsx_inflates"
    assert "30.0 MB" in rep.errors["message_th"].iloc[0] and "xml" not in rep.errors["message_th"].iloc[0]


def test_too_many_columns_rows_and_cells_are_refused(monkeypatch):
    wide = ",".join(f"c{i}" for i in range(P.MAX_COLUMNS + 1)) + "\n" + ",".join(["1"] * (P.MAX_COLUMNS + 1)) + "\n"
    assert _error(U.check(wide.encode(), "wide.csv", kind="households")) == "too_many_columns"
    monkeypatch.setattr(P, "MAX_ROWS", 100)
    long = "household_id,members\n" + "".join(f"H{i},1\n" for i in range(200))
    assert _error(U.check(long.encode(), "long.csv", kind="households")) == "too_many_rows"
    monkeypatch.setattr(P, "MAX_ROWS", 1_000_000)
    monkeypatch.setattr(P, "MAX_CELLS", 300)
    assert _error(U.check(long.encode(), "long.csv", kind="households")) == "too_many_cells"


def test_a_wide_workbook_stops_at_the_first_row_past_the_cap(monkeypatch):
    monkeypatch.setattr(P, "MAX_ROWS", 10)
    rows = iter([["a"]] * 1_000_000)
    with pytest.raises(U.UploadProblem) as e:
        list(P._capped_rows(rows, "x.xlsx"))
    assert e.value.code == "too_many_rows" and next(rows) == ["a"]  # the rest was never read


def test_many_unused_columns_are_one_warning():
    header = "household_id,subdistrict_code,members," + ",".join(f"extra{i}" for i in range(50))
    row = "H1,460101,3," + ",".join(["x"] * 50)
    rep = U.check((header + "\n" + row + "\n").encode(), "x.csv", kind="households")
    unused = rep.problems[rep.problems["code"].isin(["unknown_column", "unknown_columns"])]
    assert unused["code"].tolist() == ["unknown_columns"]
    assert "50" in unused["message_en"].iloc[0] and "extra0" in unused["message_en"].iloc[0]
