"""Household file: tier rule, synthetic generator, file round trip, aggregation."""
from __future__ import annotations

import geothai
import numpy as np
import pandas as pd
import pytest

from povmap.core import households as hh
from povmap.core.groups import group_provinces
from povmap.core.vocab import CAPITAL_KEYS, DIMENSION_KEYS

SMALL = dict(total_households=2_000, total_members=8_820, referred=150)


@pytest.fixture(scope="module")
def real_weights(src) -> pd.DataFrame:
    """TPMAP 2561 target-poor households (all 5 dimensions) per current DOPA subdistrict of the 20 PPAOS provinces."""
    provinces = group_provinces("ppaos20")
    df = pd.read_parquet(src / "tpmap-2561" / "tpmap2561_tambol_poor_all_combos.parquet", columns=["code", "province_code", "combo", "poor.household.CNT"])
    df = df[(df["combo"] == "11111") & df["province_code"].isin(provinces)]
    current = {s.code for p in provinces for d in geothai.districts(p) for s in geothai.subdistricts(d.code)}
    df = df[df["code"].isin(current)]
    return df.rename(columns={"code": "subdistrict_code", "poor.household.CNT": "weight"})[
        ["subdistrict_code", "province_code", "weight"]
    ].reset_index(drop=True)


@pytest.fixture(scope="module")
def synth(real_weights) -> pd.DataFrame:
    return hh.synthesize(real_weights)


@pytest.fixture(scope="module")
def small_weights() -> pd.DataFrame:
    return pd.DataFrame({
        "subdistrict_code": ["580101", "580102", "580201", "180101", "180102"],
        "province_code": ["58", "58", "58", "18", "18"],
        "weight": [10, 0, 55, 30, 5],
    })


@pytest.mark.parametrize(
    "mean, tier",
    [(1.0, 1), (1.75, 1), (1.7501, 2), (2.50, 2), (2.5001, 3), (3.25, 3), (3.2501, 4), (4.0, 4)],
)
def test_tier_edges_go_to_lower_tier(mean, tier):
    assert hh.tier_of([mean]).tolist() == [tier]


def test_tier_ignores_float_noise_and_nan():
    assert hh.tier_of([1.75 + 1e-12, np.nan]).tolist() == [1, 0]
    assert hh.tier_of(np.array([1.0, 2.0, 3.0, 4.0])).dtype == np.int8


def test_columns_built_from_vocab():
    assert hh.HOUSEHOLD_COLUMNS[:3] == ("household_id", "subdistrict_code", "members")
    assert hh.HOUSEHOLD_COLUMNS[3:8] == tuple(f"capital_{k}" for k in CAPITAL_KEYS)
    assert hh.HOUSEHOLD_COLUMNS[8:13] == tuple(f"deprived_{k}" for k in DIMENSION_KEYS)
    assert hh.HOUSEHOLD_COLUMNS[13:] == ("referred", "survey_year")


def test_real_weights_totals(real_weights, synth):
    assert real_weights["subdistrict_code"].str.fullmatch(r"\d{6}").all()
    assert len(synth) == 235_704
    assert synth["members"].sum() == 1_039_270
    assert synth["referred"].sum() == 15_696
    assert synth["members"].between(1, 12).all()
    assert abs(synth["members"].mean() - 4.41) < 0.01
    assert (synth["survey_year"] == 2023).all()
    assert set(synth["subdistrict_code"].str[:2]) == set(group_provinces("ppaos20"))


def test_sorted_and_sequential_ids(synth):
    assert synth["household_id"].iloc[0] == "SYN-0000001"
    assert synth["household_id"].is_unique
    assert synth["household_id"].is_monotonic_increasing
    assert synth["subdistrict_code"].is_monotonic_increasing


def test_deterministic(small_weights, tmp_path):
    a, b = hh.synthesize(small_weights, **SMALL), hh.synthesize(small_weights, **SMALL)
    hh.write_household_file(a, tmp_path / "a.csv")
    hh.write_household_file(b, tmp_path / "b.csv")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    c = hh.synthesize(small_weights, seed=1, **SMALL)
    assert not a.equals(c)


def test_scores_on_quarter_grid_within_range(synth):
    caps = synth[list(hh.CAPITAL_COLUMNS)].to_numpy()
    assert ((caps >= 1) & (caps <= 4)).all()
    assert (caps * 4 == np.round(caps * 4)).all()


def test_capitals_correlated(synth):
    corr = np.corrcoef(synth[list(hh.CAPITAL_COLUMNS)].to_numpy(), rowvar=False)
    assert corr[np.triu_indices(5, 1)].min() > 0.3


def test_province_means_in_range(synth):
    means = hh.mean_score(synth).groupby(synth["subdistrict_code"].str[:2]).mean()
    assert len(means) == 20
    assert means.between(1.6, 2.2).all(), means


