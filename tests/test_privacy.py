"""The cell key protection of household figures (povmap.core.cellkey), and the data in use behind the engine."""
from __future__ import annotations

import pandas as pd
import pytest

from povmap.core import cellkey as ck
from povmap.core import households as hh
from povmap.core.config import privacy_k
from povmap.core.engine import Engine, Query, QueryError
from povmap.data import uploads as U
from povmap.data.datasource import open_data

K = 5


@pytest.fixture(scope="module")
def file(store):
    """The household file as written on disk, read independently of the engine."""
    df = pd.read_csv(store.path / "households_synthetic.csv", dtype={"subdistrict_code": str, "household_id": str})
    df[hh.TIER_COLUMN] = hh.tier_of(hh.mean_score(df))
    return df


@pytest.mark.parametrize("k", [2, 3, 5, 10, 12])
def test_the_perturbation_table_keeps_every_small_count_between_0_and_k(k):
    table = ck.perturbation_table(k)
    d = ck.noise_bound(k)
    assert len(table) == ck.MAX_PCV * ck.KEY_RANGE and table["pvalue"].abs().max() <= d
    published = table["pcv"] + table["pvalue"]
    assert (published >= 1).all()  # a count of people is never published as 0: zero means nobody
    small = table["pcv"] < k
    assert (published[small] - d <= 0).all() and (published[small] + d >= k).all()
    assert (published[small] < k).all()  # a small count is always shown as "< k"
    kept = table[small]["pvalue"].eq(0).groupby(table.loc[small, "pcv"]).mean()
    assert (kept >= 0.7).all()  # most small counts are kept: little bias
    # Knowing the table, a published small value could still have come from every count 1..k.
    for p in published[small].unique():
        assert set(range(1, k + 1)) <= set(table.loc[published == p, "pcv"])
    large = table[table["pcv"] > d + k]
    assert abs(large["pvalue"].mean()) < 0.05 and (large.groupby("pcv")["pvalue"].nunique() == 2 * d + 1).all()


def test_record_keys_are_fixed_by_the_secret():
    ids = ["A-1", "A-2", "B-7"]
    a, b = ck.record_keys(ids, b"s" * 32), ck.record_keys(ids, b"t" * 32)
    assert (a == ck.record_keys(ids, b"s" * 32)).all() and not (a == b).all()
    assert ((a[:, 0] >= 0) & (a[:, 0] < 256)).all() and (a[:, 1] % 2 == 1).all()


@pytest.fixture(scope="module")
def protected(engine):
    return engine.protected


def test_base_cells_are_perturbed_within_the_bound_and_zero_stays_zero(engine, protected):
    df = engine.households
    rec = pd.DataFrame({"code": df["subdistrict_code"], "tier": df["tier"],
                        "deprived": df[list(hh.DEPRIVED_COLUMNS)].eq(1).any(axis=1).astype(int)})
    true = rec.groupby(["code", "tier", "deprived"]).size()
    shown = protected.cells.groupby(["code", "tier", "deprived"])["households"].sum()
    cells = protected.cells
    assert (cells["households"] >= 1).all()  # only non-empty cells exist; an absent cell is 0
    assert set(shown.index) == set(true.index)
    # each base cell is within the bound; these sums of 1-4 base cells within 4 bounds
    assert ((shown - true.reindex(shown.index)).abs() <= 4 * protected.bound).all()
    assert (shown != true.reindex(shown.index)).mean() > 0.3  # the noise is there


def test_household_figures_add_up_across_levels_and_tiers(engine):
    for tiers in [(1,), (2, 3), (1, 2, 3, 4)]:
        q = dict(dataset="households", scope="46", metric="households", tiers=tiers)
        prov = engine.compute(Query(level="province", **q))
        subs = engine.compute(Query(level="subdistrict", **q))
        assert prov.scope_count == subs.scope_count == (subs.placed_count + subs.unplaced_count
                                                        + (subs.hidden_count or 0))
    one = [engine.compute(Query(dataset="households", level="district", scope="46", metric="households", tiers=(t,)))
           for t in (1, 2, 3, 4)]
    every = engine.compute(Query(dataset="households", level="district", scope="46", metric="households"))
    assert sum(r.scope_count for r in one) == every.scope_count


