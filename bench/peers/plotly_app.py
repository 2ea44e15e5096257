"""Peer app for the issue-7 benchmark: the nationwide subdistrict choropleth with plotly.

What a competent Streamlit user would write: load the store's subdistrict shapes and the TPMAP
table once (``st.cache_resource``), then on every rerun join the selected combination, classify
it (``mapclassify.Quantiles(k=5)``) and build ``px.choropleth_map(map_style="white-bg")`` (no tiles,
so no internet), shown with ``st.plotly_chart``. One trace with a stepped colour scale: the
geometry is in the figure once (a discrete ``color=`` would give one trace, and one copy of the
GeoJSON, per class).

    .venv/bin/streamlit run bench/peers/plotly_app.py

The dimension pills carry the same Thai labels as povmap's explorer, so one driver can click
"ด้านการเข้าถึงบริการรัฐ" in every app. Each run logs one line ``peer-timing {json}`` (script time,
server side) to stderr; ``bench/bench_peers.py`` reads it.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

_T0 = time.perf_counter()

import mapclassify  # noqa: E402
import numpy as np  # noqa: E402
import plotly.express as px  # noqa: E402
import streamlit as st  # noqa: E402

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

st.set_page_config(page_title="peer: plotly", layout="wide")


@st.cache_resource(show_spinner="Loading shapes …")
def load(path: str):
    """Shapes as a GeoJSON dict (feature property ``code``) and the TPMAP rows: once per server."""
    store = Store(path)
    shapes = store.shapes(LEVEL)[["code", "geometry"]]
    geojson = json.loads(shapes.to_json(drop_id=True))
    tpmap = store.tpmap(LEVEL)[["code", "combo", "people"]]
    return shapes[["code"]].copy(), tpmap, geojson


def combo_of(dims) -> str:
    return "".join("1" if d.key in dims else "0" for d in DIMENSIONS)


codes, tpmap, geojson = load(str(store_dir()))

with st.sidebar:
    labels = {d.key: d.label("th") for d in DIMENSIONS}
    dims = st.pills("มิติความยากจน (TPMAP)", list(labels), selection_mode="multi", default=list(labels),
                    format_func=labels.get, key="peer.dims")

st.title("แผนที่คนจนเป้าหมาย TPMAP · ตำบล (plotly)")
if not dims:
    st.warning("เลือกอย่างน้อยหนึ่งมิติ")
    st.stop()

_t_build = time.perf_counter()
combo = combo_of(dims)
rows = tpmap.loc[tpmap["combo"] == combo, ["code", "people"]]
df = codes.merge(rows, on="code", how="left")
ok = df["people"].notna().to_numpy()
klass = np.full(len(df), -1.0)
q = mapclassify.Quantiles(df.loc[ok, "people"].to_numpy(dtype="float64"), k=5)
klass[ok] = q.yb
df["klass"] = klass
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
_t_end = time.perf_counter()
print("peer-timing " + json.dumps({
    "app": "plotly", "combo": combo, "features": len(df),
    "build_ms": round((_t_fig - _t_build) * 1000, 1),       # join + classify + figure
    "element_ms": round((_t_end - _t_fig) * 1000, 1),      # st.plotly_chart: to_json + marshal
    "script_ms": round((_t_end - _T0) * 1000, 1),          # whole script run
}), file=sys.stderr, flush=True)
