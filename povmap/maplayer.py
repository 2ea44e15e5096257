"""Map layers for deck.gl, assembled as one compact JSON string.

pydeck serialises with indentation and re-encodes every coordinate on each call; the
nationwide subdistrict map would be ~28 MB per rerun. Here geometry is serialised once at
install (``geojson_overview``/``geojson_detail`` in the store) and each rerun only joins
strings and per-area properties, which keeps the payload near 2-3 MB and the build fast.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pydeck as pdk

AREAS_LAYER = "areas"
# A view wider than this (degrees) uses the coverage-simplified geometry: at that zoom one
# pixel is over a kilometre, so the simplification cannot be seen.
OVERVIEW_SPAN_DEG = 3.0
MAP_HEIGHT_PX = 620


class PrebuiltDeck(pdk.Deck):
    """A Deck whose JSON is already built; Streamlit calls ``to_json`` and reads ``_tooltip``."""

    def __init__(self, spec_json: str, tooltip: dict):
        super().__init__(layers=[], map_provider=None, tooltip=tooltip)
        self._spec_json = spec_json

    def to_json(self) -> str:  # noqa: D102 - pydeck API
        return self._spec_json


@dataclass(frozen=True)
class MapSpec:
    json: str
    tooltip: dict
    n_features: int
    resolution: str  # overview | detail

    @property
    def nbytes(self) -> int:
        return len(self.json.encode("utf-8"))

    def deck(self) -> PrebuiltDeck:
        return PrebuiltDeck(self.json, self.tooltip)


def view_state(bounds: tuple[float, float, float, float], width_px: int = 700, height_px: int = MAP_HEIGHT_PX) -> dict:
    """Centre and zoom that fit ``(minx, miny, maxx, maxy)`` in a map of the given size.

    deck.gl's zoom 0 shows the world in 512 px (not 256 as for raster tiles)."""
    minx, miny, maxx, maxy = bounds
    lon_span = max(maxx - minx, 0.01)
    # Web Mercator stretches latitude by 1/cos(lat)
    lat_c = (miny + maxy) / 2
    lat_span = max(maxy - miny, 0.01) / max(math.cos(math.radians(lat_c)), 0.2)
    zoom = min(math.log2(360 * width_px / (512 * lon_span)), math.log2(360 * height_px / (512 * lat_span)))
    return {"longitude": round((minx + maxx) / 2, 4), "latitude": round(lat_c, 4),
            "zoom": round(max(min(zoom - 0.15, 13), 4.0), 2), "minZoom": 4, "maxZoom": 14}


_str = json.JSONEncoder(ensure_ascii=False).encode  # one JSON string literal


def feature_heads(boundaries: pd.DataFrame, resolution: str, labels: pd.Series) -> pd.Series:
    """Per area, the constant start of its GeoJSON feature (geometry, code, label), by code.

    Built once per level and resolution; a rerun only appends the colour and tooltip values.
    """
    geo = boundaries[f"geojson_{resolution}"]
    lab = labels.reindex(geo.index)
    heads = [f'{{"type":"Feature","geometry":{g},"properties":{{"c":{_str(c)},"n":{_str(n)}'
             for c, g, n in zip(geo.index.tolist(), geo.tolist(), lab.tolist())]
    return pd.Series(heads, index=geo.index, dtype=object)


def _features(heads, extra: dict[str, list[str]]) -> str:
    """Close each feature head with per-rerun properties given as JSON literals."""
    cols = [[f',"{k}":{v}' for v in values] for k, values in extra.items()]
    return "[" + ",".join(h + "".join(parts) + "}}" for h, *parts in zip(heads, *cols)) + "]"


def json_strings(values: list[str]) -> list[str]:
    """Our own formatted numbers and labels as JSON string literals (escaped only if needed)."""
    return [f'"{v}"' if '"' not in v and "\\" not in v else _str(v) for v in values]


def _plain_features(geojson) -> str:
    return "[" + ",".join(f'{{"type":"Feature","geometry":{g},"properties":{{}}}}' for g in geojson) + "]"


