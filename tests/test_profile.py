"""Area profiles against the TPMAP, DOPA, village, HAI, boundary and household sources, read here independently."""
from __future__ import annotations

import subprocess
import sys

import geopandas as gpd
import geothai
import numpy as np
import pandas as pd
import pytest

from povmap.core.engine import QueryError
from povmap.present.profile import Figure, Profile, build_profile, compare_table, profile_codes, search_areas

STEM = {"country": "country", "province": "province", "district": "amphur", "subdistrict": "tambol"}
PARENT_LEVEL = {"province": "country", "district": "province", "subdistrict": "district"}
DIMS = {"health": "health", "living": "living", "education": "education", "income": "income",
        "access": "accessibility"}  # our key -> TPMAP's column name
INDICATOR_NUMBERS = [1, 4, 5, 7, 8, 9, 10, 11, 15, 16, 17, 19, 20, 21, 22, 27, 28]
PPAOS20 = {"58", "18", "46", "49", "37", "35", "33", "32", "47", "94",
           "52", "65", "42", "31", "30", "34", "45", "93", "95", "96"}
# (asked code, profiled code): a province, a district with TPMAP non-DOPA units, a subdistrict, Bangkok,
# a Bangkok khet and khwaeng, an abolished code with one successor, a subdistrict TPMAP has no row for.
SAMPLES = [("46", "46"), ("4601", "4601"), ("460102", "460102"), ("10", "10"), ("1001", "1001"),
           ("100101", "100101"), ("530306", "530407"), ("460101", "460101"), ("840503", "840503")]


# --- the sources, read with pandas/geothai only -------------------------------------------
@pytest.fixture(scope="module")
def tp(src):
    """TPMAP combo 11111 per level, indexed by code (country: 'TH')."""
    out = {}
    for level, stem in STEM.items():
        df = pd.read_parquet(src / "tpmap-2561" / f"tpmap2561_{stem}_poor_all_combos.parquet")
        df = df[df["combo"] == "11111"].copy()
        df["code"] = "TH" if level == "country" else df["code"].astype(str)
        out[level] = df.set_index("code")
    return out


@pytest.fixture(scope="module")
def surveyed(src):
    out = {}
    for level, stem in STEM.items():
        df = pd.read_csv(src / "tpmap-2561" / f"tpmap2561_{stem}_base.csv", dtype={"code": str})
        if level == "country":
            df["code"] = "TH"
        out[level] = df.set_index("code")["HOUSEMEMBER_CNT"]
    return out


@pytest.fixture(scope="module")
def pop_all(src):
    df = pd.read_parquet(src / "dopa-population-ahtambon" / "dopa_population_2017_2021_long.parquet")
    df = df[df["area_type"] == "total"].copy()
    df["code"] = df["code"].fillna("").astype(str)
    return df


@pytest.fixture(scope="module")
def pop2021(pop_all):
    return pop_all[pop_all["year"] == 2021].set_index("code")["total"].astype("float64")


@pytest.fixture(scope="module")
def current():
    """Current DOPA codes per level, straight from geothai."""
    prov = [p.code for p in geothai.provinces()]
    dist = [d.code for p in prov for d in geothai.districts(p)]
    sub = [s.code for d in dist for s in geothai.subdistricts(d)]
    return {"province": prov, "district": dist, "subdistrict": sub}


def level_of(code: str) -> str:
    return {2: "province", 4: "district", 6: "subdistrict"}[len(code)]


def source_value(tp, surveyed, pop2021, level, code, key):
    """A headline figure straight from the source files (None = no data)."""
    if key == "population":
        v = pop2021.get("" if level == "country" else code)
        return None if v is None or pd.isna(v) else float(v)
    if code not in tp[level].index:
        return None
    people = float(tp[level].at[code, "poor.JPT.MOFval.CNT"])
    if key == "people":
        return people
    if key == "households":
        return float(tp[level].at[code, "poor.household.CNT"])
    return 100.0 * people / float(surveyed[level][code])  # rate


def expected_rank(tp, surveyed, pop2021, current, level, code, key):
    """(rank, siblings with data) by a direct pandas rank among the current codes with the same parent."""
    sibs = [c for c in current[level] if c.startswith(code[: len(code) - 2])]
    values = pd.Series({c: source_value(tp, surveyed, pop2021, level, c, key) for c in sibs}, dtype="float64").dropna()
    ranks = values.rank(method="min", ascending=False)
    return (int(ranks[code]) if code in ranks.index else None), len(values)


