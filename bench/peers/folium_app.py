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

Data, filter widget, classes and timing line come from ``_peer.py``.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

_T0 = time.perf_counter()

import folium  # noqa: E402
import streamlit as st  # noqa: E402
from streamlit_folium import st_folium  # noqa: E402

# This copy's povmap and _peer first (the bench runs the apps from a snapshot of the tree).
sys.path[:0] = [str(Path(__file__).resolve().parents[2]), str(Path(__file__).resolve().parent)]

from _peer import LEVEL, NO_DATA, PALETTE, classified, log_timing, page  # noqa: E402

from povmap.core.config import store_dir  # noqa: E402
from povmap.data.store import Store  # noqa: E402

LEAFLET_BASE = os.environ.get("POVMAP_PEER_LEAFLET_URL", "").rstrip("/")

st.set_page_config(page_title="peer: folium", layout="wide")


@st.cache_resource(show_spinner="Loading shapes …")
def load(path: str):
    """Shapes (``code``, ``geometry``) and the TPMAP rows: once per server."""
    store = Store(path)
    return store.shapes(LEVEL)[["code", "geometry"]], store.tpmap(LEVEL)[["code", "combo", "people"]]


shapes, tpmap = load(str(store_dir()))
combo = page("folium")

_t_build = time.perf_counter()
gdf, ok, _ = classified(shapes, tpmap, combo)
gdf["fill"] = [PALETTE[k] if k >= 0 else NO_DATA for k in gdf["klass"].tolist()]

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
log_timing("folium", combo, len(gdf), _T0, _t_build, _t_fig)
