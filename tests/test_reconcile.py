"""The explorer's figures against the TPMAP, DOPA and household sources, read here independently."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from povmap.core.engine import Query
from povmap.core.vocab import DIMENSION_KEYS, INDICATORS, combo_of

COMBOS = ["11111", "10000", "00001", "10100", "01011", "11110"]
STEM = {"country": "country", "province": "province", "district": "amphur", "subdistrict": "tambol"}


@pytest.fixture(scope="module")
def source(src):
    """TPMAP combos per level straight from the source parquet files, indexed by (combo, code)."""
    out = {}
    for level, stem in STEM.items():
        df = pd.read_parquet(src / "tpmap-2561" / f"tpmap2561_{stem}_poor_all_combos.parquet")
        if level == "country":
            df["code"] = "TH"
        out[level] = df.astype({"code": str}).set_index(["combo", "code"])
    return out


def dims_of(combo: str) -> tuple[str, ...]:
    return tuple(k for k, bit in zip(DIMENSION_KEYS, combo) if bit == "1")


@pytest.mark.parametrize("combo", COMBOS)
@pytest.mark.parametrize("level", ["province", "district", "subdistrict"])
@pytest.mark.parametrize("metric,col", [("people", "poor.JPT.MOFval.CNT"), ("households", "poor.household.CNT")])
def test_placed_plus_unplaced_equals_country_total(engine, source, combo, level, metric, col):
    res = engine.compute(Query(level=level, dimensions=dims_of(combo), metric=metric))
    national = int(source["country"].loc[(combo, "TH"), col])
    assert res.placed_count + res.unplaced_count == national
    assert res.scope_count == national


@pytest.mark.parametrize("combo", COMBOS)
def test_union_of_dimensions_is_the_combo_file_not_a_sum(engine, source, combo):
    res = engine.compute(Query(level="province", dimensions=dims_of(combo)))
    src = source["province"].xs(combo, level="combo")["poor.JPT.MOFval.CNT"]
    got = res.table.set_index("code")["count"]
    assert (got.reindex(src.index) == src).all()
    if combo.count("1") > 1:
        single = sum(int(source["country"].loc[(combo_of([d]), "TH"), "poor.JPT.MOFval.CNT"]) for d in dims_of(combo))
        assert res.placed_count < single  # dimensions overlap: a union is below the sum


def test_subdistricts_and_unplaced_roll_up_to_each_district(engine, source):
    res = engine.compute(Query(level="subdistrict"))
    parts = pd.concat([res.table[["code", "count"]], res.unplaced[["code", "count"]]])
    by_district = parts.groupby(parts["code"].str[:4])["count"].sum()
    district = source["district"].xs("11111", level="combo")["poor.JPT.MOFval.CNT"]
    assert (by_district.reindex(district.index).fillna(0).astype(int) == district).all()


def test_unplaced_subdistrict_units_are_the_593_non_dopa_codes(engine):
    res = engine.compute(Query(level="subdistrict"))
    assert len(res.unplaced) == 593
    assert res.unplaced_count == 72_210
    assert set(res.unplaced["reason"]) == {"not_dopa_code"}
    assert (res.unplaced["code"].str[4:].astype(int) >= 50).all()


def test_bangkok_is_no_data_not_zero(engine):
    res = engine.compute(Query(level="province"))
    bkk = res.table.set_index("code").loc["10"]
    assert np.isnan(bkk["value"])
    assert res.no_data.set_index("code").loc["10", "reason"] == "not_surveyed"
    dist = engine.compute(Query(level="district", parent="10"))
    assert dist.table["value"].isna().all() and len(dist.table) == 50


def test_rate_matches_tpmap_rate_and_surveyed_people(engine, source, src):
    base = pd.read_csv(src / "tpmap-2561" / "tpmap2561_amphur_base.csv", dtype={"code": str}).set_index("code")
    res = engine.compute(Query(level="district", metric="rate")).table.set_index("code")
    src_rate = source["district"].xs("11111", level="combo")["JPT.MOFval.pov.rate"]
    common = src_rate.index
    np.testing.assert_allclose(res.loc[common, "value"], src_rate, rtol=1e-9)
    np.testing.assert_allclose(res.loc[common, "value"],
                               100 * res.loc[common, "count"] / base.loc[common, "HOUSEMEMBER_CNT"], rtol=1e-12)


def test_per1000_uses_dopa_2021_registered_population(engine, src):
    pop = pd.read_parquet(src / "dopa-population-ahtambon" / "dopa_population_2017_2021_long.parquet")
    pop = pop[(pop["year"] == 2021) & (pop["area_type"] == "total")].set_index("code")["total"]
    res = engine.compute(Query(level="province", metric="per1000")).table.set_index("code").drop("10")
    np.testing.assert_allclose(res["value"], 1000 * res["count"] / pop.reindex(res.index).astype(float))


def test_share_of_scope_adds_to_100_with_unplaced(engine):
    res = engine.compute(Query(level="subdistrict", scope="sra7", metric="share"))
    assert res.table["value"].sum() + res.unplaced["value"].sum() == pytest.approx(100.0)
    assert (res.table["code"].str[:2].isin(["52", "46", "45", "49", "93", "94", "95"])).all()


@pytest.mark.parametrize("ind", [i.key for i in INDICATORS])
def test_indicator_view_counts_target_poor_failing_it(engine, source, ind):
    res = engine.compute(Query(level="province", indicator=ind))
    src = source["province"].xs("11111", level="combo")[f"poor.JPT.MOFval.{ind}.CNT"]
    assert (res.table.set_index("code")["count"].reindex(src.index) == src).all()
    assert res.scope_count == int(source["country"].loc[("11111", "TH"), f"poor.JPT.MOFval.{ind}.CNT"])


def test_drilled_district_view_matches_its_district_row(engine, source):
    res = engine.compute(Query(level="subdistrict", parent="4601"))
    expected = int(source["district"].loc[("11111", "4601"), "poor.JPT.MOFval.CNT"])
    assert res.scope_count == expected == res.placed_count + res.unplaced_count


def test_households_totals_are_the_published_ppaos_figures(engine):
    """The file holds PPAOS's published totals; every level shows the same protected total (a sum of perturbed
    cells), within the table's bound of them."""
    df = engine.households
    assert len(df) == 235_704 and int(df["members"].sum()) == 1_039_270
    pt = engine.protected
    cells = pt.cells[(pt.cells["deprived"] == 1) & pt.cells["tier"].isin([1, 2, 3, 4])]
    assert len(cells) == len(pt.cells)  # every household of the file is deprived and has a tier
    slack = pt.bound * len(cells)  # at most D per non-empty base cell
    totals = set()
    for level in ("province", "district", "subdistrict"):
        hh = engine.compute(Query(dataset="households", level=level, metric="households"))
        mem = engine.compute(Query(dataset="households", level=level, metric="members"))
        totals.add((hh.placed_count + hh.unplaced_count + hh.hidden_count,
                    mem.placed_count + mem.unplaced_count + mem.hidden_count, hh.scope_count, mem.scope_count))
    [(households, members, scope_hh, scope_mem)] = totals  # the same at every level
    assert (households, members) == (scope_hh, scope_mem)
    assert (households, members) == (int(cells["households"].sum()), int(cells["members"].sum()))
    assert (households, members) == (pt.total(), pt.total("members"))
    assert abs(households - 235_704) <= slack and abs(members - 1_039_270) <= slack
    assert abs(households - 235_704) < 0.01 * 235_704  # in practice the errors mostly cancel