def test_dimension_choices_do_not_change_household_figures(engine):
    a = engine.compute(Query(dataset="households", level="subdistrict", scope="46", metric="households",
                                dimensions=("education",)))
    b = engine.compute(Query(dataset="households", level="subdistrict", scope="46", metric="households"))
    assert a.query.dimensions == b.query.dimensions == hh.DIMENSION_KEYS
    pd.testing.assert_frame_equal(a.table, b.table)


def test_privacy_k_is_a_server_setting():
    assert privacy_k("") == 5 and privacy_k("10") == 10 and privacy_k("1") == 2 and privacy_k("many") == 5


@pytest.mark.parametrize("level,scope,parent", [("province", "all", None), ("district", "ppaos20", None),
                                                ("subdistrict", "46", None), ("subdistrict", "46", "4601"),
                                                ("subdistrict", "all", None)])
@pytest.mark.parametrize("metric", ["households", "members", "share"])
@pytest.mark.parametrize("tiers", [(1,), (1, 2, 3, 4)])
def test_no_shown_household_figure_is_under_k(engine, level, scope, parent, metric, tiers):
    res = engine.compute(Query(dataset="households", level=level, scope=scope, parent=parent, metric=metric, tiers=tiers))
    t = res.table.set_index("code")
    t = t[t["households_all"].notna()]  # areas of the file's provinces
    shown = ~t["hidden"]
    assert t.loc[shown, "count"].notna().all() and t.loc[~shown, "count"].isna().all()
    assert t.loc[~shown, "value"].isna().all()
    counts = t.loc[shown, "count"].astype("int64")
    assert not ((counts > 0) & (counts < K)).any()
    if metric == "share":  # a share rests on at least 2k households
        assert (t.loc[t["value"].notna(), "households_all"] >= 2 * K).all()
    else:
        assert res.placed_count + res.unplaced_count + (res.hidden_count or 0) == res.scope_count or \
            res.hidden_count is None


def test_tpmap_views_hide_nothing(engine):
    res = engine.compute(Query(level="subdistrict", scope="46"))
    assert "hidden" not in res.table and res.hidden_count == 0


# --- the data in use -------------------------------------------------------------------------------
@pytest.fixture
def user_data(tmp_path, monkeypatch):
    monkeypatch.setenv(U.USER_DATA_ENV, str(tmp_path / "ud"))
    return tmp_path / "ud"


def _import_counts(csv: str, **kw) -> str:
    rep = U.check(csv.encode("utf-8"), "counts.csv", kind="tpmap", **kw)
    assert rep.can_import(), rep.problems
    return U.import_dataset(rep).id


def test_subdistrict_only_file_rolls_up_to_district_province_country(store, user_data):
    subs = ["460101", "460102", "460103", "460201"]
    rows = "\n".join(f"{c},{10 * (i + 1)},{20 * (i + 1)}" for i, c in enumerate(subs))
    ds = _import_counts("subdistrict_code,poor.household.CNT,poor.JPT.MOFval.CNT\n" + rows, year=2024)
    view = open_data(use=[ds], store=store)
    eng = Engine(view)
    assert view.tpmap("district").set_index("code")["people"].to_dict() == {"4601": 120, "4602": 80}
    assert view.tpmap("province").set_index("code")["people"].to_dict() == {"46": 200}
    assert view.tpmap("country")["people"].tolist() == [200]
    res = eng.compute(Query(level="district", scope="46"))
    assert res.scope_count == 200 and res.placed_count == 200
    assert eng.compute(Query(level="province")).scope_count == 200
    sub = eng.compute(Query(level="subdistrict", scope="46", metric="households"))
    assert sub.placed_count == 100 and sub.table["count"].gt(0).sum() == 4


