#!/usr/bin/env python3
"""Side-by-side benchmark of povmap against the peers a Streamlit user would reach for (issue 7).

Three ``streamlit run`` servers on free loopback ports show the same nationwide subdistrict
choropleth (TPMAP target poor, the five dimensions, people, quantiles k=5):

* ``povmap``: ``app.py`` at ``/?level=subdistrict`` (scope = all of Thailand);
* ``plotly``: ``bench/peers/plotly_app.py``: ``px.choropleth_map(map_style="white-bg")`` in ``st.plotly_chart``;
* ``folium``: ``bench/peers/folium_app.py``: ``folium.GeoJson`` in ``streamlit_folium.st_folium``.

One headless Chromium (Debian ``/usr/bin/chromium``, driven by Playwright) visits them in turn,
A B C A B C, for ``--rounds`` rounds. Each visit is a fresh browser context (cold HTTP cache):
open the page, wait for the painted map, then make ``--changes`` filter changes (clicks on a
dimension pill in the sidebar), each waited for until the map is repainted. Measured per app:
time to first painted map, filter change → repainted map, bytes received by the browser (HTTP
and websocket, from the Chrome DevTools Protocol), server time per rerun (``ScriptRunner._run_script``
timed inside each server, see ``--serve``; also websocket ``rerun_script`` sent → ``script_finished``
received, as the page sees it), and the JS heap after the first load and after the changes. Waits are on the apps' own signals (script state, WebGL draws, DOM
mutations of the map, animation frames), never fixed sleeps; see ``bench/README.md``.

    .venv/bin/python bench/bench_peers.py [--rounds 5] [--changes 5] [--timeout 180] [--json bench/results/peers.json]

Exit status 0 whatever the figures are (PASS/FAIL against the targets is printed); 2 if a
server, the browser or the store is missing.
"""
from __future__ import annotations

import argparse
import base64
import functools
import http.server
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from _stats import load_avg, summary  # bench/ is on sys.path when a script runs

# The browser tests' loopback-server harness, shared so that both start and stop servers alike.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "e2e"))
from server_helpers import LoopbackServer, ServerError  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"]
VIEWPORT = {"width": 1500, "height": 1100}
LEAFLET_DIRS = ("/usr/share/javascript/leaflet",)  # Debian: apt-get install libjs-leaflet
HEALTH_DEADLINE_S = 120
# What the three servers run from: a copy taken at the start (see snapshot()).
SNAPSHOT_ITEMS = ("app.py", "serve.py", "app_pages", "povmap", "bench/peers", ".streamlit", "static",
                  "data/province_groups.csv", "web/build")

# name, script, URL path, CSS selector of the map element (for the screenshot checks)
APPS = {
    "povmap": ("app.py", "/?level=subdistrict", 'iframe[title="app_pages._map.area_map"]'),
    "plotly": ("bench/peers/plotly_app.py", "/", '[data-testid="stPlotlyChart"]'),
    "folium": ("bench/peers/folium_app.py", "/", 'iframe[title="streamlit_folium.st_folium"]'),
}
# The sidebar pills, by their Thai label (povmap's explorer and both peers use the same labels).
PILL = {"health": "ด้านสุขภาพ", "living": "ด้านความเป็นอยู่", "education": "ด้านการศึกษา",
        "income": "ด้านรายได้", "access": "ด้านการเข้าถึงบริการรัฐ"}
ALL_DIMS = ("health", "living", "education", "income", "access")
# Filter changes: each click toggles one dimension, starting with "access". In "chain" mode every
# change leads to a combination the session has not seen (11110, 11100, 11000, 11001, 11011, …), so
# Streamlit's per-session message cache (an unchanged element is sent as a hash reference) cannot
# stand in for the new map. "access" mode flips access only (11110, 11111, …): from the second
# change on, every state was shown one rerun before.
SEQUENCES = {"chain": ("access", "income", "education", "access", "income", "education"),
             "access": ("access",)}
TARGET_SPEEDUP = 3.0  # povmap's filter change → repaint at least 3× faster than each peer
TARGET_BYTES_SHARE = 1 / 3  # povmap sends at most a third of each peer's bytes