def test_households_tier_filter_partitions_the_total(engine):
    def shown_and_hidden(tiers):
        res = engine.compute(Query(dataset="households", metric="households", tiers=tiers))
        return res.placed_count + res.hidden_count
    per_tier = [shown_and_hidden((t,)) for t in (1, 2, 3, 4)]
    pt, df = engine.protected, engine.households
    for t, shown in zip((1, 2, 3, 4), per_tier):  # each tier: its protected cells' sum, near the file's count
        cells = pt.cells[(pt.cells["deprived"] == 1) & (pt.cells["tier"] == t)]
        assert shown == int(cells["households"].sum())
        assert abs(shown - int((df["tier"] == t).sum())) <= pt.bound * len(cells)
    assert sum(per_tier) == shown_and_hidden((1, 2, 3, 4))  # figures add up across tiers exactly
    assert shown_and_hidden((1, 2)) == per_tier[0] + per_tier[1]


def test_households_outside_the_20_provinces_are_no_data(engine):
    res = engine.compute(Query(dataset="households", level="province", metric="share", tiers=(1,)))
    t = res.table.set_index("code")
    assert np.isnan(t.loc["10", "value"]) and np.isnan(t.loc["50", "value"])
    assert t["value"].notna().sum() == 20
    assert set(res.no_data["reason"]) == {"outside_household_file"}


def test_drilling_into_bangkok_is_no_data_not_zero(engine):
    res = engine.compute(Query(level="district", parent="10"))
    assert res.scope_count is None and not res.has_data
    hh = engine.compute(Query(dataset="households", level="district", parent="50", metric="households"))
    assert hh.scope_count is None


def test_every_current_code_in_view_is_on_the_map_or_listed(engine):
    """Bangkok subdistricts: 180 geothai codes = polygons (no data) + 13 without a polygon."""
    res = engine.compute(Query(level="subdistrict", scope="10"))
    reasons = res.no_data["reason"].value_counts().to_dict()
    assert reasons == {"not_surveyed": 167, "no_polygon": 13}
    assert len(res.table) + reasons["no_polygon"] == 180


def test_household_share_without_households_is_undefined_not_zero(engine):
    res = engine.compute(Query(dataset="households", level="subdistrict", scope="ppaos20", metric="share"))
    empty = res.no_data[res.no_data["reason"] == "no_households_in_file"]["code"]
    assert len(empty) > 0
    assert res.table.set_index("code").loc[empty, "value"].isna().all()
