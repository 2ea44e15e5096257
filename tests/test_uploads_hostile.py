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
    assert "400.0 MB" in rep.errors["message_th"].iloc[0] and "xml" not in rep.errors["message_th"].iloc[0]


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


HEADER = ("household_id,subdistrict_code,members,capital_human,capital_physical,capital_financial,capital_natural,"
          "capital_social,referred\n")


def test_utf16_without_a_bom_is_read():
    text = HEADER + "H1,460101,3,1,2,2,2,2,0\n"
    for codec in ("utf-16-le", "utf-16-be"):
        rep = U.check(text.encode(codec), "u.csv", kind="households", year=2023)
        assert rep.accepted == 1 and not rep.fatal, rep.problems


def test_a_huge_cell_is_named_by_row_and_column_in_both_languages():
    text = HEADER + "H1,460101,3,1,2,2,2,2,0\n" + '"' + "x" * 200_000 + '",460101,3,1,2,2,2,2,0\n'
    rep = U.check(text.encode(), "big.csv", kind="households", year=2023)
    assert _error(rep) == "cell_too_long"
    th = rep.errors["message_th"].iloc[0]
    assert "แถว 3" in th and "คอลัมน์ A" in th and "200,000" in th and "field" not in th


def test_invisible_characters_are_shown_and_other_digits_read():
    text = HEADER + "H1,٤٦٠١٠١,3,1,2,2,2,2,0\nH2,４６０１０１,3,1,2,2,2,2,0\nH3,46\u200b0101,3,1,2,2,2,2,0\n"
    rep = U.check(text.encode(), "d.csv", kind="households", year=2023)
    assert rep.accepted == 2 and rep.rejected == 1
    assert "46⟨U+200B⟩0101" in rep.errors["message_th"].iloc[0]


def _good_report():
    text = HEADER + "".join(f"H{i},460101,3,1,2,2,2,2,0\n" for i in range(12))
    return U.check(text.encode(), "good_households.csv", kind="households", year=2023)


def test_two_sessions_importing_the_same_file_at_once_make_one_dataset(tmp_path):
    import threading

    report, results = _good_report(), []

    def run():
        try:
            results.append(U.import_dataset(report, root=tmp_path).id)
        except U.DatasetError as exc:
            results.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    ids = [r for r in results if isinstance(r, str)]
    [refused] = [r for r in results if not isinstance(r, str)]
    assert [d.id for d in U.list_datasets(root=tmp_path)] == ids and refused.key == "error.dataset.duplicate"
    assert "good_households" in refused.message("th")


def test_a_full_disk_after_the_import_says_what_was_kept(tmp_path, monkeypatch):
    import errno

    from povmap.data.uploads import datasets as D

    def full(*_a, **_k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(D, "set_active", full)
    with pytest.raises(U.DatasetError) as exc:
        U.import_dataset(_good_report(), root=tmp_path)
    assert exc.value.key == "error.dataset.kept_not_active.disk_full"
    assert [d.name for d in U.list_datasets(root=tmp_path)] == ["good_households"]  # kept, and the message says so


def test_a_read_only_folder_names_why_nothing_was_deleted(tmp_path, monkeypatch):
    import errno

    info = U.import_dataset(_good_report(), root=tmp_path)

    def read_only(*_a, **_k):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr("povmap.data.uploads.datasets.os.rename", read_only)
    with pytest.raises(U.DatasetError) as exc:
        U.delete_dataset(info.id, root=tmp_path)
    assert exc.value.key == "error.dataset.delete_failed.read_only" and "อ่านอย่างเดียว" in exc.value.message("th")
    monkeypatch.undo()
    assert [d.id for d in U.list_datasets(root=tmp_path)] == [info.id]