def test_missing_combination_column_and_base_are_named(store, user_data):
    ds = _import_counts("province_code,poor.JPT.MOFval.CNT\n46,100\n", year=2024)
    eng = Engine(open_data(use=[ds], store=store))
    assert eng.compute(Query(scope="46")).scope_count == 100
    with pytest.raises(QueryError, match="11111"):
        eng.compute(Query(scope="46", dimensions=("income",)))
    with pytest.raises(QueryError, match="households"):
        eng.compute(Query(scope="46", metric="households"))
    with pytest.raises(QueryError, match="surveyed"):
        eng.compute(Query(scope="46", metric="rate"))


def test_builtin_view_is_the_store(store, engine):
    view = open_data(store=store)
    assert view.tpmap("province") is store.tpmap("province") and view.households_synthetic
    assert Engine(view).compute(Query()).scope_count == engine.compute(Query()).scope_count


# --- what leaves the app: map image fills, the ranking download, the brief's household section -------------
def test_map_image_and_ranking_download_show_hidden_cells_as_such(engine):
    from export_readers import read_csv

    from povmap.present import exports
    from povmap.present.explorer import HIDDEN_RGB, build_view
    from povmap.present.mapimage import view_fills

    view = build_view(engine, Query(dataset="households", level="subdistrict", scope="46", metric="households"),
                      lang="en")
    hidden = view.result.table["hidden"].to_numpy()
    assert hidden.any()
    colour = "#{:02x}{:02x}{:02x}".format(*HIDDEN_RGB)
    fills = view_fills(view)
    assert all((f.lower() == colour) == h for f, h in zip(fills, hidden))
    assert any(r.label.startswith("< 5 (fewer than 5") and r.count == hidden.sum() for r in view.legend)
    table, _ = read_csv(exports.to_csv(view.ranking))
    counts = table["count"].astype(str)
    assert (counts == "< 5").sum() == hidden.sum()
    shown = counts[counts != "< 5"].str.replace(",", "").astype(int)
    assert not ((shown > 0) & (shown < K)).any()


def test_brief_household_section_hides_small_tiers(engine):
    from povmap.present.brief import _households
    from povmap.present.profile import build_profile

    p = build_profile(engine, "4603")
    hidden_tiers = int(p.households["tiers"]["households"].isna().sum())
    assert hidden_tiers >= 1
    html, _ = _households(p, "en")
    assert html.count("&lt; 5") + html.count("< 5") >= hidden_tiers
    small = build_profile(engine, "460304")  # 2 households in the file
    assert small.households["hidden"] and small.households["households"] is None
    html, fig = _households(small, "en")
    assert "fewer than 5 households" in html and fig is None


def test_pages_work_on_a_file_with_few_columns(store, user_data):
    """A province file with only target-poor people: unknown figures are NaN, never an error."""
    from povmap.pilot.criteria import Frame, frame_data
    from povmap.present.profile import build_profile

    ds = _import_counts("province_code,poor.JPT.MOFval.CNT\n46,100\n47,50\n", year=2024)
    eng = Engine(open_data(use=[ds], store=store))
    figures = {f.key: f.value for f in build_profile(eng, "46").figures}
    assert figures["people"] == 100 and figures["rate"] is None and figures["households"] is None
    assert {f.key: f.value for f in build_profile(eng, "4601").figures}["people"] is None  # no district rows
    fd = frame_data(eng, Frame(scope="all", level="district"))
    assert fd.areas.empty and fd.scope_count == 150 and fd.unranked["count"].sum() == 150
    fd = frame_data(eng, Frame(scope="46", level="district"))
    assert fd.scope_count == 100 and fd.unranked["count"].sum() == 100
    assert fd.unranked.loc[fd.unranked["count"] > 0, "reason"].tolist() == ["coarser_level_only"]
    res = eng.compute(Query(level="subdistrict", scope="46"))
    assert res.placed_count + res.unplaced_count == res.scope_count == 100
