"""Peer app for the issue-7 benchmark: the nationwide subdistrict choropleth with plotly.

What a competent Streamlit user would write: load the store's subdistrict shapes and the TPMAP
table once (``st.cache_resource``), then on every rerun join the selected combination, classify
it (``mapclassify.Quantiles(k=5)``) and build ``px.choropleth_map(map_style="white-bg")`` (no tiles,
so no internet), shown with ``st.plotly_chart``. One trace with a stepped colour scale: the
geometry is in the figure once (a discrete ``color=`` would give one trace, and one copy of the
GeoJSON, per class).

    .venv/bin/streamlit run bench/peers/plotly_app.py

Data, filter widget, classes and timing line come from ``_peer.py``.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

_T0 = time.perf_counter()

import plotly.express as px  # noqa: E402
import streamlit as st  # noqa: E402

# This copy's povmap and _peer first (the bench runs the apps from a snapshot of the tree).
sys.path[:0] = [str(Path(__file__).resolve().parents[2]), str(Path(__file__).resolve().parent)]

from _peer import LEVEL, NO_DATA, PALETTE, classified, log_timing, page  # noqa: E402

from povmap.core.config import store_dir  # noqa: E402
from povmap.data.store import Store  # noqa: E402

st.set_page_config(page_title="peer: plotly", layout="wide")


@st.cache_resource(show_spinner="Loading shapes …")
def load(path: str):
    """Shapes as a GeoJSON dict (feature property ``code``) and the TPMAP rows: once per server."""
    store = Store(path)
    shapes = store.shapes(LEVEL)[["code", "geometry"]]
    geojson = json.loads(shapes.to_json(drop_id=True))
    tpmap = store.tpmap(LEVEL)[["code", "combo", "people"]]
    return shapes[["code"]].copy(), tpmap, geojson


codes, tpmap, geojson = load(str(store_dir()))
combo = page("plotly")

_t_build = time.perf_counter()
df, ok, q = classified(codes, tpmap, combo)
edges = [float(df.loc[ok, "people"].min()), *q.bins.tolist()]
ticks = ["no data"] + [f"{edges[i]:,.0f}–{edges[i + 1]:,.0f}" for i in range(len(q.bins))]
# A stepped scale over -1 (no data) … 4: six flat bands of equal width.
colors = [NO_DATA, *PALETTE[: len(q.bins)]]
n = len(colors)
scale = [c for i, col in enumerate(colors) for c in ((i / n, col), ((i + 1) / n, col))]
fig = px.choropleth_map(
    df, geojson=geojson, locations="code", featureidkey="properties.code", color="klass",
    color_continuous_scale=scale, range_color=(-1.5, n - 1.5), hover_name="code",
    hover_data={"people": True, "klass": False}, map_style="white-bg", center={"lat": 13.0, "lon": 101.0},
    zoom=4.6, opacity=0.85, height=620,
)
fig.update_traces(marker_line_width=0.3, marker_line_color="#6e6e6e")
fig.update_layout(margin=dict(l=0, r=0, t=0, b=0), coloraxis_colorbar=dict(
    title="คน", tickvals=list(range(-1, n - 1)), ticktext=ticks))
_t_fig = time.perf_counter()
st.plotly_chart(fig, key="peer.plotly.map", config={"displaylogo": False})
log_timing("plotly", combo, len(df), _T0, _t_build, _t_fig)
