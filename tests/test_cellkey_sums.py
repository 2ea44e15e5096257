"""The protected base table from per-cell sums (what a national file allows: read in parts, never whole) is
cell for cell what ONS's ``create_perturbed_table`` gives on the records themselves."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from povmap.core import households as hh
from povmap.core.cellkey import (
    CELL_COLUMNS,
    ProtectedTable,
    _person_keys,
    add_cell_sums,
    cell_sums,
    perturb,
    perturbation_table,
    record_keys,
)

SECRET = b"a test secret of the record keys"


def ons_reference(df: pd.DataFrame, secret: bytes, k: int):
    """The base table as ONS's package makes it from the records (households, and their people one by one)."""
    keys = record_keys(df["household_id"].to_numpy(), secret)
    caps = df[list(hh.CAPITAL_COLUMNS)].to_numpy(dtype="float64")
    flags = df[list(hh.DEPRIVED_COLUMNS)].to_numpy(dtype="float64")
    members = df["members"].to_numpy(dtype="int64")
    complete = ((members >= 1) & ((caps >= 1) & (caps <= 4)).all(axis=1)
                & np.isin(flags, (0, 1)).all(axis=1) & df["survey_year"].notna().to_numpy())
    rec = pd.DataFrame({"code": df["subdistrict_code"].astype(str).to_numpy(),
                        "tier": df["tier"].to_numpy(dtype="int64"),
                        "deprived": (flags == 1).any(axis=1).astype("int64"),
                        "referred": (df["referred"].to_numpy() == 1).astype("int64"),
                        "complete": complete.astype("int64")})
    ptable = perturbation_table(k)
    households = perturb(rec, keys[:, 0], ptable)
    pkeys, owner = _person_keys(keys, np.clip(members, 0, None))
    people = perturb(rec.iloc[owner].reset_index(drop=True), pkeys, ptable)
    cells = households.rename("households").to_frame().join(people.rename("members"), how="left")
    cells["members"] = cells["members"].fillna(0).astype("int64")
    return cells.sort_index().reset_index()


def with_tiers(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(tier=hh.tier_of(hh.mean_score(df).to_numpy()))


@pytest.mark.parametrize("k", [5, 10])
def test_sums_give_what_ons_gives_on_the_records(engine, k):
    df = engine.households
    table = ProtectedTable.build(df, SECRET, k, hh.CAPITAL_COLUMNS, hh.DEPRIVED_COLUMNS)
    reference = ons_reference(df, SECRET, k)
    got = table.cells.astype({"code": str})
    pd.testing.assert_frame_equal(got, reference.astype({"code": str}), check_dtype=False)
    assert (table.cells["households"] != table._n).any()  # perturbed, not the true counts


def test_big_cells_reuse_the_rows_above_750_as_ons_does():
    rng = np.random.default_rng(3)
    n = 2_600  # one subdistrict with cells of several hundred to over 1,000 households
    df = with_tiers(pd.DataFrame({
        "household_id": [f"H{i}" for i in range(n)], "subdistrict_code": "460101",
        "members": rng.integers(1, 8, n), **{c: rng.choice([1.0, 2.0], n) for c in hh.CAPITAL_COLUMNS},
        **{c: rng.integers(0, 2, n) for c in hh.DEPRIVED_COLUMNS}, "referred": 0, "survey_year": 2566}))
    table = ProtectedTable.build(df, SECRET, 5, hh.CAPITAL_COLUMNS, hh.DEPRIVED_COLUMNS)
    assert table._n.max() > 750 and table.cells["members"].max() > 750
    reference = ons_reference(df, SECRET, 5)
    pd.testing.assert_frame_equal(table.cells.astype({"code": str}), reference.astype({"code": str}),
                                  check_dtype=False)


def test_a_file_read_in_parts_has_the_sums_of_the_whole(engine):
    df = engine.households
    whole = cell_sums(df, SECRET, hh.CAPITAL_COLUMNS, hh.DEPRIVED_COLUMNS)
    cuts = [0, 1, 40_000, 150_001, len(df)]
    parts = [cell_sums(df.iloc[a:b], SECRET, hh.CAPITAL_COLUMNS, hh.DEPRIVED_COLUMNS) for a, b in zip(cuts, cuts[1:])]
    together = add_cell_sums(parts)
    pd.testing.assert_frame_equal(together, whole)
    assert list(whole.index.names) == list(CELL_COLUMNS) and whole["n"].sum() == len(df)


def test_an_import_keeps_its_cell_sums_and_a_server_reads_them_not_the_rows(tmp_path, store, monkeypatch):
    from pathlib import Path

    from povmap.core import config
    from povmap.data import uploads as U
    from povmap.data.datasource import choose, open_engine
    from povmap.data.householdcells import CELLS_FILE, read_sums, sums_from_parquet
    from povmap.data.secrets import record_key_secret

    root = tmp_path / "user_datasets"
    fixture = Path(__file__).parent / "fixtures" / "uploads" / "good_households.csv"
    info = U.import_dataset(U.check(fixture.read_bytes(), fixture.name, kind="households"), root=root)
    rows, kept = root / info.id / "households.parquet", root / info.id / CELLS_FILE
    secret = record_key_secret(root)
    assert kept.is_file()
    pd.testing.assert_frame_equal(read_sums(kept, secret), sums_from_parquet(rows, secret), check_index_type=False)
    assert read_sums(kept, b"another installation's secret") is None  # made with another secret: made again

    engine = open_engine(choose(config.load(user_data=root), use=[info.id]), store=store)
    from povmap.data import householdcells

    for module, name in ((pd, "read_parquet"), (householdcells, "sums_from_parquet")):
        monkeypatch.setattr(module, name, lambda *a, **kw: pytest.fail("a view read the household rows"))
    table = engine.protected
    monkeypatch.undo()
    df = with_tiers(pd.read_parquet(rows))
    reference = ProtectedTable.build(df, secret, engine.privacy_k, hh.CAPITAL_COLUMNS, hh.DEPRIVED_COLUMNS)
    pd.testing.assert_frame_equal(table.cells, reference.cells)
    assert engine.household_provinces() == set(df["subdistrict_code"].str[:2])
