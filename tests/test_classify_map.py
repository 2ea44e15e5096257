"""Class breaks, colours, the map JSON and the selection round trip."""
from __future__ import annotations

import json

import mapclassify
import numpy as np
import pytest
import shapely

from povmap.core.classify import NO_DATA_RGBA, classify, palette
from povmap.core.engine import Query
from povmap.present.explorer import _shapes, build_view, map_chunk_bytes
from povmap.web.geometry import unpack
from povmap.web.maplayer import GeoChunk, selected_code, view_state


@pytest.mark.parametrize("scheme,mc", [("quantiles", "Quantiles"), ("fisher_jenks", "FisherJenks"),
                                       ("equal_interval", "EqualInterval")])
def test_breaks_are_mapclassify_breaks(scheme, mc):
    y = np.random.default_rng(1).gamma(2.0, 300.0, 500)
    c = classify(np.r_[y, np.nan], scheme, 5)
    ref = mapclassify.classify(y, mc, k=5)
    np.testing.assert_allclose(c.upper, ref.bins)
    assert list(c.index[:-1]) == list(ref.yb) and c.index[-1] == -1
    assert sum(c.counts) == 500 and c.no_data == 1


QUANTILE_CASES = {
    "gamma": np.random.default_rng(2).gamma(2.0, 300.0, 7423),
    "counts with ties": np.random.default_rng(3).poisson(3.0, 878).astype(float),
    "shares": np.round(np.random.default_rng(4).uniform(0, 1, 77), 3),
    "two values": np.array([0.0, 0.0, 0.0, 5.0, 5.0]),
    "few": np.array([1.0, 2.0, 3.0]),
    "one outlier": np.r_[np.zeros(50), 1e9],
    "negative and fractional": np.random.default_rng(5).normal(0, 1e-3, 101),
}


@pytest.mark.parametrize("k", [2, 3, 5, 7])
@pytest.mark.parametrize("name", list(QUANTILE_CASES))
def test_quantiles_computed_here_are_mapclassifys_to_the_bit(name, k):
    """The first map classifies without importing mapclassify (cold start): same bins, same classes."""
    y = QUANTILE_CASES[name]
    k = min(k, np.unique(y).size)
    c = classify(y, "quantiles", k)
    ref = mapclassify.Quantiles(y, k=k)
    assert c.upper == tuple(np.unique(ref.bins).tolist())  # exactly, not approximately
    assert list(c.index) == list(ref.yb)