# ---------------------------------------------------------------------------------------------
# In-page instrumentation (added to every frame before any page script runs)
# ---------------------------------------------------------------------------------------------
INSTRUMENT_JS = r"""
(() => {
  // Per document: an iframe's first about:blank document and the page that replaces it can share
  // one Window object, so a flag on window would skip the real document.
  if (document.__benchHooked) return;
  document.__benchHooked = true;
  const now = () => performance.timeOrigin + performance.now();   // epoch ms, same base in every frame
  let root = window;
  try { if (window.top.__bench) root = window.top; } catch (e) { /* cross-origin frame: own state */ }
  if (root === window) {
    window.__bench = {t0: performance.timeOrigin, act: 0, draws: 0, muts: 0, lastAct: 0, lastPaint: 0,
                      runsDone: 0, lastRunEnd: 0, lastClick: 0, mark: {t: 0, act: 0, runsDone: 0, sig: null}};
  }
  const B = () => root.__bench;
  // "painted" = the start of the animation frame that follows the frame holding the last change
  // of the map: one frame after a WebGL draw (draws are issued inside a frame), two frames after
  // a DOM mutation (a mutation is painted in the next frame). New activity restarts the count.
  const tracker = (frames) => {
    let queued = false, n0 = 0, left = 0;
    const tick = () => {
      const b = B();
      if (b.act !== n0) { n0 = b.act; left = frames; }
      left -= 1;
      if (left > 0) { requestAnimationFrame(tick); return; }
      queued = false;
      b.lastPaint = Math.max(b.lastPaint, now());
    };
    return () => {
      if (queued) return;
      queued = true; n0 = B().act; left = frames;
      requestAnimationFrame(tick);
    };
  };
  const glPainted = tracker(1), domPainted = tracker(2);
  const hook = (proto, names) => {
    if (!proto) return;
    for (const name of names) {
      const orig = proto[name];
      if (typeof orig !== "function" || orig.__benchHook) continue;
      proto[name] = function (...args) {
        const b = B(); b.act += 1; b.draws += 1; b.lastAct = now(); glPainted();
        return orig.apply(this, args);
      };
      proto[name].__benchHook = true;
    }
  };
  const GL = ["clear", "drawArrays", "drawElements", "drawArraysInstanced", "drawElementsInstanced",
              "drawRangeElements"];
  hook(window.WebGLRenderingContext && WebGLRenderingContext.prototype, GL);
  hook(window.WebGL2RenderingContext && WebGL2RenderingContext.prototype, GL);
  if (root !== window) return;
  // Component iframes (folium's map): every DOM mutation of the loaded document is map activity.
  // Attached from here on the iframe's "load" (the map is built after it, from the render message).
  const domActivity = () => { const b = B(); b.act += 1; b.muts += 1; b.lastAct = now(); domPainted(); };
  const watchFrame = (f) => {
    if (f.__benchWatched) return;
    f.__benchWatched = true;
    const attach = () => {
      let d;
      try { d = f.contentDocument; } catch (e) { return; }
      if (!d || d.__benchObserved || d.URL === "about:blank") return;
      d.__benchObserved = true;
      domActivity();
      new f.contentWindow.MutationObserver(domActivity)
        .observe(d, {subtree: true, childList: true, attributes: true, characterData: true});
    };
    f.addEventListener("load", attach);
    attach();
  };
  new MutationObserver(() => { for (const f of document.getElementsByTagName("iframe")) watchFrame(f); })
    .observe(document, {subtree: true, childList: true});
  // Top frame: Streamlit's script state (a finished run = a change away from "running") and clicks.
  new MutationObserver((records) => {
    for (const r of records) if (r.oldValue === "running") { B().runsDone += 1; B().lastRunEnd = now(); }
  }).observe(document, {subtree: true, attributes: true, attributeOldValue: true,
                        attributeFilter: ["data-test-script-state"]});
  document.addEventListener("click", (e) => { B().lastClick = performance.timeOrigin + e.timeStamp; }, true);

  const hash = (s, x) => ((s * 31) + x) | 0;
  window.__benchSig = (app) => {
    // A fingerprint of the data the map shows, where the library exposes it.
    if (app === "plotly") {
      const gd = document.querySelector('[data-testid="stPlotlyChart"] .js-plotly-plot');
      const z = gd && gd._fullData && gd._fullData[0] && gd._fullData[0].z;
      if (!z) return null;
      let s = z.length;
      for (let i = 0; i < z.length; i++) s = hash(s, Math.round(Number(z[i]) * 10) + 7);
      return String(s);
    }
    if (app === "folium") {
      const f = document.querySelector('iframe[title="streamlit_folium.st_folium"]');
      const d = f && f.contentDocument;
      if (!d) return null;
      const paths = d.querySelectorAll("path.leaflet-interactive");
      let s = paths.length;
      for (const p of paths) {
        const c = p.getAttribute("fill") || "";
        for (let i = 1; i < c.length; i++) s = hash(s, c.charCodeAt(i));
      }
      return paths.length + ":" + s;
    }
    if (app === "povmap") {  // map.js numbers each new set of colours it draws
      const f = document.querySelector('iframe[title="app_pages._map.area_map"]');
      const m = f && f.contentDocument && f.contentDocument.getElementById("map");
      return m ? `${m.dataset.features}:${m.dataset.fill}` : null;
    }
    return null;
  };
  window.__benchReady = (app, minFeatures) => {
    // The app-specific part of "the map is there": element present, library done.
    if (app === "povmap") {
      const f = document.querySelector('iframe[title="app_pages._map.area_map"]');
      const d = f && f.contentDocument;
      const m = d && d.getElementById("map");
      return !!(m && m.dataset.painted && Number(m.dataset.features) >= minFeatures && m.querySelector("canvas"));
    }
    if (app === "plotly") {
      const gd = document.querySelector('[data-testid="stPlotlyChart"] .js-plotly-plot');
      const sub = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
      const m = sub && sub.map;
      return !!(m && m.loaded() && !m.isMoving() && gd.querySelector("canvas.maplibregl-canvas"));
    }
    if (app === "folium") {
      const f = document.querySelector('iframe[title="streamlit_folium.st_folium"]');
      const d = f && f.contentDocument;
      return !!(d && f.contentWindow.map && d.querySelectorAll("path.leaflet-interactive").length >= minFeatures);
    }
    return false;
  };
  window.__benchDone = ({app, quietMs, first, minFeatures}) => {
    const b = B();
    const app_ = document.querySelector('[data-testid="stApp"]');
    if (!app_ || app_.getAttribute("data-test-script-state") !== "notRunning") return false;
    if (!first && b.runsDone <= b.mark.runsDone) return false;      // the rerun has finished
    if (b.act <= b.mark.act) return false;                         // the map was drawn since
    if (now() - b.lastAct < quietMs) return false;                 // … and has settled
    if (b.lastPaint < b.lastAct) return false;                     // … and that frame is out
    if (!window.__benchReady(app, minFeatures)) return false;
    if (!first && b.mark.sig !== null && window.__benchSig(app) === b.mark.sig) return false;  // new data
    return true;
  };
  window.__benchMark = (app) => {
    const b = B();
    b.mark = {t: now(), act: b.act, runsDone: b.runsDone, sig: window.__benchSig(app)};
    return b.mark;
  };
})();
"""


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------
def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class BenchError(RuntimeError):
    pass