def approx(a, b):
    if a is None or b is None:
        return a is None and b is None
    return a == pytest.approx(b, rel=1e-12)


# --- headline figures ------------------------------------------------------------------------
@pytest.mark.parametrize("asked,code", SAMPLES)
def test_headline_figures_equal_the_sources(engine, tp, surveyed, pop2021, current, asked, code):
    p = build_profile(engine, asked)
    level = level_of(code)
    assert (p.code, p.level) == (code, level)
    assert [f.key for f in p.figures] == ["people", "rate", "households", "population"]
    parent_level = PARENT_LEVEL[level]
    parent_code = "TH" if level == "province" else code[: len(code) - 2]
    for f in p.figures:
        assert isinstance(f, Figure)
        assert approx(f.value, source_value(tp, surveyed, pop2021, level, code, f.key)), f
        assert approx(f.parent, source_value(tp, surveyed, pop2021, parent_level, parent_code, f.key)), f
        assert approx(f.country, source_value(tp, surveyed, pop2021, "country", "TH", f.key)), f
        assert (f.rank, f.siblings) == expected_rank(tp, surveyed, pop2021, current, level, code, f.key), f


def test_country_figures_are_the_published_totals(engine):
    p = build_profile(engine, "46")
    assert p.figure("people").country == 1_032_987
    assert p.figure("rate").country == pytest.approx(100 * 1_032_987 / 36_647_817)


def test_names_and_parents_come_from_geothai(engine):
    p = build_profile(engine, "460102")
    s = geothai.subdistrict("460102")
    assert (p.name_th, p.name_en) == (s.name_th, s.name_en)
    d, pr = geothai.district("4601"), geothai.province("46")
    assert p.parents == [("46", pr.name_th, pr.name_en), ("4601", d.name_th, d.name_en)]
    assert build_profile(engine, "46").parents == []


@pytest.mark.parametrize("code", ["10", "1001", "100101"])
def test_bangkok_has_no_tpmap_data_but_population(engine, pop2021, code):
    p = build_profile(engine, code)
    assert p.tpmap_note == "not_surveyed"
    for key in ("people", "rate", "households"):
        f = p.figure(key)
        assert f.value is None and f.rank is None
    assert p.figure("population").value == pop2021[code]
    assert p.dimensions["people"].isna().all() and p.indicators["people"].isna().all()
    assert not p.indicators["worst"].any()
    if code == "10":
        assert p.figure("people").siblings == 76  # the other 76 provinces have data; Bangkok is not ranked
        assert p.figure("population").siblings == 77
        assert p.hai is not None and len(p.hai) == 7
        assert p.children["people"].isna().all() and len(p.children) == 50


def test_subdistrict_without_tpmap_row_is_no_data(engine):
    p = build_profile(engine, "460101")
    assert p.tpmap_note == "no_source_row"
    assert all(p.figure(k).value is None for k in ("people", "rate", "households"))
    assert p.figure("population").value is not None
    assert p.villages is not None and p.villages.empty


def test_abolished_code_profiles_its_single_successor(engine):
    p = build_profile(engine, "530306")
    assert p.code == "530407" and p.tpmap_note is None
    assert p.parents[-1][0] == "5304"


def test_tpmap_note_is_none_with_data(engine):
    assert build_profile(engine, "4601").tpmap_note is None


