"""Class breaks, colours, the map JSON and the selection round trip."""
from __future__ import annotations

import json

import mapclassify
import numpy as np
import pytest

from povmap.classify import NO_DATA_RGBA, classify, palette
from povmap.explorer import build_view
from povmap.maplayer import AREAS_LAYER, selected_code, view_state
from povmap.metrics import Query


@pytest.mark.parametrize("scheme,mc", [("quantiles", "Quantiles"), ("fisher_jenks", "FisherJenks"),
                                       ("equal_interval", "EqualInterval")])
def test_breaks_are_mapclassify_breaks(scheme, mc):
    y = np.random.default_rng(1).gamma(2.0, 300.0, 500)
    c = classify(np.r_[y, np.nan], scheme, 5)
    ref = mapclassify.classify(y, mc, k=5)
    np.testing.assert_allclose(c.upper, ref.bins)
    assert list(c.index[:-1]) == list(ref.yb) and c.index[-1] == -1
    assert sum(c.counts) == 500 and c.no_data == 1


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


def test_map_json_is_valid_compact_and_complete(engine):
    v = build_view(engine, Query(level="province"), lang="th")
    spec = json.loads(v.map.json)
    layer = next(lyr for lyr in spec["layers"] if lyr["id"] == AREAS_LAYER)
    feats = layer["data"]
    assert len(feats) == 77 and layer["pickable"] and layer["getFillColor"] == "@@=properties.f"
    by_code = {f["properties"]["c"]: f["properties"] for f in feats}
    assert by_code["10"]["f"] == list(NO_DATA_RGBA)  # Bangkok: no data, grey
    assert by_code["50"]["n"] == "เชียงใหม่ · Chiang Mai"
    assert by_code["50"]["v"] == "54,887 คน"
    assert all(isinstance(x, int) for x in by_code["50"]["f"])
    assert "\n" not in v.map.json  # compact, unlike pydeck's indented JSON
    assert "{v}" in v.map.tooltip["html"] and "{n}" in v.map.tooltip["html"]


def test_nationwide_subdistrict_payload_under_3_mb(engine):
    v = build_view(engine, Query(level="subdistrict"), lang="th")
    assert v.map.resolution == "overview" and v.map.n_features == 7_423
    assert v.map.nbytes <= 3_000_000


def test_drilled_view_uses_detail_geometry_with_context(engine):
    v = build_view(engine, Query(level="subdistrict", parent="4601"), lang="en", selected="460102")
    spec = json.loads(v.map.json)
    ids = [lyr["id"] for lyr in spec["layers"]]
    assert ids == ["context", AREAS_LAYER, "selected"] and v.map.resolution == "detail"
    feats = spec["layers"][1]["data"]
    assert {f["properties"]["c"][:4] for f in feats} == {"4601"}


def test_selection_state_maps_to_code():
    obj = {"type": "Feature", "properties": {"c": "46", "n": "x"}, "geometry": None}
    assert selected_code({"selection": {"indices": {AREAS_LAYER: [3]}, "objects": {AREAS_LAYER: [obj]}}}) == "46"
    assert selected_code({"selection": {"indices": {}, "objects": {}}}) is None
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


def test_map_spec_asks_for_no_base_map(engine):
    """Without pydeck's no-base-map sentinel, Streamlit fetches Carto's style from the internet on every load."""
    import json

    from povmap.explorer import build_view
    from povmap.metrics import Query

    spec = json.loads(build_view(engine, Query(scope="46", level="district"), lang="th").map.json)
    assert spec["mapStyle"] == "__MAP_STYLE__"