def build_map(
    boundaries: pd.DataFrame,
    codes,
    heads,
    *,
    fills: list[str],
    tooltip_lines: dict[str, tuple[str, list[str]]],
    selected: str | None = None,
    context: pd.DataFrame | None = None,
    bounds: tuple[float, float, float, float] | None = None,
    size_px: tuple[int, int] = (700, MAP_HEIGHT_PX),
) -> MapSpec:
    """Build the deck JSON for the areas ``codes`` (in the order of ``fills``).

    ``boundaries``: the store's boundary table of the level, indexed by code.
    ``fills``: per area, its colour as a JSON array literal (see ``Classes.fill_json``).
    ``heads``: a callable ``resolution -> feature_heads(...)`` (cached by the caller).
    ``tooltip_lines``: key -> (template, values): a tooltip line such as ``"Rate: {v}"`` and the
    per-area values of ``{key}``. Constant text stays in the template, not in every feature.
    ``context``: optional boundary rows (e.g. provinces) drawn in grey under the areas.
    """
    codes = np.asarray(codes, dtype=object)
    if bounds is None:
        bounds = bounds_of(boundaries, codes)
    span = max(bounds[2] - bounds[0], bounds[3] - bounds[1])
    resolution = "overview" if span > OVERVIEW_SPAN_DEG else "detail"
    extra = {"f": fills, **{key: json_strings(values) for key, (_, values) in tooltip_lines.items()}}
    layers: list[dict] = []
    data: dict[str, str] = {}
    if context is not None and len(context):
        layers.append({"@@type": "GeoJsonLayer", "id": "context", "data": "__DATA_context__",
                       "stroked": True, "filled": True, "pickable": False,
                       "getFillColor": [238, 238, 238, 255], "getLineColor": [150, 150, 150, 255],
                       "lineWidthMinPixels": 0.6})
        data["context"] = _plain_features(context["geojson_detail"])
    layers.append({"@@type": "GeoJsonLayer", "id": AREAS_LAYER, "data": f"__DATA_{AREAS_LAYER}__",
                   "stroked": True, "filled": True, "pickable": True, "autoHighlight": True,
                   # Picking the outlines takes ~1 s without a GPU, longer than deck.gl's 250 ms click
                   # window, so clicks were lost; the fill alone picks in ~30 ms.
                   "_subLayerProps": {"polygons-stroke": {"pickable": False}},
                   "highlightColor": [30, 60, 160, 90], "getFillColor": "@@=properties.f",
                   "getLineColor": [110, 110, 110, 200], "lineWidthMinPixels": 0.4 if resolution == "overview" else 0.8})
    data[AREAS_LAYER] = _features(heads(resolution).loc[codes].tolist(), extra)
    if selected is not None and selected in boundaries.index:
        layers.append({"@@type": "GeoJsonLayer", "id": "selected", "data": "__DATA_selected__",
                       "stroked": True, "filled": False, "pickable": False,
                       "getLineColor": [20, 20, 20, 255], "lineWidthMinPixels": 3})
        data["selected"] = _plain_features(boundaries.loc[[selected], "geojson_detail"])
    # pydeck's "no base map" sentinel: without a mapStyle Streamlit loads Carto's style from the internet.
    spec = {"initialViewState": view_state(bounds, *size_px), "layers": layers, "mapStyle": "__MAP_STYLE__",
            "views": [{"@@type": "MapView", "controller": True}]}
    text = json.dumps(spec, ensure_ascii=False, separators=(",", ":"))
    for layer_id, payload in data.items():
        text = text.replace(f'"__DATA_{layer_id}__"', payload, 1)
    tip_rows = "".join(f"<br/>{template}" for template, _ in tooltip_lines.values())
    tooltip = {"html": f"<b>{{n}}</b><br/><span style='opacity:.75'>{{c}}</span>{tip_rows}",
               "style": {"fontFamily": "Sarabun, 'Noto Sans Thai', sans-serif", "fontSize": "14px",
                         "backgroundColor": "#ffffff", "color": "#222222", "border": "1px solid #999"}}
    return MapSpec(text, tooltip, len(codes), resolution)


def selected_code(state, layer_id: str = AREAS_LAYER) -> str | None:
    """The area code picked on the map, from Streamlit's pydeck selection state (dict or object)."""
    if not state:
        return None
    selection = state["selection"] if isinstance(state, dict) else getattr(state, "selection", None)
    if not selection:
        return None
    objects = (selection.get("objects") or {}).get(layer_id) or []
    if not objects:
        return None
    obj = objects[0]
    props = obj.get("properties") if isinstance(obj.get("properties"), dict) else obj
    code = props.get("c")
    return str(code) if code is not None else None


def bounds_of(boundaries: pd.DataFrame, codes) -> tuple[float, float, float, float]:
    b = boundaries.loc[list(codes)]
    return (float(b["minx"].min()), float(b["miny"].min()), float(b["maxx"].max()), float(b["maxy"].max()))