# --- dimensions and indicators ------------------------------------------------------------------
@pytest.mark.parametrize("code", ["46", "4601", "460102", "530407"])
def test_dimensions_and_indicators_equal_the_source_columns(engine, tp, code):
    p = build_profile(engine, code)
    row = tp[level_of(code)].loc[code]
    people = row["poor.JPT.MOFval.CNT"]
    dims = p.dimensions
    assert list(dims.columns) == ["key", "people", "share"]
    assert list(dims["key"]) == list(DIMS)
    np.testing.assert_array_equal(dims["people"], [row[f"poor.JPT.MOFval.{c}"] for c in DIMS.values()])
    np.testing.assert_allclose(dims["share"], 100 * dims["people"] / people)
    inds = p.indicators
    assert list(inds.columns) == ["key", "number", "tpmap_label", "dimension", "people", "share", "worst"]
    assert list(inds["number"]) == INDICATOR_NUMBERS
    assert list(inds["key"]) == [f"ind{n}" for n in INDICATOR_NUMBERS]
    src_people = np.array([row[f"poor.JPT.MOFval.ind{n}.CNT"] for n in INDICATOR_NUMBERS], dtype=float)
    np.testing.assert_array_equal(inds["people"], src_people)
    np.testing.assert_allclose(inds["share"], 100 * src_people / people)
    # worst = the 3 largest counts
    assert inds["worst"].sum() == 3
    third = np.sort(src_people)[-3]
    assert (inds.loc[inds["worst"], "people"] >= third).all()
    assert (inds.loc[~inds["worst"], "people"] <= third).all()


def test_dimensions_overlap_so_they_can_exceed_the_total(engine):
    p = build_profile(engine, "46")
    assert p.dimensions["people"].sum() > p.figure("people").value


# --- villages ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def village_names(src):
    lines = (src / "tpmap-2561" / "bmn59_village_name.csv").read_text(encoding="utf-8").splitlines()[1:]
    return dict(line.split(",", 1) for line in lines if "," in line)


@pytest.mark.parametrize("code", ["460102", "530407"])
def test_villages_equal_the_village_file(engine, src, village_names, code):
    v = pd.read_parquet(src / "tpmap-2561" / "tpmap2561_village_poor_5dims.parquet",
                        columns=["code", "poor.JPT.MOFval.CNT", "poor.household.CNT"])
    v = v[v["code"].astype(str).str.startswith(code)]
    p = build_profile(engine, code)
    got = p.villages
    assert list(got.columns) == ["code", "name_th", "people", "households", "rank", "moo"]
    assert (got["moo"] == got["code"].str[6:8].astype(int)).all()  # หมู่ที่: the village number in its code
    assert len(got) == len(v) > 0
    assert got["people"].sum() <= p.figure("people").value
    assert got["people"].sum() == v["poor.JPT.MOFval.CNT"].sum()
    exp = {c: (int(n), int(h), village_names.get(c[:8]))
           for c, n, h in zip(v["code"], v["poor.JPT.MOFval.CNT"], v["poor.household.CNT"])}
    assert {c: (int(n), int(h), (None if pd.isna(nm) else nm))
            for c, n, h, nm in zip(got["code"], got["people"], got["households"], got["name_th"])} == exp
    assert got["people"].is_monotonic_decreasing
    assert list(got["rank"]) == list(got["people"].rank(method="min", ascending=False).astype(int))


def test_villages_only_for_subdistricts(engine):
    assert build_profile(engine, "46").villages is None
    assert build_profile(engine, "4601").villages is None


# --- children -----------------------------------------------------------------------------------
def test_district_children_include_non_dopa_units_and_add_up(engine, tp, current):
    p = build_profile(engine, "4601")
    ch = p.children
    assert list(ch.columns) == ["code", "name_th", "name_en", "people", "rate", "placed"]
    src_codes = {c for c in tp["subdistrict"].index if c.startswith("4601")}
    geo_codes = {c for c in current["subdistrict"] if c.startswith("4601")}
    assert set(ch["code"]) == src_codes | geo_codes
    assert ch["people"].sum() == tp["district"].at["4601", "poor.JPT.MOFval.CNT"] == p.figure("people").value
    units = ch[ch["code"].str[4:].astype(int) >= 50]
    assert len(units) > 0 and not units["placed"].any()
    assert (units["name_th"] == "หน่วยในอำเภอเมืองกาฬสินธุ์").all()
    assert (units["name_en"] == "unit in Mueang Kalasin district").all()
    assert ch.loc[ch["code"].isin(geo_codes), "placed"].all()  # all of 4601's subdistricts have polygons
    assert np.isnan(ch.set_index("code").at["460101", "people"])  # no source row: no data, not zero


def test_province_children_are_its_districts_and_add_up(engine, tp):
    p = build_profile(engine, "46")
    assert set(p.children["code"]) == {d.code for d in geothai.districts("46")}
    assert p.children["people"].sum() == tp["province"].at["46", "poor.JPT.MOFval.CNT"]
    assert p.children["placed"].all()


