#!/usr/bin/env python3
"""Benchmark of the explorer page against the naive GeoJSON → pydeck approach.

Reports, as medians (with min–max) over several runs:

1. install time: ``povmap.data.install.install(src, <temp store>, force=True, log=None)`` in a fresh
   Python process per run (so no in-process cache helps), plus the up-to-date check that
   ``make run`` pays on every start (``force=False`` on the store just built);
2. time from a filter change to the finished script run, at each level, nationwide: the real app
   (``app.py``) driven through ``streamlit.testing.v1.AppTest`` — change one sidebar widget, time
   ``at.run()``. The naive app (a small temporary Streamlit script: GeoDataFrame → GeoJSON →
   ``pdk.Layer("GeoJsonLayer")``) is driven the same way, alternating A B A B with povmap;
3. bytes of the map payload sent to the browser per rerun, per level: povmap's map component
   arguments (``at.get("component_instance")[0].proto.json_args``; its geometry files are fetched
   once and cached, see ``povmap/web/maplayer.py``), the naive app's deck JSON
   (``at.get("deck_gl_json_chart")[0].proto.json``), UTF-8 bytes.

It also times the two map paths without Streamlit (``povmap.present.explorer.build_view`` + the map JSON
vs. the naive join + classify + ``Deck.to_json()``), to separate the map from the rest of the page.

    .venv/bin/python bench/bench_explorer.py [--runs N] [--install-runs M] [--store DIR] [--from DIR] [--json OUT]

Exit status 0 whatever the figures are (this is a report; PASS/FAIL against the targets is
printed); 2 if the app itself fails (exception on the page, no map).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import datetime, timezone
from pathlib import Path

from _stats import load_avg  # bench/ is on sys.path when a script runs
from _stats import summary as _summary

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
LEVELS = ("province", "district", "subdistrict")
ADM_LEVEL = {"province": 1, "district": 2, "subdistrict": 3}
BOUNDARY_FILE = "hdx-cod-ab-tha/tha_adm{n}_rtsd_20220121_simplified.parquet"
# TPMAP's dimension order = the bit order of its 5-character combo strings (health..access).
ALL_DIMS = ("health", "living", "education", "income", "access")

# A "filter change" flips one sidebar widget between two states; everything else stays at the
# page's defaults (all five dimensions, metric = people, scope = all of Thailand, quantiles k=5).
FILTERS = {
    "dims": ("dims", list(ALL_DIMS[:-1]), list(ALL_DIMS)),  # the "access" pill off / on
    "metric": ("metric", "rate", "people"),
}
BASE_STATE = {"dims": list(ALL_DIMS), "metric": "people"}

TARGET_PAYLOAD_BYTES = 3_000_000  # "payload ≤ 3 MB" (MB = 10^6 bytes)
TARGET_RERUN_MS = 250.0  # "rerun ≤ 250 ms median"
TARGET_LEVEL = "subdistrict"

# ColorBrewer YlOrRd, 5 classes, and a grey for no data: what a naive app would hard-code.
NAIVE_PALETTE = [[255, 255, 178, 210], [254, 204, 92, 210], [253, 141, 60, 210], [240, 59, 32, 210],
                 [189, 0, 38, 210]]
NAIVE_NO_DATA = [189, 189, 189, 200]


# ---------------------------------------------------------------------------------------------
# The naive approach: GeoDataFrame → GeoJSON → pydeck GeoJsonLayer, rebuilt on every rerun.
# ---------------------------------------------------------------------------------------------
def combo_of(dims) -> str:
    dims = set(dims)
    return "".join("1" if d in dims else "0" for d in ALL_DIMS)


class NaiveSources:
    """What a naive app loads once (and would cache): source polygons and the TPMAP tables."""

    def __init__(self, source: Path, store: Path):
        import geopandas as gpd
        import pandas as pd

        self.boundaries, self.tpmap, self.surveyed = {}, {}, {}
        for level, n in ADM_LEVEL.items():
            gdf = gpd.read_parquet(source / BOUNDARY_FILE.format(n=n))
            gdf = gdf[["dopa_code", f"ADM{n}_TH", f"ADM{n}_EN", "geometry"]]
            self.boundaries[level] = gdf.rename(columns={f"ADM{n}_TH": "name_th", f"ADM{n}_EN": "name_en"})
            self.tpmap[level] = pd.read_parquet(store / f"tpmap_{level}.parquet", columns=["code", "combo", "people"])
            base = pd.read_parquet(store / f"tpmap_base_{level}.parquet", columns=["code", "surveyed_people"])
            self.surveyed[level] = base.set_index("code")["surveyed_people"]


def naive_deck(src: NaiveSources, level: str, dims, metric: str):
    """The whole per-rerun path of the naive app: re-join, classify, colour per row, build the Deck."""
    import mapclassify
    import numpy as np
    import pydeck as pdk

    t = src.tpmap[level]
    rows = t.loc[t["combo"] == combo_of(dims), ["code", "people"]]
    gdf = src.boundaries[level].merge(rows, left_on="dopa_code", right_on="code", how="left").drop(columns="code")
    if metric == "rate":
        gdf["value"] = 100.0 * gdf["people"] / gdf["dopa_code"].map(src.surveyed[level])
    else:
        gdf["value"] = gdf["people"].astype("float64")
    ok = gdf["value"].notna().to_numpy()
    klass = np.full(len(gdf), -1)
    klass[ok] = mapclassify.Quantiles(gdf.loc[ok, "value"].to_numpy(), k=5).yb
    gdf["fill"] = [NAIVE_PALETTE[k] if k >= 0 else NAIVE_NO_DATA for k in klass.tolist()]
    layer = pdk.Layer(
        "GeoJsonLayer", data=gdf.__geo_interface__, id="areas", get_fill_color="properties.fill",
        get_line_color=[110, 110, 110, 200], line_width_min_pixels=0.5, stroked=True, filled=True,
        pickable=True, auto_highlight=True,
    )
    return pdk.Deck(layers=[layer], map_provider=None,
                    initial_view_state=pdk.ViewState(latitude=13.0, longitude=101.0, zoom=4.6),
                    tooltip={"html": "<b>{name_th}</b><br/>{name_en}<br/>{value}"})


NAIVE_APP = '''\
"""The naive explorer (benchmark only): sidebar filters, then GeoDataFrame → GeoJSON → pydeck."""
import sys

import streamlit as st

if {bench_dir!r} not in sys.path:
    sys.path.insert(0, {bench_dir!r})
import bench_explorer as b  # noqa: E402


@st.cache_resource(show_spinner=False)
def sources(source, store):
    return b.NaiveSources(b.Path(source), b.Path(store))


src = sources({source!r}, {store!r})
with st.sidebar:
    level = st.selectbox("Level", b.LEVELS, key="explorer.level")
    dims = st.pills("Dimensions", list(b.ALL_DIMS), selection_mode="multi", default=list(b.ALL_DIMS),
                    key="explorer.dims")
    metric = st.selectbox("Metric", ["people", "rate"], key="explorer.metric")
if not dims:
    st.stop()
st.pydeck_chart(b.naive_deck(src, level, dims, metric), height=620, on_select="rerun",
                selection_mode="single-object", key=f"naive.map.{{level}}")
'''


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------
def summary(values) -> dict:
    return _summary(values, missing=float("nan"))  # NaN keeps the report's number formatting

def fmt_ms(s: dict) -> str:
    return f"{s['median']:8,.0f} [{s['min']:,.0f}–{s['max']:,.0f}]"


def fmt_s(s: dict) -> str:
    return f"{s['median']:.2f} s [{s['min']:.2f}–{s['max']:.2f}]"


def mb(n: float) -> float:
    return n / 1e6


def ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


class AppFailure(RuntimeError):
    pass


# ---------------------------------------------------------------------------------------------
# 1. Install
# ---------------------------------------------------------------------------------------------
INSTALL_CHILD = textwrap.dedent('''\
    import json, sys, time
    from pathlib import Path
    t0 = time.perf_counter()
    from povmap.data.install import install
    t1 = time.perf_counter()
    src, store = Path(sys.argv[1]), Path(sys.argv[2])
    install(src, store, force=True, log=None)
    t2 = time.perf_counter()
    install(src, store, force=False, log=None)  # what `make run` pays when nothing changed
    t3 = time.perf_counter()
    print(json.dumps({"import_s": t1 - t0, "install_s": t2 - t1, "noop_s": t3 - t2}))
''')


def bench_install(source: Path, runs: int, log) -> dict:
    samples = []
    for i in range(runs):
        with tempfile.TemporaryDirectory(prefix="povmap-bench-store-") as tmp:
            t = time.perf_counter()
            out = subprocess.run([sys.executable, "-c", INSTALL_CHILD, str(source), str(Path(tmp) / "store")],
                                 cwd=REPO, capture_output=True, text=True)
            wall = time.perf_counter() - t
            if out.returncode != 0:
                raise AppFailure(f"install failed (exit {out.returncode}):\n{out.stderr[-3000:]}")
            rec = json.loads(out.stdout.strip().splitlines()[-1])
            rec["process_s"] = wall
            samples.append(rec)
            log(f"  install run {i + 1}/{runs}: {rec['install_s']:.2f} s (process {wall:.2f} s, "
                f"up-to-date check {rec['noop_s'] * 1000:.0f} ms)")
    return {"samples": samples, **{k: summary([s[k] for s in samples])
                                   for k in ("install_s", "process_s", "noop_s", "import_s")}}


# ---------------------------------------------------------------------------------------------
# 2./3. Reruns and payload
# ---------------------------------------------------------------------------------------------
def share_script_cache() -> None:
    """Make AppTest reuse compiled page bytecode across runs, as ``streamlit run`` does.

    Stock AppTest builds a new ``ScriptCache`` for every ``run()``, so each rerun recompiles (and
    re-applies "magic" to) ``app.py`` and the page: ~40-60 ms here that the real server pays only
    once per file change. Sharing one cache keeps the timed rerun comparable to production.
    """
    import streamlit.testing.v1.app_test as app_test
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache

    shared = ScriptCache()
    app_test.ScriptCache = lambda: shared


class Driver:
    """One Streamlit app in AppTest; a filter change = set one widget, then time ``at.run()``."""

    def __init__(self, name: str, script: Path, timeout: float):
        from streamlit.testing.v1 import AppTest

        self.name = name
        self.at = AppTest.from_file(str(script), default_timeout=timeout)
        self.state = {"level": None, **BASE_STATE}

    def _run(self) -> float:
        t = time.perf_counter()
        self.at.run()
        dt = time.perf_counter() - t
        if len(self.at.exception):
            raise AppFailure(f"{self.name}: exception on the page: {self.at.exception[0].value}\n"
                             + "\n".join(self.at.exception[0].stack_trace))
        if self._map_json() is None:
            errs = "; ".join(e.value for e in self.at.error) or "no st.error either"
            raise AppFailure(f"{self.name}: no map on the page ({errs}); is the store installed? (make store)")
        return dt

    def start(self) -> float:
        return self._run()

    def _widget(self, what: str):
        """The widget keyed ``explorer.<what>``, or a per-language variant (``explorer.<what>.th``)."""
        base = f"explorer.{what}"
        widgets = self.at.pills if what == "dims" else self.at.selectbox
        for w in widgets:
            if w.key == base or (w.key or "").startswith(base + "."):
                return w
        raise AppFailure(f"{self.name}: no widget keyed {base!r} (found: {[w.key for w in widgets]})")

    def change(self, what: str, value) -> dict:
        """Set one widget and rerun; returns the sample (ms, map bytes, page bytes)."""
        self._widget(what).set_value(value)
        dt = self._run()
        self.state[what] = value
        return {"ms": dt * 1000.0, "payload_bytes": self.payload_bytes(), "page_bytes": self.page_bytes()}

    def _map_json(self) -> str | None:
        """The map element's per-rerun payload: povmap's component arguments or the naive deck JSON."""
        if self.at.get("component_instance"):
            return self.at.get("component_instance")[0].proto.json_args
        if self.at.get("deck_gl_json_chart"):
            return self.at.get("deck_gl_json_chart")[0].proto.json
        return None

    def payload_bytes(self) -> int:
        return len(self._map_json().encode("utf-8"))

    def page_bytes(self) -> int:
        """Serialised size of every element of the page (map, tables, text): the rerun's whole delta."""
        from streamlit.testing.v1.element_tree import Element

        try:
            return sum(node.proto.ByteSize() for node in self.at._tree if isinstance(node, Element)
                       and hasattr(node.proto, "ByteSize"))
        except Exception:  # private API; the figure is informative only
            return -1

    def goto(self, level: str) -> None:
        """Put the app on ``level`` at the base state (untimed)."""
        for what, value in BASE_STATE.items():
            if self.state[what] != value:
                self.change(what, value)
        if self.state["level"] != level:
            self.change("level", level)


