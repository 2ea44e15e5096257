"""What both peer apps share: the same data, the same filter widget, the same classes and the timing line.

Only the map library differs between ``plotly_app.py`` and ``folium_app.py``, so the benchmark compares maps.
The dimension pills carry the same Thai labels as povmap's explorer, so one driver can click
"ด้านการเข้าถึงบริการรัฐ" in every app. Each run logs one line ``peer-timing {json}`` (script time,
server side) to stderr; ``bench/bench_peers.py`` reads it.
"""
from __future__ import annotations

import json
import sys
import time

import mapclassify
import numpy as np
import pandas as pd
import streamlit as st

from povmap.core.vocab import DIMENSIONS

LEVEL = "subdistrict"
# ColorBrewer YlOrRd, 5 classes, and a grey for "no data".
PALETTE = ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"]
NO_DATA = "#bdbdbd"


def combo_of(dims) -> str:
    return "".join("1" if d.key in dims else "0" for d in DIMENSIONS)


def page(library: str) -> str | None:
    """Sidebar dimension pills (povmap's Thai labels, so one driver clicks all apps) and the title.

    Returns the TPMAP combination, or stops the page when no dimension is selected."""
    with st.sidebar:
        labels = {d.key: d.label("th") for d in DIMENSIONS}
        dims = st.pills("มิติความยากจน (TPMAP)", list(labels), selection_mode="multi", default=list(labels),
                        format_func=labels.get, key="peer.dims")
    st.title(f"แผนที่คนจนเป้าหมาย TPMAP · ตำบล ({library})")
    if not dims:
        st.warning("เลือกอย่างน้อยหนึ่งมิติ")
        st.stop()
    return combo_of(dims)


def classified(areas: pd.DataFrame, tpmap: pd.DataFrame, combo: str):
    """``areas`` joined with the combination's people and a quantile class (-1 = no data); also the classifier."""
    rows = tpmap.loc[tpmap["combo"] == combo, ["code", "people"]]
    df = areas.merge(rows, on="code", how="left")
    ok = df["people"].notna().to_numpy()
    klass = np.full(len(df), -1)
    q = mapclassify.Quantiles(df.loc[ok, "people"].to_numpy(dtype="float64"), k=5)
    klass[ok] = q.yb
    df["klass"] = klass
    return df, ok, q


def log_timing(app: str, combo: str, features: int, t0: float, t_build: float, t_fig: float) -> None:
    """One ``peer-timing {json}`` line on stderr, read by ``bench/bench_peers.py`` (server-side times)."""
    t_end = time.perf_counter()
    print("peer-timing " + json.dumps({
        "app": app, "combo": combo, "features": features,
        "build_ms": round((t_fig - t_build) * 1000, 1),    # join + classify + figure or map objects
        "element_ms": round((t_end - t_fig) * 1000, 1),    # the chart element: serialise + marshal
        "script_ms": round((t_end - t0) * 1000, 1),        # whole script run
    }), file=sys.stderr, flush=True)