def test_subdistrict_has_no_children(engine):
    ch = build_profile(engine, "460102").children
    assert ch.empty and list(ch.columns) == ["code", "name_th", "name_en", "people", "rate", "placed"]


# --- households (aggregates of the household file) ------------------------------------------------
@pytest.fixture(scope="module")
def household_file(store):
    df = pd.read_csv(store.path / "households_synthetic.csv", dtype={"subdistrict_code": str, "household_id": str})
    caps = df[[c for c in df.columns if c.startswith("capital_")]]
    mean = caps.mean(axis=1).round(9)
    df["tier_direct"] = np.select([mean <= 1.75, mean <= 2.50, mean <= 3.25], [1, 2, 3], 4)
    return df


@pytest.mark.parametrize("code", ["46", "4601", "460102", "30"])
def test_household_aggregates_match_a_direct_computation(engine, household_file, code):
    """The profile's household figures are the protected table's sums for the area, each within the table's bound
    of the file's own count; a count under k is hidden; shares and means follow the minimum count."""
    hh = build_profile(engine, code).households
    assert hh is not None and hh["synthetic"] is True
    assert set(hh) == {"synthetic", "k", "hidden", "households", "members", "referred", "tiers", "capitals"}
    pt, k = engine.protected, engine.privacy_k
    cells = pt.cells[pt.cells["code"].str.startswith(code)]
    area = household_file[household_file["subdistrict_code"].str.startswith(code)]

    def protected(true, column="households", **where):
        sel = cells
        for col, want in where.items():
            sel = sel[sel[col].isin(want if isinstance(want, list) else [want])]
        total = int(sel[column].sum())
        assert abs(total - true) <= pt.bound * len(sel)  # at most D per (non-empty) base cell the figure adds up
        return None if 0 < total < k else total

    assert hh["households"] == protected(len(area))
    assert hh["members"] == protected(int(area["members"].sum()), "members")
    assert hh["referred"] == protected(int((area["referred"] == 1).sum()), referred=1)
    tiers = hh["tiers"]
    assert list(tiers.columns) == ["tier", "households", "share"] and list(tiers["tier"]) == [1, 2, 3, 4]
    for t, shown in zip((1, 2, 3, 4), tiers["households"]):
        want = protected(int((area["tier_direct"] == t).sum()), tier=t)
        assert (pd.isna(shown) and want is None) or shown == want
    assert hh["households"] >= 2 * k  # enough for shares and means (see the next test for an area with fewer)
    assert tiers["share"].isna().tolist() == tiers["households"].isna().tolist()  # a hidden tier has no share
    shown = tiers["households"].dropna()
    np.testing.assert_allclose(tiers.loc[shown.index, "share"], 100.0 * shown / hh["households"])
    caps = hh["capitals"]
    assert list(caps.columns) == ["capital", "area", "province", "ppaos20"]
    assert list(caps["capital"]) == ["human", "physical", "financial", "natural", "social"]
    province = household_file[household_file["subdistrict_code"].str[:2] == code[:2]]
    for scope, df in (("area", area), ("province", province), ("ppaos20", household_file)):
        direct = [round(df[f"capital_{c}"].mean(), 1) for c in caps["capital"]]  # true means, one decimal
        np.testing.assert_allclose(caps[scope], direct, atol=1e-9)
    for frame in (tiers, caps):  # only aggregates leave the module
        assert "household_id" not in frame.columns


def test_household_shares_and_means_need_twice_k_households(engine):
    """An area shown with k to 2k-1 (protected) households: its count is shown, its tier shares and capital means
    are not; its province's means are."""
    pt, k = engine.protected, engine.privacy_k
    per_area = pt.by_area("subdistrict")["households"]
    code = per_area[(per_area >= k) & (per_area < 2 * k)].index[0]
    hh = build_profile(engine, code).households
    assert hh["households"] == per_area[code] and not hh["hidden"]
    assert hh["tiers"]["share"].isna().all()
    assert hh["capitals"]["area"].isna().all() and hh["capitals"]["province"].notna().all()


def test_household_file_covers_the_20_provinces(household_file):
    assert set(household_file["subdistrict_code"].str[:2]) == PPAOS20