def test_the_first_map_does_not_import_mapclassify():
    import subprocess
    import sys

    code = ("import sys; from povmap.core.classify import classify; classify([1, 2, 3, 4, 5, 6], 'quantiles', 3); "
            "from povmap.present import changeview; changeview.diverging([-3, -1, 0, 2, 5]); "
            "print('mapclassify' in sys.modules, 'scipy.stats' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_zero_is_a_class_and_no_data_is_grey():
    c = classify([0, 0, 5, 10, np.nan], "quantiles", 3)
    rgba = c.rgba()
    assert rgba[0] != list(NO_DATA_RGBA) and rgba[-1] == list(NO_DATA_RGBA)
    assert all(isinstance(v, int) for v in rgba[0])


def test_palette_is_sequential_light_to_dark():
    lum = [0.299 * r + 0.587 * g + 0.114 * b for r, g, b in palette(5)]
    assert lum == sorted(lum, reverse=True)


def test_fill_json_matches_rgba():
    c = classify([1, 2, 3, np.nan], "quantiles", 3)
    assert [json.loads(s) for s in c.fill_json()] == c.rgba()


def test_view_state_fits_thailand():
    vs = view_state((97.34, 5.61, 105.64, 20.47))
    assert 4.5 <= vs["zoom"] <= 6 and 12 < vs["latitude"] < 14


def test_map_args_are_complete_and_small(engine):
    v = build_view(engine, Query(level="province"), lang="th")
    args = v.map.args
    assert args["geo"] == ["province-overview-TH.bin"] and v.map.chunks == (GeoChunk("province", "overview"),)
    by_code = {p["c"]: p for p in v.map.features()}
    assert len(by_code) == 77
    assert by_code["10"]["f"] == list(NO_DATA_RGBA)  # Bangkok: no data, grey
    assert by_code["50"]["v"] == "54,887 คน"
    assert all(isinstance(x, int) for x in by_code["50"]["f"])
    assert [tmpl for key, tmpl, _ in args["tips"] if key == "v"] == ["จำนวนคนจนเป้าหมาย: {v}"]
    assert json.loads(json.dumps(args)) == args  # plain JSON: what Streamlit sends to the component


def test_geometry_files_hold_every_area_once_with_both_names(engine):
    shapes = unpack(map_chunk_bytes(engine, GeoChunk("province", "overview")))
    names = dict(zip(shapes.codes, shapes.names))
    assert len(names) == len(shapes.codes) == 77 and names["50"] == "เชียงใหม่ · Chiang Mai"
    part = unpack(map_chunk_bytes(engine, GeoChunk("subdistrict", "detail", "46")))
    assert {c[:2] for c in part.codes} == {"46"}
    assert len(part.codes) == int((engine.boundaries("subdistrict").index.str[:2] == "46").sum())


@pytest.mark.parametrize("level", ["province", "district", "subdistrict"])
def test_the_triangles_cover_each_area_exactly(engine, level):
    """The server's triangles (earcut) fill each area and nothing else: per area, their summed area is the area
    of its polygons in the store (shapely, on the same float32 points), and every corner is one of the area's own vertices.
    Exact for all but a few areas, where earcut (deck.gl's own too) is off by a few parts in 100,000 on near-degenerate
    rings: far below a pixel. A lost hole or a misplaced corner is off by far more."""
    s = unpack(map_chunk_bytes(engine, GeoChunk(level, "overview")))
    stored = shapely.from_geojson(engine.boundaries(level)["geojson_overview"].reindex(s.codes).to_numpy())
    stored = shapely.transform(stored, lambda xy: xy.astype(np.float32).astype(np.float64))  # as the file holds them
    v_end, c_end = np.cumsum(s.area_vertices, dtype=np.int64), np.cumsum(s.area_corners, dtype=np.int64)
    pts = s.positions.astype(np.float64)
    for k, code in enumerate(s.codes):
        xy = pts[v_end[k] - s.area_vertices[k]:v_end[k]]
        corners = s.corners[c_end[k] - s.area_corners[k]:c_end[k]]
        assert len(corners) % 3 == 0 and corners.max() < len(xy), code
        a, b, c = (xy[corners[i::3]] for i in range(3))
        tri = np.abs((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (c[:, 0] - a[:, 0]) * (b[:, 1] - a[:, 1])).sum() / 2
        assert tri == pytest.approx(stored[k].area, rel=1e-4), code


def test_the_geometry_file_reads_back_as_written(engine):
    shapes = _shapes(engine, "district", "detail").chunk("46")
    back = unpack(shapes.to_bytes())
    assert back.codes == shapes.codes and back.names == shapes.names
    for name in ("positions", "ring_sizes", "area_vertices", "area_rings", "area_corners", "corners"):
        assert np.array_equal(getattr(back, name), getattr(shapes, name)), name
    with pytest.raises(ValueError):
        unpack(b'{"type": "FeatureCollection"}')


def test_nationwide_subdistrict_rerun_sends_no_geometry(engine):
    v = build_view(engine, Query(level="subdistrict"), lang="th")
    assert v.map.resolution == "overview" and v.map.n_features == 7_423
    assert v.map.nbytes <= 300_000  # codes, palette indices and tooltip values; geometry is fetched once
    assert '"geometry"' not in json.dumps(v.map.args)


def test_drilled_view_uses_detail_geometry_with_context(engine):
    v = build_view(engine, Query(level="subdistrict", parent="4601"), lang="en", selected="460102")
    assert v.map.resolution == "detail" and v.map.args["selected"] == "460102"
    assert v.map.chunks == (GeoChunk("subdistrict", "detail", "46"), GeoChunk("province", "detail", "46"))
    assert v.map.args["context"] == {"geo": ["province-detail-46.bin"], "codes": "46"}
    assert {p["c"][:4] for p in v.map.features()} == {"4601"}


def test_click_value_maps_to_code():
    assert selected_code({"code": "46", "at": 1}) == "46"
    assert selected_code({"code": "<script>"}) is None and selected_code({}) is None
    assert selected_code(None) is None


def test_ranking_sorted_with_no_data_last(engine):
    v = build_view(engine, Query(level="province", metric="rate"), lang="th")
    vals = v.ranking["value"].to_numpy()
    assert np.all(np.diff(vals[:-1]) <= 0) and np.isnan(vals[-1]) and v.ranking["code"].iloc[-1] == "10"
    assert v.ranking["rank"].iloc[0] == 1 and v.ranking["rank"].isna().iloc[-1]


def test_legend_counts_cover_every_area(engine):
    v = build_view(engine, Query(level="district"), lang="en")
    assert sum(row.count for row in v.legend) == len(v.result.table)
    assert v.legend[-1].label == "No data"


def test_map_component_loads_nothing_from_the_internet():
    """No base map, no CDN: the page, deck.gl and the geometry all come from the app's own server."""
    import re
    from pathlib import Path

    folder = Path(__file__).resolve().parent.parent / "app_pages" / "map_component"
    for f in folder.iterdir():
        assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", f.read_text(encoding="utf-8")), f.name


def test_scattered_groups_are_drawn_in_panels_north_first(engine):
    from povmap.core.engine import Query
    from povmap.present.explorer import build_view, scope_panels
    from povmap.web.maplayer import panel_bounds

    boxes, titles = scope_panels(engine, Query(scope="sra7"), "en")
    assert titles == ["Lampang", "Kalasin · Mukdahan · Roi Et", "Pattani · Phatthalung · Yala"]
    assert [b[3] for b in boxes] == sorted((b[3] for b in boxes), reverse=True)  # north first
    prov = engine.boundaries("province")
    for box, title in zip(boxes, scope_panels(engine, Query(scope="sra7"), "th")[1]):
        inside = [c for c in ("52", "45", "46", "49", "93", "94", "95")
                  if box[0] <= prov.at[c, "minx"] and prov.at[c, "maxx"] <= box[2]]
        assert len(inside) == len(title.split(" · "))
    # one province, neighbours, a drilled-down view, the whole country: one view
    assert scope_panels(engine, Query(scope="46"), "en") is None
    assert scope_panels(engine, Query(scope="sra7", level="district", parent="46"), "en") is None
    assert scope_panels(engine, Query(scope="all"), "en") is None
    b = prov.loc[["45", "46", "49"], ["minx", "miny", "maxx", "maxy"]].to_numpy().tolist()
    assert panel_bounds(b) == []
    # the map carries the panels and their titles; each panel zooms to its own box, so subdistricts use detail files
    v = build_view(engine, Query(scope="sra7", level="subdistrict", metric="rate"), lang="en")
    assert len(v.map.args["panels"]) == 3 and v.map.args["panelTitles"][0] == "Lampang"
    assert v.map.resolution == "detail"
    assert build_view(engine, Query(scope="46", level="district"), lang="en").map.args["panels"] is None
