"""Peer app for the issue-7 benchmark: the nationwide subdistrict choropleth with folium.

What a competent Streamlit user would write: load the store's subdistrict shapes and the TPMAP
table once (``st.cache_resource``), then on every rerun join the selected combination, classify
it (``mapclassify.Quantiles(k=5)``) and build a ``folium.Map`` (no tiles: no internet) with one
``folium.GeoJson`` layer (fill from the class, tooltip with code and people), shown with
``streamlit_folium.st_folium(..., returned_objects=[])`` so that panning the map does not rerun.

    .venv/bin/streamlit run bench/peers/folium_app.py

Leaflet itself: folium points the browser at public CDNs (leaflet, jQuery, Bootstrap, Font
Awesome …), which an offline network cannot reach, and ``st_folium`` never draws the map when
one of them fails. With ``POVMAP_PEER_LEAFLET_URL=<base URL>`` set, the map loads only
``<base>/leaflet.js`` and ``<base>/leaflet.css`` (all a GeoJSON choropleth needs), as an offline
team would host it; ``bench/bench_peers.py`` serves Debian's ``libjs-leaflet`` on loopback.

The dimension pills carry the same Thai labels as povmap's explorer, so one driver can click
"ด้านการเข้าถึงบริการรัฐ" in every app. Each run logs one line ``peer-timing {json}`` (script time,
server side) to stderr; ``bench/bench_peers.py`` reads it.
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

_T0 = time.perf_counter()

import folium  # noqa: E402
import mapclassify  # noqa: E402
import numpy as np  # noqa: E402
import streamlit as st  # noqa: E402
from streamlit_folium import st_folium  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from povmap.config import store_dir  # noqa: E402
from povmap.store import Store  # noqa: E402
from povmap.vocab import DIMENSIONS  # noqa: E402

LEVEL = "subdistrict"
# ColorBrewer YlOrRd, 5 classes, and a grey for "no data".
PALETTE = ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"]
NO_DATA = "#bdbdbd"
LEAFLET_BASE = os.environ.get("POVMAP_PEER_LEAFLET_URL", "").rstrip("/")

st.set_page_config(page_title="peer: folium", layout="wide")


@st.cache_resource(show_spinner="Loading shapes …")
def load(path: str):
    """Shapes (``code``, ``geometry``) and the TPMAP rows: once per server."""
    store = Store(path)
    return store.shapes(LEVEL)[["code", "geometry"]], store.tpmap(LEVEL)[["code", "combo", "people"]]


def combo_of(dims) -> str:
    return "".join("1" if d.key in dims else "0" for d in DIMENSIONS)


shapes, tpmap = load(str(store_dir()))

with st.sidebar:
    labels = {d.key: d.label("th") for d in DIMENSIONS}
    dims = st.pills("มิติความยากจน (TPMAP)", list(labels), selection_mode="multi", default=list(labels),
                    format_func=labels.get, key="peer.dims")

st.title("แผนที่คนจนเป้าหมาย TPMAP · ตำบล (folium)")
if not dims:
    st.warning("เลือกอย่างน้อยหนึ่งมิติ")
    st.stop()

_t_build = time.perf_counter()
combo = combo_of(dims)
rows = tpmap.loc[tpmap["combo"] == combo, ["code", "people"]]
gdf = shapes.merge(rows, on="code", how="left")
ok = gdf["people"].notna().to_numpy()
klass = np.full(len(gdf), -1)
klass[ok] = mapclassify.Quantiles(gdf.loc[ok, "people"].to_numpy(dtype="float64"), k=5).yb
gdf["fill"] = [PALETTE[k] if k >= 0 else NO_DATA for k in klass.tolist()]

m = folium.Map(location=[13.0, 101.0], zoom_start=5.6, zoom_snap=0.1, tiles=None, control_scale=False)
if LEAFLET_BASE:
    m.default_js = [("leaflet", f"{LEAFLET_BASE}/leaflet.js")]
    m.default_css = [("leaflet_css", f"{LEAFLET_BASE}/leaflet.css")]
folium.GeoJson(
    gdf, name="TPMAP",
    style_function=lambda f: {"fillColor": f["properties"]["fill"], "color": "#6e6e6e", "weight": 0.3,
                              "fillOpacity": 0.85},
    tooltip=folium.GeoJsonTooltip(fields=["code", "people"], aliases=["ตำบล", "คน"]),
).add_to(m)
_t_fig = time.perf_counter()
st_folium(m, height=620, use_container_width=True, returned_objects=[], key="peer.folium.map")
_t_end = time.perf_counter()
print("peer-timing " + json.dumps({
    "app": "folium", "combo": combo, "features": len(gdf),
    "build_ms": round((_t_fig - _t_build) * 1000, 1),       # join + classify + map objects
    "element_ms": round((_t_end - _t_fig) * 1000, 1),      # st_folium: render the map's JS + marshal
    "script_ms": round((_t_end - _T0) * 1000, 1),          # whole script run
}), file=sys.stderr, flush=True)
