"""Pilot-area selection end to end in povmap: criteria against the sources, gates, rules, scenarios, exports."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from export_readers import read_csv, read_xlsx

from povmap import pilot
from povmap.core.households import tier_of
from povmap.core.i18n import t
from povmap.core.vocab import DIMENSION_KEYS, combo_of
from povmap.pilot.criteria import Frame, frame_data
from povmap.present import exports, pilotview
from povmap.userdb import areamanagers, scenarios

NO_AM = pd.DataFrame(columns=["manager", "code", "note"], dtype=str)
FRAMES = [
    Frame(dataset="tpmap", scope="ppaos20", level="subdistrict"),
    Frame(dataset="tpmap", scope="all", level="subdistrict", dimensions=("income", "education")),
    Frame(dataset="tpmap", scope="sra7", level="district"),
    Frame(dataset="households", scope="ppaos20", level="subdistrict", tiers=(1, 2)),
]


@pytest.fixture(scope="module")
def tambol(src):
    df = pd.read_parquet(src / "tpmap-2561" / "tpmap2561_tambol_poor_all_combos.parquet")
    return df.astype({"code": str}).set_index(["combo", "code"])


@pytest.fixture(scope="module")
def province_src(src):
    df = pd.read_parquet(src / "tpmap-2561" / "tpmap2561_province_poor_all_combos.parquet")
    return df.astype({"code": str}).set_index(["combo", "code"])


@pytest.fixture(scope="module")
def household_file(store):
    return pd.read_csv(store.path / "households_synthetic.csv", dtype={"household_id": str, "subdistrict_code": str})


@pytest.mark.parametrize("frame", FRAMES, ids=lambda f: f"{f.dataset}-{f.scope}-{f.level}")
def test_ranked_plus_unranked_is_the_source_total(engine, province_src, household_file, frame):
    fd = frame_data(engine, frame)
    provinces = engine.scope_provinces(frame.scope)
    if frame.dataset == "tpmap":
        src = province_src.xs(combo_of(frame.dimensions), level="combo")["poor.JPT.MOFval.CNT"]
        total = int(src.reindex(provinces).fillna(0).sum())
    else:
        # household frames: the protected table's sum for the frame (deprived in any dimension, its tiers), within
        # the table's bound of the file's own count
        from povmap.core.households import filter_mask, read_household_file
        hh = read_household_file(engine.data.path / "households_synthetic.csv")
        true = int(filter_mask(hh, frame.dimensions, frame.tiers).sum())
        cells = engine.protected.cells.query("deprived == 1 and tier in @frame.tiers")
        total = int(cells["households"].sum())
        assert abs(total - true) <= engine.protected.bound * len(cells)
    assert fd.scope_count == total
    assert int(fd.areas["count"].sum() + fd.unranked["count"].sum() + (fd.hidden_count or 0)) == total
    hidden = fd.unranked[fd.unranked["reason"] == "hidden_small"]
    assert hidden["count"].isna().all() and fd.unranked.loc[fd.unranked["reason"] != "hidden_small", "count"].notna().all()
    assert fd.areas.index.is_unique and not fd.areas.index.isin(fd.unranked["code"]).any()


def test_tpmap_depth_is_sum_of_dimension_counts_over_the_union(engine, tambol):
    frame = Frame(scope="46", level="subdistrict", dimensions=("health", "income", "education"))
    fd = frame_data(engine, frame)
    rows = tambol.xs(combo_of(frame.dimensions), level="combo")
    cols = ["poor.JPT.MOFval.health", "poor.JPT.MOFval.income", "poor.JPT.MOFval.education"]
    expect = rows[cols].sum(axis=1) / rows["poor.JPT.MOFval.CNT"].where(rows["poor.JPT.MOFval.CNT"] > 0)
    got = fd.areas["depth"].dropna()
    assert len(got) > 100
    np.testing.assert_allclose(got.to_numpy(), expect.reindex(got.index).to_numpy())
    assert (got >= 1).all() and (got <= 3).all()  # 1..number of chosen dimensions


def test_household_criteria_from_the_file(engine, household_file):
    """Household criteria come from the protected table: counts and rates from its perturbed sums (within its
    bound of the file), tier-1 share from them too, depth a rounded mean of the file (household frames count
    households deprived in any dimension: the frame's choice of dimensions is not applied)."""
    frame = Frame(dataset="households", scope="46", level="subdistrict", dimensions=("income", "living"), tiers=(1, 2))
    fd = frame_data(engine, frame)
    assert fd.frame.dimensions == DIMENSION_KEYS
    pt = engine.protected
    df = household_file.copy()
    df["tier"] = tier_of(df[[c for c in df.columns if c.startswith("capital_")]].mean(axis=1).to_numpy())
    deprived = df[[c for c in df.columns if c.startswith("deprived_")]].eq(1)
    sel = df[deprived.any(axis=1) & df["tier"].isin([1, 2]) & (df["subdistrict_code"].str[:2] == "46")]
    g = sel.groupby("subdistrict_code")
    code = g.size().idxmax()
    row = fd.areas.loc[code]
    cells = pt.cells.query("code == @code and deprived == 1 and tier in [1, 2]")
    assert row["count"] == cells["households"].sum()
    assert abs(row["count"] - g.size()[code]) <= pt.bound * len(cells)
    tier1 = cells.query("tier == 1")["households"].sum()
    assert row["tier1"] == pytest.approx(100 * tier1 / row["count"])
    assert row["depth"] == pytest.approx(round(deprived.loc[g.get_group(code).index].sum(axis=1).mean(), 1))
    assert row["rate"] == pytest.approx(100 * cells["members"].sum() / engine.population[code])
    assert 0 <= fd.areas["readiness"].min() and fd.areas["readiness"].max() <= 1
    # the same frame with every dimension chosen: the same figures
    same = frame_data(engine, Frame(dataset="households", scope="46", level="subdistrict", tiers=(1, 2)))
    pd.testing.assert_frame_equal(same.areas, fd.areas)
    # a share or a mean rests on at least 2k (protected) households: below that it is unknown, not a number
    few = fd.areas["count"] < 2 * engine.privacy_k
    assert few.any() and fd.areas.loc[few, ["tier1", "depth"]].isna().all().all()
    assert fd.areas.loc[~few, "depth"].notna().all()
    k = engine.privacy_k  # ... and a tier-1 share is unknown where the tier-1 count itself is hidden
    t1 = pt.by_area("subdistrict", tiers=[1], deprived=1)["households"].reindex(fd.areas.index).fillna(0)
    assert (fd.areas.loc[~few, "tier1"].isna() == ((t1 > 0) & (t1 < k))[~few]).all()


@pytest.fixture(scope="module")
def crit(engine):
    return pilot.criteria_set(engine, Frame(scope="46", level="subdistrict"), pilot.Settings(), NO_AM)


def test_cluster_criteria_come_from_the_cluster_table(crit):
    cl = crit.clusters.table.reindex(crit.values.index)
    assert ((crit.values["lisa"] == 1) == (cl["lisa_class"] == "HH")).all()
    assert ((crit.values["gistar"] == 1) == (cl["gi_class"] == "hot")).all()
    assert crit.values["lisa"].sum() > 0  # Kalasin has a north-western High-High cluster of the rate


def test_top_n_shortlist_and_method(engine, crit):
    res = pilot.run(crit, pilot.Settings(top_n=15))
    short = res.shortlist
    assert len(short) == 15 and list(short["rank"]) == list(range(1, 16))
    assert short["score"].is_monotonic_decreasing
    assert res.stability is not None and set(short.index) == set(res.stability.table.index)
    lines = dict(pilotview.method_lines(engine, res, "en", scenario="Kalasin test"))
    assert lines["Scenario"] == "Kalasin test"
    assert "999 permutations" in lines["Spatial clustering"] and "seed 2566" in lines["Spatial clustering"]
    assert "Σ weight" in lines["Score"]
    th = dict(pilotview.method_lines(engine, res, "th"))
    assert "กาฬสินธุ์" in th["ขอบเขต"]


def test_model_subdistricts_keep_best_k_per_district(crit):
    res = pilot.run(crit, pilot.Settings(per_district_k=2), with_stability=False)
    short = res.shortlist
    per = short.groupby("district").size()
    assert (per <= 2).all() and len(per) == crit.values.index.str[:4].nunique()
    for d, grp in res.ranked[res.ranked["eligible"]].groupby("district"):
        best = grp.sort_values(["score"], ascending=False, kind="stable").index[:2]
        assert set(best) == set(short[short["district"] == d].index) or grp["score"].duplicated().any()


def test_coverage_gate_and_criterion_follow_the_area_manager_table(engine, crit):
    am = pd.DataFrame({"manager": ["มหาวิทยาลัยกาฬสินธุ์", "มหาวิทยาลัยกาฬสินธุ์"], "code": ["4601", "460301"], "note": ["", ""]})
    c = pilot.criteria_set(engine, crit.frame, pilot.Settings(), am)
    cov = c.values["coverage"]
    assert (cov[cov.index.str.startswith("4601")] == 1).all() and cov["460301"] == 1
    assert cov.sum() == (cov.index.str.startswith("4601")).sum() + 1
    res = pilot.run(c, pilot.Settings(require_coverage=True, top_n=50), with_stability=False)
    assert res.shortlist.index.isin(cov[cov == 1].index).all()
    assert len(res.shortlist) == int(cov.sum())  # fewer eligible than N: all of them
    assert (res.ranked.loc[cov[cov == 0].index, "gate"] == "not_covered").all()


def test_weights_change_the_ranking_and_zero_weights_are_rejected(crit):
    a = pilot.run(crit, pilot.Settings(weights=(("count", 1.0),), enabled=("count",)), with_stability=False)
    assert list(a.shortlist.index) == list(crit.values["count"].sort_values(ascending=False, kind="stable").index[:20]) or \
        crit.values["count"].duplicated().any()
    with pytest.raises(pilot.PovmapError) as err:
        pilot.run(crit, pilot.Settings(weights=tuple((k, 0.0) for k in pilot.DEFAULT_WEIGHTS)), with_stability=False)
    assert err.value.th and err.value.en


def test_scenario_round_trip_reopens_the_identical_list(tmp_path, engine, crit):
    res = pilot.run(crit, pilot.Settings(top_n=10, normalisation="minmax"))
    table = pilot.shortlist_table(res)
    db = tmp_path / "u.sqlite"
    sid = scenarios.save(db, "กาฬสินธุ์ ชุดที่ 1", res.frame.as_dict(), res.settings.as_dict(), table, engine.data.version)
    sc = scenarios.load(db, sid)
    pd.testing.assert_frame_equal(sc.result, table)
    frame, settings = Frame.from_dict(sc.frame), pilot.Settings.from_dict(sc.settings)
    assert frame == res.frame and settings == res.settings
    again = pilot.run(pilot.criteria_set(engine, frame, settings, NO_AM), settings)
    pd.testing.assert_frame_equal(pilot.shortlist_table(again), table)


@pytest.mark.parametrize("lang", ["th", "en"])
def test_export_round_trip(engine, crit, lang):
    res = pilot.run(crit, pilot.Settings(top_n=12))
    table = pilotview.shortlist_display(engine, res, lang)
    meta = exports.Metadata("ทดสอบ", tuple(pilotview.method_lines(engine, res, lang)))
    back, about = read_csv(exports.to_csv(table, meta))
    assert list(back.columns) == list(table.columns)
    code = "รหัส" if lang == "th" else "Code"
    assert back[code].tolist() == table[code].tolist() and back[code].str.len().eq(6).all()  # codes stay text
    assert about[meta.lines[0][0]] == meta.lines[0][1]
    xb, _ = read_xlsx(exports.to_xlsx(table, meta))
    assert xb[code].tolist() == table[code].tolist()


def test_areamanagers_covered_used_by_criteria(tmp_path, engine):
    db = tmp_path / "am.sqlite"
    areamanagers.add(db, "ม.ราชภัฏ", "46", valid_codes=set(engine.names.index))
    cov = areamanagers.list_coverage(db)
    c = pilot.criteria_set(engine, Frame(scope="sra7", level="district"), pilot.Settings(), cov)
    v = c.values["coverage"]
    assert (v[v.index.str.startswith("46")] == 1).all() and (v[~v.index.str.startswith("46")] == 0).all()


def test_small_maps_render_every_criterion(engine, crit):
    for key in crit.values.columns:
        sm = pilotview.criterion_map(engine, crit, key, "th")
        assert sm.png.startswith(b"\x89PNG") and sum(r.count for r in sm.legend) == len(crit.values)


def test_all_dimensions_default_frame_matches_explorer(engine):
    fd = frame_data(engine, Frame(scope="ppaos20"))
    from povmap.core.engine import Query

    r = engine.compute(Query(level="subdistrict", scope="ppaos20", dimensions=DIMENSION_KEYS))
    t = r.table.set_index("code")
    assert (fd.areas["count"] == t.loc[fd.areas.index, "count"]).all()


@pytest.mark.parametrize("lang", ["th", "en"])
def test_a_shortlist_of_several_provinces_names_each_areas_province(engine, lang):
    crit = pilot.criteria_set(engine, Frame(scope="sra7", level="subdistrict"), pilot.DEFAULTS, NO_AM)
    res = pilot.run(crit, pilot.DEFAULTS, with_stability=False)
    table = pilotview.shortlist_display(engine, res, lang)
    col, name = t("pilot.col.province", lang), "name_th" if lang == "th" else "name_en"
    expected = engine.names.loc[[c[:2] for c in table[t("table.code", lang)]], name]
    assert table[col].tolist() == expected.tolist()
    back, _ = read_csv(exports.to_csv(table, exports.Metadata("x", ())))
    assert back[col].tolist() == expected.tolist()
    assert set(pilot.shortlist_table(res)["province"]) <= set(engine.scope_provinces("sra7"))
    one = pilot.run(pilot.criteria_set(engine, Frame(scope="46", level="subdistrict"), pilot.DEFAULTS, NO_AM),
                    pilot.DEFAULTS, with_stability=False)
    assert col not in pilotview.shortlist_display(engine, one, lang).columns  # one province: said in the title