def test_tier_column_matches_rule(synth):
    assert (synth["tier"].to_numpy() == hh.tier_of(hh.mean_score(synth))).all()


def test_every_household_deprived(synth):
    assert (synth[list(hh.DEPRIVED_COLUMNS)].sum(axis=1) >= 1).all()


def test_deprivation_consistent_with_capitals(synth):
    flags = synth[list(hh.DEPRIVED_COLUMNS)].to_numpy().astype(bool)
    linked = synth[[f"capital_{hh.DIMENSION_CAPITAL[d]}" for d in DIMENSION_KEYS]].to_numpy()
    # low capital is always deprived
    assert flags[linked <= hh.DEPRIVED_AT_MOST].all()
    # a flag above the noise band only as the single fallback flag, on the household's lowest linked capital
    high = flags & (linked > hh.MAYBE_DEPRIVED_AT_MOST)
    rows = high.any(axis=1)
    assert (flags[rows].sum(axis=1) == 1).all()
    assert (linked[high] == linked[rows].min(axis=1)).all()


def test_referred_within_lowest_fifth(synth):
    n = len(synth)
    order = np.lexsort((np.arange(n), hh.mean_score(synth).to_numpy()))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    assert (rank[synth["referred"].to_numpy() == 1] < n // 5).all()


def test_apportionment_proportional(real_weights, synth):
    counts = synth["subdistrict_code"].value_counts()
    w = real_weights.set_index("subdistrict_code")["weight"]
    assert counts.idxmax() == w.idxmax()
    zero = w.index[w == 0]
    assert len(zero) > 0 and not counts.index.isin(zero).any()
    expected = w * len(synth) / w.sum()
    assert (counts.reindex(w.index, fill_value=0) - expected).abs().max() < 1


def test_apportionment_small_exact(small_weights):
    df = hh.synthesize(small_weights, **SMALL)
    counts = df["subdistrict_code"].value_counts().to_dict()
    # quotas 200, 0, 1100, 600, 100 are exact
    assert counts == {"580101": 200, "580201": 1100, "180101": 600, "180102": 100}


def test_round_trip(synth, tmp_path):
    path = tmp_path / "households.csv"
    hh.write_household_file(synth, path)
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    header, first = raw.decode("utf-8").splitlines()[:2]
    assert header.split(",") == list(hh.HOUSEHOLD_COLUMNS)
    assert first.split(",")[1] == synth["subdistrict_code"].iloc[0]
    pd.testing.assert_frame_equal(hh.read_household_file(path), synth)


def test_read_missing_columns(tmp_path):
    path = tmp_path / "bad.csv"
    pd.DataFrame({"household_id": ["x"], "subdistrict_code": ["010101"]}).to_csv(path, index=False)
    with pytest.raises(hh.HouseholdFileError, match=r"bad\.csv.*members.*capital_human"):
        hh.read_household_file(path)


def test_leading_zero_codes_survive(tmp_path):
    w = pd.DataFrame({"subdistrict_code": ["010101"], "province_code": ["01"], "weight": [1]})
    df = hh.synthesize(w, total_households=10, total_members=40, referred=1)
    hh.write_household_file(df, tmp_path / "z.csv")
    assert (hh.read_household_file(tmp_path / "z.csv")["subdistrict_code"] == "010101").all()


def test_filter_requires_selection(synth):
    with pytest.raises(ValueError, match="dimension"):
        hh.filter_mask(synth, [], [1])
    with pytest.raises(ValueError, match="tier"):
        hh.filter_mask(synth, ["health"], [])


@pytest.mark.parametrize("dims, tiers", [(DIMENSION_KEYS, (1, 2, 3, 4)), (("income",), (1,)), (("health", "access"), (2, 3))])
def test_aggregate_levels_reconcile(synth, dims, tiers):
    mask = hh.filter_mask(synth, dims, tiers)
    direct = {
        "households": int(mask.sum()),
        "members": int(synth["members"][mask].sum()),
        "households_all": len(synth),
        "referred": int(synth["referred"][mask].sum()),
    }
    for level, width in (("province", 2), ("district", 4), ("subdistrict", 6)):
        agg = hh.aggregate(synth, level, dims, tiers)
        assert agg["code"].str.len().eq(width).all() and agg["code"].is_unique
        assert agg[list(direct)].sum().to_dict() == direct, level


def test_aggregate_without_tier_column(synth):
    dims, tiers = ["living"], [1, 2]
    pd.testing.assert_frame_equal(
        hh.aggregate(synth.drop(columns="tier"), "district", dims, tiers), hh.aggregate(synth, "district", dims, tiers)
    )


def test_union_semantics(synth):
    tiers = [1, 2, 3, 4]
    health, income, both = (
        hh.aggregate(synth, "province", d, tiers)["households"].sum()
        for d in (["health"], ["income"], ["health", "income"])
    )
    assert max(health, income) <= both <= health + income
    assert both < health + income  # the dimensions overlap
