"""Small-cell suppression of household views, and the data in use (imported datasets) behind the engine."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from povmap.core import households as hh
from povmap.core.config import privacy_k
from povmap.core.engine import Engine, Query, QueryError
from povmap.data import uploads as U
from povmap.data.datasource import open_data
from povmap.data.uploads import hide_small

K = 5


@pytest.fixture(scope="module")
def file(store):
    """The household file as written on disk, read independently of the engine."""
    df = pd.read_csv(store.path / "households_synthetic.csv", dtype={"subdistrict_code": str, "household_id": str})
    df[hh.TIER_COLUMN] = hh.tier_of(hh.mean_score(df))
    return df


def test_hide_small_rules():
    assert hide_small([10, 20, 0]).tolist() == [False, False, False]
    assert hide_small([3, 100, 50, 0]).tolist() == [True, False, True, False]  # lone hidden cell takes the next smallest
    assert hide_small([3, 1, 50, 200]).tolist() == [True, True, True, False]  # two hidden but summing to 4 < 5
    assert hide_small([3, 9, 50, 7], groups=[["a", "a", "b", "b"]]).tolist() == [True, True, False, False]
    assert hide_small([3, 0, 0]).tolist() == [True, False, False]  # nothing else to hide
    assert hide_small([6, 7], small=[True, False]).tolist() == [True, True]
    assert hide_small([np.nan, 2, 8]).tolist() == [False, True, True]
    # a lone hidden subdistrict in its district, recoverable from its province's figure: the province hides another
    cells = [3, 50, 60, 2, 4, 70]
    districts, provinces = ["a", "b", "b", "c", "c", "c"], ["p", "p", "p", "q", "q", "q"]
    assert hide_small(cells, groups=[districts]).tolist() == [True, False, False, True, True, False]  # 3 = p - 110
    assert hide_small(cells, groups=[districts, provinces]).tolist() == [True, True, True, True, True, False]


def test_privacy_k_is_a_server_setting():
    assert privacy_k("") == 5 and privacy_k("10") == 10 and privacy_k("1") == 2 and privacy_k("many") == 5


@pytest.mark.parametrize("level,scope,parent", [("province", "all", None), ("district", "ppaos20", None),
                                                ("subdistrict", "46", None), ("subdistrict", "46", "4601"),
                                                ("subdistrict", "all", None)])
@pytest.mark.parametrize("metric", ["households", "members", "share"])
@pytest.mark.parametrize("tiers", [(1,), (1, 2, 3, 4)])
def test_no_shown_household_figure_rests_on_fewer_than_k(engine, file, level, scope, parent, metric, tiers):
    res = engine.compute(Query(dataset="households", level=level, scope=scope, parent=parent, metric=metric, tiers=tiers))
    width = {"province": 2, "district": 4, "subdistrict": 6}[level]
    sel = file[hh.filter_mask(file, hh.DIMENSION_KEYS, tiers)]  # the query's default: all dimensions (union)
    by_area = sel.groupby(sel["subdistrict_code"].str[:width])
    basis = by_area.size()
    everyone = file.groupby(file["subdistrict_code"].str[:width]).size()
    t = res.table.set_index("code")
    t = t[t["households_all"].notna()]  # areas of the file's provinces
    b = basis.reindex(t.index).fillna(0)
    a = everyone.reindex(t.index).fillna(0)
    shown = ~t["hidden"]
    assert not (shown & (b > 0) & (b < K)).any()
    assert not (shown & (a > 0) & (a < K)).any()
    assert t.loc[shown, "count"].notna().all() and t.loc[~shown, "count"].isna().all()
    assert t.loc[~shown, "value"].isna().all()
    # no hidden cell can be recovered from its parent's figure or the view's total
    groups = [t.index.str[:n] for n in range(2, width, 2)]  # every ancestor's figure is shown at its level
    for labels in [*groups, np.zeros(len(t))]:
        for g in pd.unique(np.asarray(labels)[~shown.to_numpy()]):
            members = np.asarray(labels) == g
            h = members & ~shown.to_numpy()
            free = members & shown.to_numpy() & (b.to_numpy() > 0)
            assert (h.sum() >= 2 and b.to_numpy()[h].sum() >= K) or not free.any()
    # shown + hidden = the source total
    if metric != "share":
        assert res.placed_count + res.unplaced_count + res.hidden_count == res.scope_count
        hidden_direct = (b if metric == "households" else by_area["members"].sum().reindex(t.index).fillna(0))[~shown]
        assert res.hidden_count == int(hidden_direct.sum())


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
    assert any(r.label.startswith("< 5 hidden") and r.count == hidden.sum() for r in view.legend)
    table, _ = read_csv(exports.to_csv(view.ranking))
    counts = table["count"].astype(str)
    assert (counts == "< 5").sum() == hidden.sum()
    shown = counts[counts != "< 5"].str.replace(",", "").astype(int)
    assert not ((shown > 0) & (shown < K)).any()


def test_brief_household_section_hides_small_tiers(engine):
    from povmap.present.brief import _households
    from povmap.present.profile import build_profile

    p = build_profile(engine, "4603")
    assert p.households["tiers"]["households"].isna().sum() >= 2
    html, _ = _households(p, "en")
    assert html.count("&lt; 5") + html.count("< 5") >= 2
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