def direct_povmap(engine, level: str, state: dict) -> dict:
    from povmap.core.engine import Query
    from povmap.present.explorer import build_view

    t = time.perf_counter()
    v = build_view(engine, Query(dataset="tpmap", level=level, scope="all", dimensions=tuple(state["dims"]),
                                 metric=state["metric"]), lang="th", scheme="quantiles", k=5)
    text = json.dumps(v.map.args, ensure_ascii=False, separators=(",", ":"))
    dt = time.perf_counter() - t
    return {"ms": dt * 1000.0, "payload_bytes": len(text.encode("utf-8"))}


def direct_naive(src: NaiveSources, level: str, state: dict) -> dict:
    t = time.perf_counter()
    text = naive_deck(src, level, state["dims"], state["metric"]).to_json()
    dt = time.perf_counter() - t
    return {"ms": dt * 1000.0, "payload_bytes": len(text.encode("utf-8"))}


def bench_reruns(store: Path, source: Path, levels, filters, runs: int, timeout: float, log,
                 fresh_script_cache: bool = False, app: Path = REPO / "app.py") -> dict:
    from povmap.core import config
    from povmap.data.datasource import open_engine

    if not fresh_script_cache:
        share_script_cache()

    tmp = tempfile.TemporaryDirectory(prefix="povmap-bench-naive-")
    naive_script = Path(tmp.name) / "naive_app.py"
    naive_script.write_text(NAIVE_APP.format(bench_dir=str(BENCH_DIR), source=str(source), store=str(store)),
                            encoding="utf-8")
    apps = {"povmap": Driver("povmap", app, timeout), "naive": Driver("naive", naive_script, timeout)}
    first = {}
    for name, drv in apps.items():
        first[name] = drv.start() * 1000.0
        log(f"  first script run of the {name} app (data loading, imports warm): {first[name]:,.0f} ms")
    engine = open_engine(config.load(store=store))
    naive_src = NaiveSources(source, store)

    results = []
    for level in levels:
        for drv in apps.values():
            drv.goto(level)
        for fname in filters:
            what, a_value, b_value = FILTERS[fname]
            states = [{**BASE_STATE, what: a_value}, {**BASE_STATE, what: b_value}]
            # Warm-up: one full toggle cycle per side, so first-use caches (e.g. a new TPMAP combo)
            # are not counted; a user flipping a filter back and forth sees the same.
            for drv in apps.values():
                drv.goto(level)
                for st_ in states:
                    drv.change(what, st_[what])
            for st_ in states:
                direct_povmap(engine, level, st_)
                direct_naive(naive_src, level, st_)
            rec = {"level": level, "filter": fname, "povmap": [], "naive": [], "povmap_direct": [],
                   "naive_direct": []}
            for i in range(runs):
                st_ = states[i % 2]
                # A B A B: the two apps alternate, so machine noise hits both alike.
                rec["povmap"].append(apps["povmap"].change(what, st_[what]))
                rec["naive"].append(apps["naive"].change(what, st_[what]))
                rec["povmap_direct"].append(direct_povmap(engine, level, st_))
                rec["naive_direct"].append(direct_naive(naive_src, level, st_))
            for side in ("povmap", "naive", "povmap_direct", "naive_direct"):
                rec[f"{side}_ms"] = summary([s["ms"] for s in rec[side]])
                rec[f"{side}_payload"] = summary([s["payload_bytes"] for s in rec[side]])
            for side in ("povmap", "naive"):
                rec[f"{side}_page"] = summary([s["page_bytes"] for s in rec[side]])
            log(f"  {level:<11} {fname:<6} povmap {rec['povmap_ms']['median']:7,.0f} ms  "
                f"naive {rec['naive_ms']['median']:7,.0f} ms  "
                f"(direct {rec['povmap_direct_ms']['median']:,.0f} / {rec['naive_direct_ms']['median']:,.0f} ms)  "
                f"map {mb(rec['povmap_payload']['max']):.2f} / {mb(rec['naive_payload']['max']):.2f} MB")
            results.append(rec)
    tmp.cleanup()
    return {"first_run_ms": first, "rows": results}


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------
def report(meta: dict, install: dict | None, reruns: dict | None) -> tuple[str, dict]:
    out = []
    p = out.append
    p("")
    p(f"povmap explorer benchmark — {meta['date']} — {meta['host']} ({meta['cpus']} CPUs, "
      f"load {meta['load_start']} → {meta['load_end']}) — medians [min–max]")
    p(f"python {meta['python']}, streamlit {meta['versions']['streamlit']}, pydeck {meta['versions']['pydeck']}, "
      f"pandas {meta['versions']['pandas']}, geopandas {meta['versions']['geopandas']}")
    p(f"app {meta['app']}; store {meta['store']}")
    targets = {}
    if install:
        p("")
        p(f"Install (fresh process, temp store, force=True), {install['install_s']['n']} runs")
        p(f"  install()                    {fmt_s(install['install_s'])}")
        p(f"  whole process (with imports) {fmt_s(install['process_s'])}")
        p(f"  up-to-date check (no-op)     {install['noop_s']['median'] * 1000:.0f} ms "
          f"[{install['noop_s']['min'] * 1000:.0f}–{install['noop_s']['max'] * 1000:.0f}]")
    if reruns:
        rows = reruns["rows"]
        n = rows[0]["povmap_ms"]["n"] if rows else 0
        p("")
        p(f"Filter change → finished script run (AppTest, nationwide), ms, {n} changes per row; "
          f"compiled scripts {meta['script_cache']}")
        p(f"  {'level':<11} {'filter':<6} {'povmap':>22} {'naive':>22} {'naive÷povmap':>13}")
        for r in rows:
            p(f"  {r['level']:<11} {r['filter']:<6} {fmt_ms(r['povmap_ms']):>22} {fmt_ms(r['naive_ms']):>22} "
              f"{ratio(r['naive_ms']['median'], r['povmap_ms']['median']):>12.1f}×")
        p("")
        p("Map payload per rerun (povmap: map component arguments, geometry fetched once as a file; naive: deck JSON),"
          " MB = 10^6 bytes, largest of the row's reruns")
        p(f"  {'level':<11} {'filter':<6} {'povmap':>9} {'naive':>9} {'naive÷povmap':>13}   "
          f"{'whole page: povmap':>18} {'naive':>8}")
        for r in rows:
            p(f"  {r['level']:<11} {r['filter']:<6} {mb(r['povmap_payload']['max']):>9.2f} "
              f"{mb(r['naive_payload']['max']):>9.2f} "
              f"{ratio(r['naive_payload']['max'], r['povmap_payload']['max']):>12.1f}×   "
              f"{mb(r['povmap_page']['max']):>18.2f} {mb(r['naive_page']['max']):>8.2f}")
        p("")
        p("Map path without Streamlit (povmap: build_view + map JSON; naive: join + classify + Deck.to_json), ms")
        p(f"  {'level':<11} {'filter':<6} {'povmap':>22} {'naive':>22} {'naive÷povmap':>13}")
        for r in rows:
            p(f"  {r['level']:<11} {r['filter']:<6} {fmt_ms(r['povmap_direct_ms']):>22} "
              f"{fmt_ms(r['naive_direct_ms']):>22} "
              f"{ratio(r['naive_direct_ms']['median'], r['povmap_direct_ms']['median']):>12.1f}×")
        tgt = [r for r in rows if r["level"] == TARGET_LEVEL]
        if tgt:
            payload = max(r["povmap_payload"]["max"] for r in tgt)
            rerun = max(r["povmap_ms"]["median"] for r in tgt)
            targets = {
                "payload_bytes": payload, "payload_pass": payload <= TARGET_PAYLOAD_BYTES,
                "rerun_median_ms": rerun, "rerun_pass": rerun <= TARGET_RERUN_MS,
                "direct_median_ms": max(r["povmap_direct_ms"]["median"] for r in tgt),
            }
            p("")
            p(f"Targets, nationwide {TARGET_LEVEL} map (worst filter):")
            p(f"  payload ≤ {mb(TARGET_PAYLOAD_BYTES):.0f} MB:     {mb(payload):6.2f} MB   "
              f"{'PASS' if targets['payload_pass'] else 'FAIL'}")
            p(f"  rerun ≤ {TARGET_RERUN_MS:.0f} ms median: {rerun:6,.0f} ms   {'PASS' if targets['rerun_pass'] else 'FAIL'}"
              f"   (map path alone: {targets['direct_median_ms']:,.0f} ms)")
        fr = reruns["first_run_ms"]
        p("")
        p(f"First script run in this process: povmap {fr['povmap']:,.0f} ms, naive {fr['naive']:,.0f} ms "
          f"(not medians; includes loading the data)")
    p("")
    return "\n".join(out), targets


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=7, help="filter changes timed per level and filter (default 7)")
    ap.add_argument("--install-runs", type=int, default=3, help="install runs (default 3; 0 to skip)")
    ap.add_argument("--store", help="installed store the app reads (default: $POVMAP_STORE or data/store)")
    ap.add_argument("--from", dest="source", help="source folder (default: $POVMAP_SOURCE or ../shared/data)")
    ap.add_argument("--json", help="also write every sample and the summary to this JSON file")
    ap.add_argument("--levels", default=",".join(LEVELS), help="comma-separated levels (default: all three)")
    ap.add_argument("--filters", default="dims,metric", help="comma-separated filters to toggle: dims, metric")
    ap.add_argument("--timeout", type=float, default=120.0, help="AppTest timeout per script run, seconds")
    ap.add_argument("--app", default=str(REPO / "app.py"),
                    help="entry point of the povmap app to drive (default: app.py; e.g. a patched copy)")
    ap.add_argument("--fresh-script-cache", action="store_true",
                    help="stock AppTest: recompile the scripts on every run (the server does not)")
    args = ap.parse_args(argv)
    # Paths given on the command line are relative to where the command was run.
    for name in ("store", "source", "json", "app"):
        if getattr(args, name):
            setattr(args, name, os.path.abspath(getattr(args, name)))  # keep symlinks (data/store is one)

    os.chdir(REPO)
    sys.path.insert(0, str(REPO))
    # AppTest's runs from this (main) thread log a harmless "missing ScriptRunContext" warning.
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(
        lambda record: "missing ScriptRunContext" not in record.getMessage())
    if args.store:
        os.environ["POVMAP_STORE"] = args.store
    from povmap.core.config import source_dir, store_dir

    store, source = store_dir(), source_dir(args.source)
    levels = [lv for lv in args.levels.split(",") if lv]
    filters = [f for f in args.filters.split(",") if f]
    bad = [x for x in levels if x not in LEVELS] + [x for x in filters if x not in FILTERS]
    if bad:
        ap.error(f"unknown level or filter: {', '.join(bad)}")

    import geopandas
    import pandas
    import pydeck
    import streamlit

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    meta = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "host": platform.node(),
        "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "load_start": load_avg(), "python": platform.python_version(),
        "versions": {"streamlit": streamlit.__version__, "pydeck": pydeck.__version__,
                     "pandas": pandas.__version__, "geopandas": geopandas.__version__},
        "store": str(store), "source": str(source), "runs": args.runs, "install_runs": args.install_runs,
        "app": args.app,
        "script_cache": "fresh per run (stock AppTest)" if args.fresh_script_cache else "shared across runs",
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
    }
    try:
        meta["store_manifest"] = {k: v for k, v in json.loads((store / "manifest.json").read_text()).items()
                                  if k in ("fingerprint", "built_at", "build_seconds")}
    except (OSError, ValueError):
        print(f"no data store at {store}: run `make store` (or povmap data install) first", file=sys.stderr)
        return 2

    install = reruns = None
    try:
        if args.install_runs > 0:
            log(f"install benchmark ({args.install_runs} runs, source {source}) …")
            install = bench_install(source, args.install_runs, log)
        if args.runs > 0:
            log(f"rerun benchmark ({args.runs} filter changes per level and filter) …")
            reruns = bench_reruns(store, source, levels, filters, args.runs, args.timeout, log,
                                  fresh_script_cache=args.fresh_script_cache, app=Path(args.app))
    except AppFailure as exc:
        print(f"\nbenchmark aborted: {exc}", file=sys.stderr)
        return 2
    meta["load_end"] = load_avg()
    text, targets = report(meta, install, reruns)
    print(text)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"meta": meta, "install": install, "reruns": reruns,
                                               "targets": targets}, indent=1, default=float), encoding="utf-8")
        print(f"(JSON written to {args.json})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