@pytest.mark.parametrize("code", ["50", "5001", "10", "1001", "840503"])
def test_households_outside_the_file_are_none(engine, code):
    assert build_profile(engine, code).households is None


# --- population, HAI, bounds ------------------------------------------------------------------------
@pytest.mark.parametrize("code", ["46", "4601", "460102", "10", "530407"])
def test_population_series_is_dopa_2017_2021(engine, pop_all, code):
    p = build_profile(engine, code)
    exp = pop_all[pop_all["code"] == code].sort_values("year")
    assert list(p.population.columns) == ["year", "population"]
    assert list(p.population["year"]) == [2017, 2018, 2019, 2020, 2021] == list(exp["year"])
    assert list(p.population["population"]) == list(exp["total"].astype(int))


@pytest.mark.parametrize("code", ["46", "10", "30", "96"])
def test_hai_and_its_rank_equal_the_econvis_file(engine, src, code):
    df = pd.read_csv(src / "econvis" / "hai_province_2015_2021_with_code.csv", dtype={"province_code": str},
                     encoding="utf-8-sig")
    years = [c for c in df.columns if c.isdigit()]
    assert len(df) == 77
    ranks = df.set_index("province_code")[years].rank(method="min", ascending=False)
    hai = build_profile(engine, code).hai
    assert list(hai.columns) == ["year", "hai", "rank"]
    assert list(hai["year"]) == [int(y) for y in years]
    np.testing.assert_allclose(hai["hai"], df.set_index("province_code").loc[code, years].astype(float))
    assert list(hai["rank"]) == [int(ranks.at[code, y]) for y in years]


def test_hai_only_for_provinces(engine):
    assert build_profile(engine, "4601").hai is None and build_profile(engine, "460102").hai is None


@pytest.mark.parametrize("code,adm,polygon", [("46", 1, "46"), ("4601", 2, "4601"), ("530407", 3, "530306")])
def test_bounds_are_the_area_polygon(engine, src, code, adm, polygon):
    g = gpd.read_parquet(src / "hdx-cod-ab-tha" / f"tha_adm{adm}_rtsd_20220121_simplified.parquet")
    exp = g[g["dopa_code"] == polygon].total_bounds  # 530407 is drawn with the abolished 530306's polygon
    got = build_profile(engine, code).bounds
    assert len(got) == 4 and got[0] < got[2] and got[1] < got[3]
    np.testing.assert_allclose(got, exp, atol=1e-3)


def test_area_without_polygon_falls_back_to_its_district_bounds(engine, store):
    notes = store.boundary_notes
    no_poly = notes.loc[notes["detail"].str.contains("no boundary polygon"), "code"]
    code = next(c for c in no_poly if c in engine.names.index)
    assert build_profile(engine, code).bounds == build_profile(engine, code[:4]).bounds


# --- codes, search, errors ---------------------------------------------------------------------------
@pytest.mark.parametrize("text,expected", [
    ("", []), ("abc", []), ("9999999", []), ("46,<script>", ["46"]), ("<script>alert(1)</script>", []),
    ("840503", ["840503"]), ("46,4601", ["46", "4601"]), (" 46 , 4601 ", ["46", "4601"]),
    ("530306", ["530407"]),  # abolished, single successor
    ("104701", []),  # abolished, split in two: ambiguous
    ("460151", []),  # a TPMAP unit, not a DOPA code
    ("99,9999,999999", []), ("46,46,4601,46", ["46", "4601"]), ("๔๖", []), ("4６", []),
    ("4" * 10_000, []), ("," * 10_000, []), (("46," * 4000)[:10_000], ["46"]), ("46;4601", []),
    ("-46", []), ("46.0", []), ("0046", []),
])
def test_profile_codes_parses_hostile_input(text, expected):
    assert profile_codes(text) == expected


def test_profile_codes_round_trips():
    codes = profile_codes("46,4601,460102,530306,10,1001,840503")
    assert codes == ["46", "4601", "460102", "530407", "10", "1001", "840503"]
    assert profile_codes(",".join(codes)) == codes


def test_profile_codes_of_non_strings_is_empty():
    assert profile_codes(None) == [] and profile_codes(46) == []  # type: ignore[arg-type]