class Server(LoopbackServer):
    """One ``streamlit run`` of ``script`` (the shared loopback harness), log in ``logdir``, through this file's
    --serve mode: it only adds a timing line per script run."""

    def __init__(self, name: str, script: str, logdir: Path, env: dict, root: Path = REPO):
        super().__init__([sys.executable, str(Path(__file__).resolve()), "--serve", "run", script],
                         logdir / f"{name}.log", cwd=root, env=env, name=name)

    def wait_healthy(self, deadline: float) -> None:
        try:
            super().wait_healthy(max(deadline - time.monotonic(), 0.0))
        except ServerError as exc:
            raise BenchError(str(exc)) from exc

    def log_offset(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def timings_since(self, offset: int, prefix: str = "peer-timing") -> list[dict]:
        """``<prefix> {json}`` lines written to the log after ``offset``: ``peer-timing`` (the peer
        apps' own line) or ``bench-run`` (the server-side script-run hook of ``--serve``)."""
        out = []
        try:
            with open(self.log_path, "rb") as f:
                f.seek(offset)
                for line in f.read().decode("utf-8", "replace").splitlines():
                    if line.startswith(prefix + " "):
                        try:
                            out.append(json.loads(line[len(prefix) + 1:]))
                        except ValueError:
                            pass
        except OSError:
            pass
        return out

    def server_ms(self, offset: int, since_epoch_ms: float) -> tuple[float | None, int]:
        """Server-side time of the script run(s) that started after ``since_epoch_ms``: first start →
        last end (a run that calls ``st.rerun()`` counts with its follow-up). Returns (ms, runs)."""
        runs = [r for r in self.timings_since(offset, "bench-run") if r["start"] * 1000 >= since_epoch_ms - 50]
        if not runs:
            return None, 0
        return (max(r["end"] for r in runs) - min(r["start"] for r in runs)) * 1000.0, len(runs)

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.proc.pid)

    def rss_mb(self) -> float | None:
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return None


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def wait_idle(servers, max_s: float = 240.0, window_s: float = 1.0, busy_share: float = 0.1) -> float:
    """Wait until no server uses more than ``busy_share`` of a core over ``window_s`` (bounded).

    povmap compiles esda's numba kernels in a background thread after its first session, and a
    peer may still be marshalling a rerun for a closed session: neither should land in the next
    sample. Returns the seconds waited."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < max_s:
        before = [s.cpu_seconds() for s in servers]
        time.sleep(window_s)  # the measuring window of the CPU-idle condition
        used = [s.cpu_seconds() - b for s, b in zip(servers, before)]
        if max(used) <= busy_share * window_s:
            break
    return time.monotonic() - t0


def snapshot(dest: Path) -> Path:
    """Copy what the servers run (app, pages, ``povmap``, the peer apps, config, static files) to ``dest``.

    Streamlit re-executes page scripts on every rerun but keeps imported modules, so an edit of the
    working tree during a 30-minute run can break a running server half-way (a page importing a
    name that the cached module lacks). The copy keeps every server on the code it started with."""
    for item in SNAPSHOT_ITEMS:
        src, dst = REPO / item, dest / item
        if not src.exists():
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(src, dst)
    return dest


def git_head() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
                              timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return head + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "?"


def leaflet_server(directory: str):
    handler = functools.partial(_QuietHandler, directory=directory)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, name="leaflet-http", daemon=True).start()
    return srv, f"http://127.0.0.1:{srv.server_address[1]}"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # noqa: D102
        pass


def image_of(png: bytes):
    from PIL import Image

    return Image.open(io.BytesIO(png)).convert("RGB")


def colours(img, min_share: float = 0.0002) -> int:
    w, h = img.size
    return sum(1 for count, _ in (img.getcolors(w * h) or []) if count >= min_share * w * h)


def changed_share(a, b) -> float:
    """Share of pixels that differ between two screenshots of the map."""
    from PIL import ImageChops

    if a is None or b is None or a.size != b.size:
        return 1.0
    diff = ImageChops.difference(a, b).convert("L").point(lambda v: 255 if v > 8 else 0)
    return diff.histogram()[255] / (a.size[0] * a.size[1])


# ---------------------------------------------------------------------------------------------
# One visit: fresh context, first load, N filter changes
# ---------------------------------------------------------------------------------------------
class Wire:
    """Bytes and Streamlit messages seen by one page, from CDP Network events."""

    def __init__(self, cdp):
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        self._fwd, self._back = ForwardMsg, BackMsg
        self.http_bytes = 0
        self.ws_in_bytes = 0
        self.ws_out_bytes = 0
        self.sent: list[tuple[float, str]] = []  # (CDP timestamp s, BackMsg type)
        self.received: list[tuple[float, str, int, int]] = []  # (ts, ForwardMsg type, bytes, finished status)
        self.ref_hits = 0
        self.ws_extensions = None
        self.failed: list[str] = []
        self._urls: dict[str, str] = {}
        cdp.on("Network.requestWillBeSent", lambda e: self._urls.__setitem__(e["requestId"], e["request"]["url"]))
        cdp.on("Network.loadingFinished", self._finished)
        cdp.on("Network.loadingFailed", lambda e: self.failed.append(self._urls.get(e["requestId"], "?")[:120]))
        cdp.on("Network.webSocketFrameReceived", self._ws_in)
        cdp.on("Network.webSocketFrameSent", self._ws_out)
        cdp.on("Network.webSocketHandshakeResponseReceived", self._handshake)

    def _finished(self, e):
        self.http_bytes += int(e.get("encodedDataLength") or 0)

    @staticmethod
    def _payload(resp) -> bytes:
        data = resp.get("payloadData") or ""
        return base64.b64decode(data) if resp.get("opcode") == 2 else data.encode("utf-8")

    def _ws_in(self, e):
        raw = self._payload(e["response"])
        self.ws_in_bytes += len(raw)
        kind, status = "?", -1
        try:
            msg = self._fwd.FromString(raw)
            kind = msg.WhichOneof("type") or "?"
            if kind == "script_finished":
                status = int(msg.script_finished)
            elif kind == "ref_hash":
                self.ref_hits += 1
        except Exception:  # noqa: BLE001 - a frame we cannot parse still counts its bytes
            pass
        self.received.append((e["timestamp"], kind, len(raw), status))

    def _ws_out(self, e):
        raw = self._payload(e["response"])
        self.ws_out_bytes += len(raw)
        kind = "?"
        try:
            kind = self._back.FromString(raw).WhichOneof("type") or "?"
        except Exception:  # noqa: BLE001
            pass
        self.sent.append((e["timestamp"], kind))

    def _handshake(self, e):
        headers = {k.lower(): v for k, v in (e["response"].get("headers") or {}).items()}
        self.ws_extensions = headers.get("sec-websocket-extensions", "")

    def snapshot(self) -> dict:
        return {"http": self.http_bytes, "ws_in": self.ws_in_bytes, "ws_out": self.ws_out_bytes,
                "sent": len(self.sent), "received": len(self.received), "refs": self.ref_hits}

    def since(self, snap: dict) -> dict:
        """Bytes and the server time of the rerun(s) after ``snap``."""
        http, ws = self.http_bytes - snap["http"], self.ws_in_bytes - snap["ws_in"]
        reruns = [t for t, k in self.sent[snap["sent"]:] if k == "rerun_script"]
        finished = [(t, s) for t, k, _, s in self.received[snap["received"]:] if k == "script_finished"]
        roundtrip = None
        if reruns and finished and finished[-1][0] >= reruns[0]:
            roundtrip = (finished[-1][0] - reruns[0]) * 1000.0
        biggest = max((n for _, _, n, _ in self.received[snap["received"]:]), default=0)
        return {"bytes": http + ws, "http_bytes": http, "ws_bytes": ws, "ws_roundtrip_ms": roundtrip,
                "reruns_sent": len(reruns), "runs_finished": len(finished),
                "largest_ws_msg": biggest, "ref_hits": self.ref_hits - snap["refs"]}


def heap(cdp) -> dict:
    """JS heap of the page (its same-origin iframes included) after a forced garbage collection."""
    try:
        cdp.send("HeapProfiler.collectGarbage")
    except Exception:  # noqa: BLE001
        pass
    m = {x["name"]: x["value"] for x in cdp.send("Performance.getMetrics")["metrics"]}
    return {"js_heap_used": m.get("JSHeapUsedSize"), "js_heap_total": m.get("JSHeapTotalSize"),
            "dom_nodes": m.get("Nodes")}


def visit(browser, app: str, server: Server, changes: int, sequence, timeout_s: float, quiet_ms: int,
          n_features: int, shots: Path | None, tag: str, path: str | None = None, after=None) -> dict:
    """One session of one app. Returns the first-load record and the filter-change records.

    ``path``: another page of the app than APPS names; ``after(page, record)``: more measuring in the same session
    once the changes are done (bench_firstpaint.py drags the map)."""
    from playwright.sync_api import TimeoutError as PWTimeout

    _script, default_path, map_sel = APPS[app]
    path = path or default_path
    min_features = int(n_features * 0.95)
    ctx = browser.new_context(viewport=VIEWPORT, locale="th-TH")
    ctx.set_default_timeout(timeout_s * 1000)
    ctx.add_init_script(INSTRUMENT_JS)
    page = ctx.new_page()
    cdp = ctx.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Performance.enable")
    wire = Wire(cdp)
    out = {"app": app, "tag": tag, "first": None, "changes": [], "errors": []}
    exceptions = []
    page.on("pageerror", lambda e: exceptions.append(str(e)[:300]))

    def wait_done(first: bool, budget_s: float) -> None:
        page.wait_for_function("(a) => window.__benchDone && window.__benchDone(a)",
                               arg={"app": app, "quietMs": quiet_ms, "first": first, "minFeatures": min_features},
                               polling=100, timeout=max(budget_s, 1) * 1000)

    def shot():
        try:
            return image_of(page.locator(map_sel).first.screenshot(timeout=30_000))
        except Exception:  # noqa: BLE001
            return None

    try:
        snap = wire.snapshot()
        off = server.log_offset()
        t_start = time.monotonic()
        try:
            page.goto(server.url + path, wait_until="commit", timeout=timeout_s * 1000)
            wait_done(True, timeout_s - (time.monotonic() - t_start))
        except PWTimeout:
            out["first"] = {"timeout": True, "wall_s": time.monotonic() - t_start, **wire.since(snap)}
            out["errors"].append(f"first load: no painted map after {timeout_s:.0f} s")
            return out
        b = page.evaluate("() => window.__bench")
        rec = {"timeout": False, "ms": max(b["lastPaint"], b["lastRunEnd"]) - b["t0"],
               "paint_ms": b["lastPaint"] - b["t0"], "run_end_ms": b["lastRunEnd"] - b["t0"],
               "draws": b["draws"], "mutations": b["muts"],
               **wire.since(snap), **heap(cdp)}
        img = shot()
        rec["colours"] = colours(img) if img is not None else 0
        rec["verified"] = rec["colours"] > 5
        rec["peer_timing"] = server.timings_since(off)
        rec["server_ms"], rec["server_runs"] = server.server_ms(off, b["t0"])
        out["first"] = rec
        if shots is not None and img is not None:
            img.save(shots / f"{tag}-{app}-first.png")
        state = set(ALL_DIMS)
        for i in range(changes):
            dim = sequence[i % len(sequence)]
            state ^= {dim}
            combo = "".join("1" if d in state else "0" for d in ALL_DIMS)
            pill = page.get_by_test_id("stSidebar").get_by_role("button", name=PILL[dim], exact=True)
            pill.wait_for(state="visible")
            page.evaluate("(app) => window.__benchMark(app)", app)
            snap = wire.snapshot()
            off = server.log_offset()
            t_start = time.monotonic()
            try:
                pill.click()
                wait_done(False, timeout_s - (time.monotonic() - t_start))
            except PWTimeout:
                out["changes"].append({"i": i + 1, "dim": dim, "combo": combo, "timeout": True,
                                       "wall_s": time.monotonic() - t_start, **wire.since(snap)})
                out["errors"].append(f"change {i + 1} ({dim}): no repainted map after {timeout_s:.0f} s")
                break
            b = page.evaluate("() => window.__bench")
            rec = {"i": i + 1, "dim": dim, "combo": combo, "timeout": False,
                   "ms": max(b["lastPaint"], b["lastRunEnd"]) - b["lastClick"],
                   "paint_ms": b["lastPaint"] - b["lastClick"], "run_end_ms": b["lastRunEnd"] - b["lastClick"],
                   "draws": b["draws"], "mutations": b["muts"],
                   **wire.since(snap)}
            new = shot()
            rec["changed_share"] = changed_share(img, new)
            rec["colours"] = colours(new) if new is not None else 0
            rec["verified"] = rec["changed_share"] > 1e-4 and rec["colours"] > 5
            rec["peer_timing"] = server.timings_since(off)
            rec["server_ms"], rec["server_runs"] = server.server_ms(off, b["lastClick"])
            img = new
            out["changes"].append(rec)
        if shots is not None and img is not None:
            img.save(shots / f"{tag}-{app}-last.png")
        if out["changes"] and not out["changes"][-1].get("timeout"):
            out["after_changes"] = heap(cdp)
        if after is not None:
            after(page, out)
    finally:
        out["exceptions"] = exceptions
        out["failed_requests"] = wire.failed[:20]
        out["ws_extensions"] = wire.ws_extensions
        try:
            ctx.close()
        except Exception as exc:  # noqa: BLE001
            out["errors"].append(f"closing the context: {exc}")
    return out


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------
def mb(n) -> str:
    return "—" if n is None else f"{n / 1e6:.2f}"


def shut_down(pw, servers: dict, leaflet_srv) -> None:
    """Stop Playwright, every server and the Leaflet file server, whatever state a run ended in."""
    if pw is not None:
        try:
            pw.stop()
        except Exception:  # noqa: BLE001
            pass
    for s in servers.values():
        s.stop()
    if leaflet_srv is not None:
        leaflet_srv.shutdown()


def fmt(s: dict, scale: float = 1.0, digits: int = 0, unit: str = "") -> str:
    if not s or s.get("median") is None:
        return "—"
    f = f"{{:,.{digits}f}}"
    return f"{f.format(s['median'] * scale)}{unit} [{f.format(s['min'] * scale)}–{f.format(s['max'] * scale)}]"


def aggregate(visits: list[dict], apps) -> dict:
    agg = {}
    for app in apps:
        vs = [v for v in visits if v["app"] == app]
        firsts = [v["first"] for v in vs if v["first"]]
        ok_first = [f for f in firsts if not f.get("timeout") and f.get("verified")]
        changes = [c for v in vs for c in v["changes"]]
        ok_changes = [c for c in changes if not c.get("timeout") and c.get("verified")]
        peer_ms = [p["script_ms"] for c in ok_changes for p in c.get("peer_timing", [])]
        agg[app] = {
            "visits": len(vs),
            "first_timeouts": sum(1 for f in firsts if f.get("timeout")),
            "first_unverified": sum(1 for f in firsts if not f.get("timeout") and not f.get("verified")),
            "change_timeouts": sum(1 for c in changes if c.get("timeout")),
            "change_unverified": sum(1 for c in changes if not c.get("timeout") and not c.get("verified")),
            "first_paint_ms": summary([f["ms"] for f in ok_first]),
            "first_bytes": summary([f["bytes"] for f in ok_first]),
            "first_ws_bytes": summary([f["ws_bytes"] for f in ok_first]),
            "first_server_ms": summary([f["server_ms"] for f in ok_first]),
            "heap_first": summary([f["js_heap_used"] for f in ok_first]),
            "heap_after": summary([v["after_changes"]["js_heap_used"] for v in vs if v.get("after_changes")]),
            "nodes_after": summary([v["after_changes"]["dom_nodes"] for v in vs if v.get("after_changes")]),
            "change_ms": summary([c["ms"] for c in ok_changes]),
            "change_bytes": summary([c["bytes"] for c in ok_changes]),
            "change_ws_bytes": summary([c["ws_bytes"] for c in ok_changes]),
            "change_server_ms": summary([c["server_ms"] for c in ok_changes]),
            "change_roundtrip_ms": summary([c["ws_roundtrip_ms"] for c in ok_changes]),
            "change_ref_hits": sum(c.get("ref_hits", 0) for c in ok_changes),
            "peer_script_ms": summary(peer_ms),
        }
    return agg


def report(meta: dict, agg: dict, cold: dict, apps) -> tuple[str, dict]:
    out = []
    p = out.append
    p("")
    p(f"povmap vs peers — nationwide subdistrict choropleth — {meta['date']} — {meta['host']} "
      f"({meta['cpus']} CPUs, load {meta['load_start']} → {meta['load_end']})")
    p(f"{meta['rounds']} rounds × {meta['changes']} filter changes ({meta['sequence']}), alternating "
      f"{' '.join(apps)}; Chromium {meta['chromium']}; medians [min–max]")
    p("")
    rows = [
        ("first painted map, s", "first_paint_ms", 1e-3, 2),
        ("filter change → repainted map, ms", "change_ms", 1, 0),
        ("server time per rerun, ms", "change_server_ms", 1, 0),
        ("  (first load's run, ms)", "first_server_ms", 1, 0),
        ("ws rerun sent → finished seen, ms", "change_roundtrip_ms", 1, 0),
        ("bytes, first load, MB", "first_bytes", 1e-6, 2),
        ("  of which websocket, MB", "first_ws_bytes", 1e-6, 2),
        ("bytes per filter change, MB", "change_bytes", 1e-6, 2),
        ("JS heap after first load, MB", "heap_first", 1e-6, 1),
        ("JS heap after the changes, MB", "heap_after", 1e-6, 1),
        ("DOM nodes after the changes", "nodes_after", 1, 0),
        ("peer's own script time, ms", "peer_script_ms", 1, 0),
    ]
    w = 28
    p(f"  {'':<36}" + "".join(f"{a:>{w}}" for a in apps))
    for label, key, scale, digits in rows:
        p(f"  {label:<36}" + "".join(f"{fmt(agg[a][key], scale, digits):>{w}}" for a in apps))
    p(f"  {'samples: first loads / changes':<36}" + "".join(
        f"{str(agg[a]['first_paint_ms']['n']) + ' / ' + str(agg[a]['change_ms']['n']):>{w}}" for a in apps))
    bad = {a: f"{agg[a]['first_timeouts'] + agg[a]['change_timeouts']} / "
              f"{agg[a]['first_unverified'] + agg[a]['change_unverified']}" for a in apps}
    p(f"  {'timeouts / unverified':<36}" + "".join(f"{bad[a]:>{w}}" for a in apps))
    if cold:
        p(f"  {'cold first visit (warm-up), s':<36}" + "".join(
            f"{(f'{cold[a] / 1000:,.1f}' if cold.get(a) is not None else 'timeout'):>{w}}" for a in apps))
    targets = {}
    if "povmap" in apps:
        pv = agg["povmap"]
        p("")
        p("Ratios peer ÷ povmap (medians) and targets:")
        for peer in [a for a in apps if a != "povmap"]:
            pe = agg[peer]
            t = {}
            if pv["change_ms"]["median"] and pe["change_ms"]["median"]:
                t["repaint_ratio"] = pe["change_ms"]["median"] / pv["change_ms"]["median"]
            elif pe["change_timeouts"] and pv["change_ms"]["median"]:
                t["repaint_ratio"] = float("inf")  # the peer never repainted within the timeout
            if pv["change_bytes"]["median"] and pe["change_bytes"]["median"]:
                t["bytes_ratio"] = pe["change_bytes"]["median"] / pv["change_bytes"]["median"]
            if pv["first_bytes"]["median"] and pe["first_bytes"]["median"]:
                t["first_bytes_ratio"] = pe["first_bytes"]["median"] / pv["first_bytes"]["median"]
            if pv["first_paint_ms"]["median"] and pe["first_paint_ms"]["median"]:
                t["first_paint_ratio"] = pe["first_paint_ms"]["median"] / pv["first_paint_ms"]["median"]
            if pv["change_server_ms"]["median"] and pe["change_server_ms"]["median"]:
                t["server_ratio"] = pe["change_server_ms"]["median"] / pv["change_server_ms"]["median"]
            t["repaint_pass"] = t.get("repaint_ratio", 0) >= TARGET_SPEEDUP
            t["bytes_pass"] = t.get("bytes_ratio", 0) >= 1 / TARGET_BYTES_SHARE
            targets[peer] = t

            def r(k):
                return f"{t[k]:.1f}×" if k in t else "—"
            p(f"  {peer}: repaint {r('repaint_ratio')} (target ≥ {TARGET_SPEEDUP:.0f}×: "
              f"{'PASS' if t['repaint_pass'] else 'FAIL'}); bytes per change {r('bytes_ratio')} "
              f"(target ≥ 3×: {'PASS' if t['bytes_pass'] else 'FAIL'}); first-load bytes {r('first_bytes_ratio')}; "
              f"first paint {r('first_paint_ratio')}; server time {r('server_ratio')}")
        allpass = bool(targets) and all(t["repaint_pass"] and t["bytes_pass"] for t in targets.values())
        p(f"  overall: {'PASS' if allpass else 'FAIL'}")
        targets["overall_pass"] = allpass
    p("")
    return "\n".join(out), targets


# ---------------------------------------------------------------------------------------------
def serve(argv: list[str]) -> None:
    """``streamlit run`` with one addition: a ``bench-run {json}`` line on stderr per script run.

    ``ScriptRunner._run_script`` is timed on the server (wall clock, epoch seconds): from the start
    of a run to its end, with element marshalling and queueing of the messages, without the network
    and the browser. The same hook serves all three apps; the apps themselves are unchanged."""
    from streamlit.runtime.scriptrunner import script_runner
    from streamlit.web.cli import main as streamlit_main

    original = script_runner.ScriptRunner._run_script

    def timed(self, rerun_data):
        start = time.time()
        try:
            return original(self, rerun_data)
        finally:
            end = time.time()
            print("bench-run " + json.dumps({"start": start, "end": end, "ms": round((end - start) * 1000, 1)}),
                  file=sys.stderr, flush=True)

    script_runner.ScriptRunner._run_script = timed
    if "app.py" in argv:  # povmap: its server prepared as serve.py prepares it (cwd: the copy's root)
        sys.path.insert(0, os.getcwd())
        from app_pages._server import prepare

        prepare()
    sys.argv = ["streamlit", *argv]
    streamlit_main(prog_name="streamlit")


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--serve"]:
        serve(argv[1:])
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5, help="visits per app, alternating A B C (default 5)")
    ap.add_argument("--changes", type=int, default=5, help="filter changes per visit (default 5)")
    ap.add_argument("--sequence", choices=sorted(SEQUENCES), default="chain",
                    help="chain: each click makes a new combination (default); access: flip access only")
    ap.add_argument("--timeout", type=float, default=180.0, help="seconds for one first load or one change")
    ap.add_argument("--quiet-ms", type=int, default=1500,
                    help="the map counts as settled after this long without WebGL draws or DOM mutations")
    ap.add_argument("--apps", default="povmap,plotly,folium", help="comma-separated subset, in visiting order")
    ap.add_argument("--json", default=str(BENCH_DIR / "results" / "peers.json"), help="where to write the samples")
    ap.add_argument("--shots", help="save map screenshots (first load, last change) into this folder")
    ap.add_argument("--no-warmup", action="store_true", help="skip the untimed first visit per server")
    ap.add_argument("--leaflet", help="folder with leaflet.js and leaflet.css (default: Debian libjs-leaflet)")
    ap.add_argument("--in-place", action="store_true",
                    help="run the servers on the working tree instead of a copy taken at the start")
    args = ap.parse_args(argv)
    apps = [a for a in args.apps.split(",") if a]
    bad = [a for a in apps if a not in APPS]
    if bad:
        ap.error(f"unknown app(s): {', '.join(bad)}")
    if args.json:
        args.json = os.path.abspath(args.json)
    shots = Path(os.path.abspath(args.shots)) if args.shots else None
    if shots:
        shots.mkdir(parents=True, exist_ok=True)

    os.chdir(REPO)
    sys.path.insert(0, str(REPO))
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        log("playwright is not installed: pip install -e '.[dev]'")
        return 2
    chromium = "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None
    if chromium is None:
        log("no /usr/bin/chromium: apt-get install chromium")
        return 2
    from povmap.core.config import store_dir
    from povmap.data.store import Store, StoreError

    try:
        store = Store(store_dir())
        n_features = len(store.boundaries("subdistrict"))
    except StoreError as exc:
        log(f"{exc}\n(run `make store` first)")
        return 2
    # The servers read the store build that is installed now, even if `make store` switches the
    # data/store link during the run.
    env = {**os.environ, "POVMAP_STORE": str(store.path.resolve())}
    leaflet_srv = None
    if "folium" in apps:
        ldir = args.leaflet or next((d for d in LEAFLET_DIRS if os.path.isfile(f"{d}/leaflet.js")), None)
        if not ldir:
            log("no leaflet.js for the folium peer (offline): apt-get install libjs-leaflet, or --leaflet DIR")
            return 2
        leaflet_srv, env["POVMAP_PEER_LEAFLET_URL"] = leaflet_server(ldir)

    import folium
    import plotly
    import streamlit
    import streamlit_folium

    meta = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "host": platform.node(),
        "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "load_start": load_avg(), "python": platform.python_version(), "rounds": args.rounds,
        "changes": args.changes, "sequence": args.sequence, "timeout_s": args.timeout, "quiet_ms": args.quiet_ms,
        "apps": apps, "features": n_features, "store": str(store.path), "viewport": VIEWPORT,
        "versions": {"streamlit": streamlit.__version__, "plotly": plotly.__version__, "folium": folium.__version__,
                     "streamlit_folium": getattr(streamlit_folium, "__version__", None)},
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
    }
    try:
        import importlib.metadata as md
        meta["versions"]["streamlit_folium"] = md.version("streamlit-folium")
        meta["versions"]["playwright"] = md.version("playwright")
    except Exception:  # noqa: BLE001
        pass

    logdir = Path(tempfile.mkdtemp(prefix="povmap-peers-"))
    log(f"server logs in {logdir}")
    meta["code"] = git_head()
    root = REPO if args.in_place else snapshot(logdir / "code")
    meta["servers_run_from"] = "working tree" if args.in_place else "a copy of the working tree taken at the start"
    servers: dict[str, Server] = {}
    visits: list[dict] = []
    warmups: dict[str, dict] = {}
    pw = None
    try:
        for app in apps:
            servers[app] = Server(app, APPS[app][0], logdir, env, root)
        deadline = time.monotonic() + HEALTH_DEADLINE_S
        for s in servers.values():
            s.wait_healthy(deadline)
        pw = sync_playwright().start()
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        meta["chromium"] = browser.version
        sequence = SEQUENCES[args.sequence]
        if not args.no_warmup:
            for app in apps:
                log(f"warm-up visit: {app} (cold server: imports, data loading) …")
                v = visit(browser, app, servers[app], min(args.changes, len(sequence)) if args.sequence == "chain"
                          else 2, sequence, args.timeout, args.quiet_ms, n_features, shots, "warmup")
                warmups[app] = v
                first = v["first"] or {}
                log((f"  first load {first['ms'] / 1000:.1f} s" if first.get("ms") is not None
                     else "  first load: timeout")
                    + ("" if not v["errors"] else f"; {'; '.join(v['errors'])}"))
        for r in range(args.rounds):
            for app in apps:
                waited = wait_idle(list(servers.values()))
                log(f"round {r + 1}/{args.rounds}: {app} (servers idle after {waited:.1f} s, load {load_avg()})")
                v = visit(browser, app, servers[app], args.changes, sequence, args.timeout, args.quiet_ms,
                          n_features, shots if r == 0 else None, f"r{r + 1}")
                v["round"] = r + 1
                v["server_rss_mb"] = servers[app].rss_mb()
                visits.append(v)
                f = v["first"] or {}
                ch = [c for c in v["changes"] if not c.get("timeout")]
                log((f"  first {f['ms'] / 1000:.1f} s" if f.get("ms") is not None else "  first: timeout")
                    + f", {f.get('bytes', 0) / 1e6:.2f} MB; changes "
                    + ", ".join(f"{c['ms']:,.0f} ms/{c['bytes'] / 1e6:.2f} MB{'' if c['verified'] else ' (unverified)'}"
                                for c in ch)
                    + ("" if not v["errors"] else f"; {'; '.join(v['errors'])}"))
        browser.close()
    except BenchError as exc:
        log(f"benchmark aborted: {exc}")
        return 2
    finally:
        shut_down(pw, servers, leaflet_srv)

    meta["load_end"] = load_avg()
    agg = aggregate(visits, apps)
    cold = {a: ((w.get("first") or {}).get("ms") if not (w.get("first") or {}).get("timeout") else None)
            for a, w in warmups.items()}
    text, targets = report(meta, agg, cold, apps)
    print(text)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(
            {"meta": meta, "summary": agg, "targets": targets, "cold_first_ms": cold,
             "warmups": warmups, "visits": visits, "server_logs": str(logdir)},
            indent=1, ensure_ascii=False, default=float), encoding="utf-8")
        print(f"(JSON written to {args.json})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
