#!/usr/bin/env python3
"""Where people wait (issue 16): first paint, cold start, drill-down, pan and bytes per change, povmap beside the
plotly and folium peers and an empty Streamlit page, all in one run on this machine.

Apps (``streamlit run`` on free loopback ports, from a copy of the tree taken at the start, as bench_peers.py):
povmap (``app.py``), plotly and folium (``bench/peers/``: the nationwide subdistrict choropleth) and an empty page
(``bench/peers/empty_app.py``: a title and a line, the floor under every first paint).

1. **Cold start**, ``--cold-runs`` times per app: the server process is started, and as soon as it answers its
   health check one fresh browser context opens the page. Figure: process start → first painted map (empty page:
   → its text). povmap is measured on its default view (what a shared link without parameters opens) and, for
   the comparison with the peers, on the nationwide subdistrict map (a second cold start).
2. **Rounds** (``--rounds``), apps alternating, each visit a fresh browser context (cold HTTP cache) on a warm
   server, after the servers are idle:
   * every map app: ``/`` (povmap ``/?level=subdistrict``) → first painted map and the bytes of that first load;
     ``--changes`` filter changes (a dimension pill) → repainted map and bytes per change; then a drag of the map
     (``--pan-steps`` mouse moves): the time between animation frames while the drag lasts, and the time from
     the release to the last frame drawn;
   * povmap also opens ``/`` (77 provinces) → first painted map, then clicks the first ranking row twice
     (province → its districts → the first district's subdistricts) → the repainted map after each click;
   * the empty page: its text.

"Painted" is bench_peers.py's signal (the animation frame after the last WebGL draw or map DOM change, the map
then quiet for ``--quiet-ms``); for povmap's drill-down it is the map's own ``povmap:painted`` performance mark
after the click (map.js). Nothing waits on a fixed sleep. Software WebGL (headless Chromium without a GPU), as a
laptop without a usable GPU or a remote desktop draws.

    .venv/bin/python bench/bench_firstpaint.py [--rounds 5] [--changes 3] [--json bench/results/firstpaint.json]

Exit 0 whatever the figures are (PASS/FAIL against the issue's targets is printed); 2 if a server, the browser,
the store or a peer's packages are missing (``make bench-deps``).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from _stats import load_avg, summary  # bench/ is on sys.path when a script runs
from bench_peers import (APPS, CHROMIUM_ARGS, LEAFLET_DIRS, SEQUENCES, VIEWPORT, BenchError, Server,
                         Wire, changed_share, fmt, git_head, image_of, leaflet_server, log, shut_down, snapshot, visit,
                         wait_idle)

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
EMPTY = ("bench/peers/empty_app.py", "/")
POVMAP_DEFAULT = "/"  # the explorer's default view: TPMAP, 77 provinces
TARGETS = {"default_paint_s": 2.0, "subdistrict_lead": 3.0, "cold_s": 5.0, "drill_s": 1.0, "pan_frame_ms": 50.0,
           "change_mb": 0.3, "change_lead": 3.0}
ROW_JS = """() => { const f = [...document.querySelectorAll('iframe[title="app_pages._map.area_map"]')];
  return f.length ? f[0].contentDocument.getElementById('map').dataset.features : null; }"""
# The map's own mark of a rerun's colours on screen, newer than the click, with the script run finished.
DRILLED_JS = """(since) => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.dataset.testScriptState !== 'notRunning') return null;
  for (const fr of document.querySelectorAll('iframe[title="app_pages._map.area_map"]')) {
    const w = fr.contentWindow;
    if (!w || !w.performance) continue;
    const marks = w.performance.getEntriesByName('povmap:painted');
    const last = marks.length ? w.performance.timeOrigin + marks[marks.length - 1].startTime : 0;
    if (last > since) return {painted: last, features: Number(w.document.getElementById('map').dataset.features)};
  }
  return null; }"""
PAN_START_JS = """() => { const r = window.__pan = {t: [], on: true};
  const loop = (t) => { r.t.push(performance.timeOrigin + t); if (r.on) requestAnimationFrame(loop); };
  requestAnimationFrame(loop); return performance.timeOrigin + performance.now(); }"""
QUIET_JS = """(ms) => { const b = window.__bench; const now = performance.timeOrigin + performance.now();
  return now - b.lastAct >= ms && b.lastPaint >= b.lastAct; }"""
NOW_JS = "() => performance.timeOrigin + performance.now()"


def start(name: str, script: str, logdir: Path, env: dict, root: Path, deadline_s: float = 120.0):
    """A new server; returns it and the epoch ms of its start, once its health check answers (polled every 50 ms)."""
    from server_helpers import health

    spawned = time.time() * 1000
    server = Server(name, script, logdir, env, root)
    t_end = time.monotonic() + deadline_s
    while health(server.url) != "ok":
        if server.proc.poll() is not None or time.monotonic() > t_end:
            server.stop()
            raise BenchError(f"{name} did not start:\n{server.tail()}")
        time.sleep(0.05)  # poll interval of the bounded health wait
    return server, spawned


def empty_visit(browser, server: Server, timeout_s: float) -> dict:
    """The empty page in a fresh context: navigation → its text on screen (script run finished), and bytes."""
    ctx = browser.new_context(viewport=VIEWPORT, locale="th-TH")
    page = ctx.new_page()
    cdp = ctx.new_cdp_session(page)
    cdp.send("Network.enable")
    wire = Wire(cdp)
    try:
        page.goto(server.url + EMPTY[1], wait_until="commit", timeout=timeout_s * 1000)
        done = page.wait_for_function(
            """() => { const a = document.querySelector('[data-testid="stApp"]'), h = document.querySelector('h1');
                       return a && a.dataset.testScriptState === 'notRunning' && h && h.textContent.includes('TPMAP')
                         ? performance.now() : null; }""", polling="raf", timeout=timeout_s * 1000).json_value()
        return {"ms": done, "bytes": wire.http_bytes + wire.ws_in_bytes, "timeout": False}
    except Exception as exc:  # noqa: BLE001 - a timeout is a figure of the report
        return {"timeout": True, "error": str(exc)[:200]}
    finally:
        ctx.close()


def wait_quiet(page, ms: int, timeout_s: float) -> None:
    page.wait_for_function(QUIET_JS, arg=ms, polling=50, timeout=timeout_s * 1000)


def pan(app: str, steps: int, quiet_ms: int, timeout_s: float):
    """``after`` hook of a visit: drag the map from its middle, ``steps`` mouse moves of (6, 3) px."""
    sel = APPS[app][2]

    def run(page, out) -> None:
        rec = {}
        try:
            wait_quiet(page, quiet_ms, timeout_s)
            box = page.locator(sel).first.bounding_box()
            before = image_of(page.locator(sel).first.screenshot())
            x, y = box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.45
            page.mouse.move(x, y)
            t_down = page.evaluate(PAN_START_JS)
            page.mouse.down()
            for i in range(1, steps + 1):
                page.mouse.move(x + 6 * i, y + 3 * i)
            t_up = page.evaluate(NOW_JS)
            page.mouse.up()
            wait_quiet(page, quiet_ms, timeout_s)
            frames = page.evaluate("() => { window.__pan.on = false; return window.__pan.t; }")
            painted = page.evaluate("() => window.__bench.lastPaint")
            during = [t for t in frames if t_down <= t <= t_up]
            gaps = [b - a for a, b in zip(during, during[1:])]
            after = image_of(page.locator(sel).first.screenshot())
            rec = {"frames": len(during), "drag_ms": t_up - t_down, "frame_ms": summary(gaps), "gaps": gaps,
                   "settle_ms": max(painted - t_up, 0.0), "moved_share": changed_share(before, after)}
            rec["verified"] = rec["moved_share"] > 0.01 and len(gaps) > 2
        except Exception as exc:  # noqa: BLE001 - a failed drag is reported, the visit's other figures stay
            rec = {"error": str(exc)[:300], "verified": False}
        out["pan"] = rec
    return run


def drill(clicks: int, timeout_s: float):
    """``after`` hook of povmap's default-view visit: click the first ranking row ``clicks`` times, each time
    waiting for the map's painted mark newer than the click (click time: the browser's own click event)."""
    sys.path.insert(0, str(REPO / "tests" / "e2e"))
    from browser_helpers import wait_settled

    def run(page, out) -> None:
        steps = []
        for i in range(clicks):
            try:
                wait_settled(page, timeout=timeout_s * 1000)
                before = page.evaluate(ROW_JS)
                table = page.get_by_test_id("stDataFrame").first
                table.click(position={"x": 15, "y": 35 + 35 / 2})  # glide-data-grid: row 0 under the 35 px header
                clicked = page.evaluate("() => window.__bench.lastClick")
                r = page.wait_for_function(DRILLED_JS, arg=clicked, polling=20, timeout=timeout_s * 1000).json_value()
                steps.append({"ms": r["painted"] - clicked, "features": r["features"],
                              "features_before": int(before or 0), "verified": str(r["features"]) != before})
            except Exception as exc:  # noqa: BLE001
                steps.append({"error": str(exc)[:300], "verified": False})
                break
        out["drill"] = steps
    return run


def first_ms(v: dict):
    f = v.get("first") or {}
    return None if f.get("timeout") or not f.get("verified") else f["ms"]


def aggregate(cold: dict, visits: list[dict]) -> dict:
    def of(app, kind):
        return [v for v in visits if v["app"] == app and v.get("kind") == kind]
    agg = {"cold_ms": {k: summary(v) for k, v in cold.items()}}
    for app in {v["app"] for v in visits}:
        sub, default = of(app, "subdistrict"), of(app, "default")
        changes = [c for v in sub for c in v.get("changes", []) if not c.get("timeout") and c.get("verified")]
        pans = [v["pan"] for v in sub if v.get("pan", {}).get("verified")]
        agg[app] = {
            "subdistrict_paint_ms": summary([first_ms(v) for v in sub]),
            "first_bytes": summary([(v.get("first") or {}).get("bytes") for v in sub if first_ms(v) is not None]),
            "change_ms": summary([c["ms"] for c in changes]),
            "change_bytes": summary([c["bytes"] for c in changes]),
            "pan_frame_median_ms": summary([p["frame_ms"]["median"] for p in pans]),
            "pan_frame_p95_ms": summary([sorted(p["gaps"])[int(0.95 * (len(p["gaps"]) - 1))] for p in pans]),
            "pan_settle_ms": summary([p["settle_ms"] for p in pans]),
            "default_paint_ms": summary([first_ms(v) for v in default] if app == "povmap" else
                                        [v.get("ms") for v in of(app, "empty") if not v.get("timeout")]),
            "empty_bytes": summary([v.get("bytes") for v in of(app, "empty") if not v.get("timeout")]),
        }
        if app == "povmap":
            steps = [v.get("drill", []) for v in default]
            for i, name in enumerate(("drill_district_ms", "drill_subdistrict_ms")):
                agg[app][name] = summary([s[i]["ms"] for s in steps if len(s) > i and s[i].get("verified")])
    return agg


def report(meta: dict, agg: dict, apps: list[str]) -> tuple[str, dict]:
    out = []
    p = out.append
    p(f"\nWhere people wait — {meta['date']} — {meta['cpus']} CPUs, load {meta['load_start']} → {meta['load_end']}; "
      f"{meta['rounds']} rounds; Chromium {meta.get('chromium')} (software WebGL); medians [min–max]\n")
    cold = agg["cold_ms"]
    rows = [
        ("first painted map, default view, s", lambda a: fmt(agg.get(a, {}).get("default_paint_ms"), 1e-3, 2)),
        ("first painted map, subdistricts, s", lambda a: fmt(agg.get(a, {}).get("subdistrict_paint_ms"), 1e-3, 2)),
        ("cold server → first painted map, s", lambda a: fmt(cold.get(a), 1e-3, 1)),
        ("  povmap subdistricts, cold, s", lambda a: fmt(cold.get("povmap-subdistrict"), 1e-3, 1) if a == "povmap" else ""),
        ("bytes of the first load, MB", lambda a: fmt(agg.get(a, {}).get("first_bytes") if a != "empty"
                                                        else agg.get(a, {}).get("empty_bytes"), 1e-6, 2)),
        ("drill-down: province → districts, ms", lambda a: fmt(agg.get(a, {}).get("drill_district_ms"))),
        ("drill-down: district → subdistricts, ms", lambda a: fmt(agg.get(a, {}).get("drill_subdistrict_ms"))),
        ("filter change → repainted map, ms", lambda a: fmt(agg.get(a, {}).get("change_ms"))),
        ("bytes per filter change, MB", lambda a: fmt(agg.get(a, {}).get("change_bytes"), 1e-6, 3)),
        ("pan: frame time while dragging, ms", lambda a: fmt(agg.get(a, {}).get("pan_frame_median_ms"))),
        ("  95th percentile frame, ms", lambda a: fmt(agg.get(a, {}).get("pan_frame_p95_ms"))),
        ("  release → last frame drawn, ms", lambda a: fmt(agg.get(a, {}).get("pan_settle_ms"))),
    ]
    w = 24
    p(f"  {'':<42}" + "".join(f"{a:>{w}}" for a in apps))
    for label, cell in rows:
        p(f"  {label:<42}" + "".join(f"{cell(a):>{w}}" for a in apps))
    pv = agg.get("povmap", {})
    med = lambda s: (s or {}).get("median")  # noqa: E731
    t = {}
    if med(pv.get("default_paint_ms")) is not None:
        t["default_paint"] = med(pv["default_paint_ms"]) / 1000 <= TARGETS["default_paint_s"]
    if med(cold.get("povmap")) is not None:
        t["cold"] = med(cold["povmap"]) / 1000 <= TARGETS["cold_s"]
    for name in ("drill_district_ms", "drill_subdistrict_ms"):
        if med(pv.get(name)) is not None:
            t[name] = med(pv[name]) / 1000 <= TARGETS["drill_s"]
    if med(pv.get("pan_frame_median_ms")) is not None:
        t["pan"] = med(pv["pan_frame_median_ms"]) < TARGETS["pan_frame_ms"]
    if med(pv.get("change_bytes")) is not None:
        t["change_bytes"] = med(pv["change_bytes"]) / 1e6 <= TARGETS["change_mb"]
    p("\nRatios peer ÷ povmap (medians):")
    for peer in [a for a in apps if a not in ("povmap", "empty")]:
        pe = agg.get(peer, {})
        for key, label, target in (("subdistrict_paint_ms", "first painted subdistrict map", "subdistrict_lead"),
                                   ("change_ms", "filter change → repaint", "change_lead")):
            if med(pv.get(key)) and med(pe.get(key)):
                ratio = med(pe[key]) / med(pv[key])
                t[f"{target}_{peer}"] = ratio >= TARGETS[target]
                p(f"  {peer}: {label} {ratio:.1f}× (target ≥ {TARGETS[target]:.0f}×: "
                  f"{'PASS' if t[f'{target}_{peer}'] else 'FAIL'})")
    p("Targets: " + ", ".join(f"{k} {'PASS' if v else 'FAIL'}" for k, v in t.items()))
    p("")
    return "\n".join(out), t


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5, help="warm visits per app, alternating (default 5)")
    ap.add_argument("--changes", type=int, default=3, help="filter changes per subdistrict visit (default 3)")
    ap.add_argument("--cold-runs", type=int, default=1, help="cold starts per app (default 1)")
    ap.add_argument("--pan-steps", type=int, default=30, help="mouse moves in one drag (default 30)")
    ap.add_argument("--timeout", type=float, default=180.0, help="seconds for one load, change or click")
    ap.add_argument("--quiet-ms", type=int, default=1500, help="a map is settled after this long without drawing")
    ap.add_argument("--apps", default="povmap,plotly,folium,empty", help="comma-separated subset")
    ap.add_argument("--json", default=str(BENCH_DIR / "results" / "firstpaint.json"), help="where to write samples")
    ap.add_argument("--leaflet", help="folder with leaflet.js and leaflet.css (default: Debian libjs-leaflet)")
    args = ap.parse_args(argv)
    apps = [a for a in args.apps.split(",") if a]
    os.chdir(REPO)
    sys.path.insert(0, str(REPO))
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        log("playwright is not installed: make bench-deps")
        return 2
    if not os.access("/usr/bin/chromium", os.X_OK):
        log("no /usr/bin/chromium: make system-deps")
        return 2
    from povmap.core.config import store_dir
    from povmap.data.store import Store, StoreError
    try:
        store = Store(store_dir())
        n_sub, n_prov = len(store.boundaries("subdistrict")), len(store.boundaries("province"))
    except StoreError as exc:
        log(f"{exc}\n(run `make store` first)")
        return 2
    env = {**os.environ, "POVMAP_STORE": str(store.path.resolve()),
           "POVMAP_USER_DB": str(Path(tempfile.mkdtemp(prefix="povmap-fp-db-")) / "user.sqlite")}
    leaflet_srv = None
    if "folium" in apps:
        try:
            import folium  # noqa: F401
            import streamlit_folium  # noqa: F401
        except ImportError:
            log("the folium peer needs its packages: make bench-deps")
            return 2
        ldir = args.leaflet or next((d for d in LEAFLET_DIRS if os.path.isfile(f"{d}/leaflet.js")), None)
        if not ldir:
            log("no leaflet.js for the folium peer: make bench-deps (Debian libjs-leaflet)")
            return 2
        leaflet_srv, env["POVMAP_PEER_LEAFLET_URL"] = leaflet_server(ldir)
    logdir = Path(tempfile.mkdtemp(prefix="povmap-firstpaint-"))
    log(f"server logs in {logdir}")
    root = snapshot(logdir / "code")
    meta = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "host": platform.node(),
            "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "load_start": load_avg(), "rounds": args.rounds, "changes": args.changes, "code": git_head(),
            "viewport": VIEWPORT, "apps": apps, "command": " ".join([Path(sys.executable).name, *sys.argv])}
    scripts = {a: (EMPTY[0] if a == "empty" else APPS[a][0]) for a in apps}
    servers: dict[str, Server] = {}
    cold: dict[str, list] = {}
    visits: list[dict] = []
    pw = None
    sequence = SEQUENCES["chain"]
    try:
        pw = sync_playwright().start()
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True)
        meta["chromium"] = browser.version
        # 1. cold starts, one app at a time (the others not yet started, so nothing else uses the CPU)
        cold_plan = [(a, None) for a in apps] + ([("povmap", "/?level=subdistrict")] if "povmap" in apps else [])
        for run in range(args.cold_runs):
            for app, path in cold_plan:
                name = app if path is None else "povmap-subdistrict"
                if app in servers:
                    servers.pop(app).stop()
                server, spawned = start(f"{name}-cold{run}", scripts[app], logdir, env, root)
                nav = time.time() * 1000
                if app == "empty":
                    v = empty_visit(browser, server, args.timeout)
                    ms = None if v["timeout"] else v["ms"]
                else:
                    v = visit(browser, app, server, 0, sequence, args.timeout, args.quiet_ms,
                              n_prov if app == "povmap" and path is None else n_sub, None, f"cold{run}",
                              path=path or (POVMAP_DEFAULT if app == "povmap" else None))
                    ms = first_ms(v)
                cold.setdefault(name, []).append(None if ms is None else nav - spawned + ms)
                log(f"cold {name}: {'timeout' if ms is None else f'{(nav - spawned + ms) / 1000:.1f} s'}")
                servers[app] = server
        # 2. warm rounds
        for r in range(args.rounds):
            for app in apps:
                waited = wait_idle(list(servers.values()))
                log(f"round {r + 1}/{args.rounds}: {app} (idle after {waited:.1f} s, load {load_avg()})")
                if app == "empty":
                    v = empty_visit(browser, servers[app], args.timeout)
                    visits.append({"app": app, "kind": "empty", "round": r + 1, **v})
                    continue
                v = visit(browser, app, servers[app], args.changes, sequence, args.timeout, args.quiet_ms, n_sub,
                          None, f"r{r + 1}", path="/?level=subdistrict" if app == "povmap" else None,
                          after=pan(app, args.pan_steps, 500, args.timeout))
                visits.append({**v, "kind": "subdistrict", "round": r + 1})
                if app == "povmap":
                    wait_idle(list(servers.values()))
                    d = visit(browser, app, servers[app], 0, sequence, args.timeout, args.quiet_ms, n_prov, None,
                              f"r{r + 1}-default", path=POVMAP_DEFAULT, after=drill(2, args.timeout))
                    visits.append({**d, "kind": "default", "round": r + 1})
        browser.close()
    except BenchError as exc:
        log(f"benchmark aborted: {exc}")
        return 2
    finally:
        shut_down(pw, servers, leaflet_srv)
    meta["load_end"] = load_avg()
    agg = aggregate(cold, visits)
    text, targets = report(meta, agg, apps)
    print(text)
    if args.json:
        path = Path(os.path.abspath(args.json))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"meta": meta, "summary": agg, "targets": targets, "cold_ms": cold,
                                    "visits": visits, "server_logs": str(logdir)},
                                   indent=1, ensure_ascii=False, default=float), encoding="utf-8")
        print(f"(JSON written to {path})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
