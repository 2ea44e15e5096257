"""A household CSV read in blocks (a national file) gives the report and the dataset the whole file gives."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from povmap.cli import main as cli
from povmap.core import households as hh
from povmap.data import uploads as U
from povmap.data.householdcells import CELLS_FILE
from povmap.data.uploads import blocks

FIXTURES = Path(__file__).parent / "fixtures" / "uploads"
HOUSEHOLD_CSVS = sorted(p for p in FIXTURES.glob("*.csv") if "counts" not in p.name)
SHOWN = ["row", "code", "column", "severity", "message_en", "message_th", "advice_en", "advice_th"]


@pytest.fixture
def user_data(tmp_path, monkeypatch):
    monkeypatch.setenv(U.USER_DATA_ENV, str(tmp_path / "ud"))
    return tmp_path / "ud"


def _in_blocks(path: Path, root: Path, lines: int) -> U.Report:
    return U.check_path(path, kind="households", root=root, whole_bytes=0, block_lines=lines)


def _shown(report: U.Report) -> pd.DataFrame:
    return report.problems[SHOWN].astype(str).sort_values(SHOWN).reset_index(drop=True)


@pytest.mark.parametrize("lines", [1, 4])
@pytest.mark.parametrize("path", HOUSEHOLD_CSVS, ids=lambda p: p.stem)
def test_every_fixture_reads_the_same_in_blocks(path, lines, user_data):
    whole = U.check(path.read_bytes(), path.name, kind="households")
    parts = _in_blocks(path, user_data, lines)
    try:
        assert parts.fatal == whole.fatal
        pd.testing.assert_frame_equal(_shown(parts), _shown(whole))
        if not whole.fatal:
            assert (parts.rows, parts.accepted, parts.rejected) == (whole.rows, whole.accepted, whole.rejected)
            assert parts.coverage == whole.coverage and parts.rounds == whole.rounds
            assert parts.summary("th") == whole.summary("th")
    finally:
        parts.discard()
    assert list(user_data.glob(".tmp*")) == []


def _kalasin(store, tmp_path: Path, rounds=("households",)) -> Path:
    """Kalasin's synthetic households with a duplicate far from its first row, a bad score and a blank code."""
    df = pd.concat([getattr(store, r) for r in rounds])
    df = df[df["subdistrict_code"].str[:2] == "46"].reset_index(drop=True)
    df = pd.concat([df, df.iloc[[3]]], ignore_index=True)
    df["capital_human"] = df["capital_human"].astype(object)
    df.loc[10, "capital_human"] = "5"
    df.loc[20, "subdistrict_code"] = ""
    path = tmp_path / "kalasin.csv"
    hh.write_household_file(df, path)
    return path


def _dataset(info: U.DatasetInfo, root: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    folder = root / info.id
    return pq.read_table(folder / "households.parquet").to_pandas(), pq.read_table(folder / CELLS_FILE).to_pandas()


def test_a_file_imported_in_blocks_is_the_dataset_the_whole_file_gives(store, tmp_path, user_data):
    path = _kalasin(store, tmp_path)
    whole = U.check(path.read_bytes(), path.name, kind="households")
    assert whole.rejected == 3
    a = U.import_dataset(whole, U.VALID_ROWS, name="whole")
    parts = _in_blocks(path, user_data, 997)
    assert set(parts.problems["code"]) == set(whole.problems["code"])
    b = U.import_dataset(parts, U.VALID_ROWS, name="blocks")
    parts.discard()
    rows_a, cells_a = _dataset(a, user_data)
    rows_b, cells_b = _dataset(b, user_data)
    pd.testing.assert_frame_equal(rows_a, rows_b)
    pd.testing.assert_frame_equal(cells_a, cells_b)
    for key in ("rows_accepted", "rows_rejected", "coverage", "year", "provinces", "tables"):
        assert getattr(a, key) == getattr(b, key), key
    assert a.extra["fingerprint"] == b.extra["fingerprint"]
    with pytest.raises(U.DatasetError):  # the same rows under the same name are recognised either way
        U.import_dataset(_in_blocks(path, user_data, 500), U.VALID_ROWS, name="blocks")


def test_rounds_in_blocks_become_one_dataset_each(store, tmp_path, user_data):
    path = _kalasin(store, tmp_path, rounds=("households", "households_round2"))
    parts = _in_blocks(path, user_data, 5000)
    assert parts.rounds == [2023, 2024]
    U.import_dataset(parts, U.VALID_ROWS)
    parts.discard()
    listed = {d.year: d for d in U.list_datasets("households", root=user_data) if not d.builtin}
    assert sorted(listed) == [2023, 2024]
    for year, source in ((2023, store.households), (2024, store.households_round2)):
        n = int((source["subdistrict_code"].str[:2] == "46").sum())
        assert n - 2 <= listed[year].rows_accepted <= n  # the bad score and blank code fall in one round or other
    assert list(user_data.glob(".tmp*")) == []


def test_only_so_many_problems_are_listed_and_every_bad_row_is_still_left_out(store, tmp_path, user_data,
                                                                              monkeypatch):
    df = store.households[store.households["subdistrict_code"].str[:2] == "46"].head(40).copy()
    df["members"] = 0
    path = tmp_path / "zero.csv"
    hh.write_household_file(df, path)
    monkeypatch.setattr(blocks, "LISTED", 15)
    report = _in_blocks(path, user_data, 7)
    assert report.rejected == 40 and report.accepted == 0
    assert (report.problems["code"] == "members_out_of_range").sum() == 15
    note = report.problems[report.problems["code"] == "problems_not_listed"]
    assert len(note) == 1 and "25" in note["message_en"].iloc[0] and "25" in note["message_th"].iloc[0]


def test_the_command_line_imports_a_large_file_in_blocks_and_leaves_nothing_behind(store, tmp_path, user_data,
                                                                                   monkeypatch, capsys):
    monkeypatch.setattr(blocks, "WHOLE_BYTES", 1000)
    monkeypatch.setattr(blocks, "BLOCK_LINES", 3000)
    path = _kalasin(store, tmp_path)
    assert cli(["data", "check", str(path), "--kind", "households", "--lang", "en"]) == 0
    assert cli(["data", "import", str(path), "--kind", "households", "--mode", "all_or_nothing", "--lang", "en"]) == 2
    assert cli(["data", "import", str(path), "--kind", "households", "--lang", "th"]) == 0
    ds_id = capsys.readouterr().out.strip().splitlines()[-1]
    info = U.get_dataset(ds_id, root=user_data)
    assert info.rows_rejected == 3 and info.rows_accepted == info.coverage["households"]
    assert list(user_data.glob(".tmp*")) == []


def test_a_small_file_of_more_rows_than_a_whole_read_allows_is_read_in_blocks(store, tmp_path, user_data, monkeypatch):
    """The whole-file read refuses more than MAX_ROWS rows (a guard for the page's memory); a household CSV of more
    lines, however few bytes, is read in blocks instead of refused."""
    monkeypatch.setattr(blocks, "MAX_ROWS", 100)
    path = _kalasin(store, tmp_path)
    report = U.check_upload(path.read_bytes(), path.name, kind="households")
    try:
        assert report.staged is not None and report.rejected == 3 and report.accepted > 100
    finally:
        report.discard()