def test_search_ambiguous_thai_name_gives_distinct_labels():
    res = search_areas("ในเมือง", "th", limit=50)
    assert len(res) >= 5
    codes, labels = zip(*res)
    assert len(set(labels)) == len(labels) and len(set(codes)) == len(codes)
    assert ("300101", "ต.ในเมือง · อ.เมืองนครราชสีมา · จ.นครราชสีมา") in res
    assert ("301501", "ต.ในเมือง · อ.พิมาย · จ.นครราชสีมา") in res  # same name, same province: the district tells
    for code, label in res:
        if len(code) == 6:
            assert geothai.subdistrict(code).name_th in label
    assert len(search_areas("ในเมือง", "th")) <= 10


def test_search_english():
    res = search_areas("Nai Mueang", "en", limit=50)
    assert ("300101", "Nai Mueang Subdistrict · Mueang Nakhon Ratchasima · Nakhon Ratchasima") in res
    assert len({label for _, label in res}) == len(res)
    assert search_areas("kalasin", "en")[0] == ("46", "Kalasin Province")
    assert search_areas("กมลาไสย", "th")[:2] == [("4603", "อ.กมลาไสย · จ.กาฬสินธุ์"),
                                                ("460301", "ต.กมลาไสย · อ.กมลาไสย · จ.กาฬสินธุ์")]


def test_search_by_code():
    assert search_areas("840503", "th")[0] == ("840503", "ต.เกาะเต่า · อ.เกาะพะงัน · จ.สุราษฎร์ธานี")
    assert search_areas("840503", "en")[0] == ("840503", "Ko Tao Subdistrict · Ko Pha-ngan · Surat Thani")
    assert search_areas("530306", "en")[0][0] == "530407"
    assert search_areas("1001", "th")[0] == ("1001", "เขตพระนคร · กรุงเทพมหานคร")  # no "อ."/"จ." in Bangkok


@pytest.mark.parametrize("query", ["", "   ", "x" * 10_000, "<script>", "9999999", "๔๖"])
def test_search_survives_hostile_input(query):
    assert isinstance(search_areas(query, "th"), list)


@pytest.mark.parametrize("code", ["99", "9999", "999999", "abc", "", "4", "46,4601", "104701", "460151", "1081"])
def test_unknown_code_raises_a_bilingual_query_error(engine, code):
    with pytest.raises(QueryError) as exc:
        build_profile(engine, code)
    assert exc.value.en and exc.value.th and exc.value.en != exc.value.th
    assert exc.value.message("th") == exc.value.th


def test_split_code_error_names_the_successors(engine):
    with pytest.raises(QueryError) as exc:
        build_profile(engine, "104701")
    assert "104702" in exc.value.en and "104703" in exc.value.th


# --- comparison --------------------------------------------------------------------------------------
def test_compare_table(engine):
    profiles = [build_profile(engine, c) for c in ("46", "10", "4601", "460102", "5001")]
    assert all(isinstance(p, Profile) for p in profiles)
    t = compare_table(profiles)
    assert list(t.columns) == ["code", "name_th", "name_en", "level", "people", "rate", "households", "population",
                               "hh_households", "hh_tier1_share"]
    assert list(t["code"]) == ["46", "10", "4601", "460102", "5001"]
    assert list(t["level"]) == ["province", "province", "district", "subdistrict", "district"]
    row = t.set_index("code")
    for p in profiles:
        for f in p.figures:
            got = row.at[p.code, f.key]
            assert (np.isnan(got) if f.value is None else got == f.value)
    assert np.isnan(row.at["10", "people"]) and row.at["10", "population"] > 0
    assert np.isnan(row.at["10", "hh_households"]) and np.isnan(row.at["5001", "hh_tier1_share"])
    hh = profiles[0].households
    assert row.at["46", "hh_households"] == hh["households"]
    assert row.at["46", "hh_tier1_share"] == pytest.approx(100 * hh["tiers"].at[0, "households"] / hh["households"])
    assert compare_table([]).empty


def test_no_povmap_module_imports_streamlit():
    code = ("import importlib, pkgutil, sys, povmap\n"
            "for m in pkgutil.walk_packages(povmap.__path__, 'povmap.'):\n"
            "    if not m.name.endswith('__main__'):\n"
            "        importlib.import_module(m.name)\n"
            "assert 'streamlit' not in sys.modules, 'streamlit imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
