#!/usr/bin/env python3
"""Soak benchmark (issue 12): does the server's memory level off under hours of random sessions?

One Python process and one ``Engine`` on the installed store, shared by ``--sessions`` threads, as the
server shares one engine between its sessions (Streamlit runs each session in a thread). It drives the
domain directly, not Streamlit: what grows for the life of a server is what the shared engine keeps,
and the domain route exercises it without a browser or websocket per session. Each session, for
``--minutes``, picks one action at a time, at random:

- **explorer** (weight 50): ``build_view`` of a random view: dataset, level, scope (Thailand, a
  province group or a province), drilled area (a province or district inside the scope), dimensions
  (a random non-empty subset) or one of the 17 indicators, metric, class scheme, classes and language;
  one view in four also builds its map's geometry file (``map_chunk_bytes``);
- **profile** (20): ``build_profile`` of a random province, district or subdistrict;
- **compare** (8): 2–4 random profiles side by side (``compare_table``);
- **map image** (10): the export page of a random view (``mapimage.map_page``: the map as SVG, legend,
  totals; Chromium is not started, so the PNG raster itself is not part of the process);
- **pilot** (12): a random frame (dataset, a province group or a province, district or subdistrict
  level, dimensions, tiers for households) with random weights and significance level:
  ``criteria_set`` (criteria, LISA and Gi* with 999 permutations), ``run`` with the robustness draws,
  every criterion's small map, the shortlist map and table (a frame with no rankable area, such as
  Bangkok, stops after the criteria and is counted apart).

One action in three repeats one of the session's last ten (a user going back to a view), so cache hits
happen as well as misses. A sampler thread writes, every ``--sample-every`` seconds, one CSV row:
elapsed seconds, the process's RSS (psutil), actions and errors so far, the load average, and the
entries held by every declared cache (:mod:`povmap.core.caches`). At the end it draws the RSS and the total
cache entries over time (PNG, with Pillow) and gives a verdict: memory **levelled off** when the
least-squares slope of RSS over the last half of the run is at most ``--max-slope`` MB/h (default 20),
and either the first half's slope was within that limit too or the last half's is at most a fifth of it.
Every cache must stay within its bound at every sample.

    .venv/bin/python bench/bench_soak.py --minutes 10 --out /tmp/povmap-soak      # quick check
    nohup nice -n 10 .venv/bin/python bench/bench_soak.py --minutes 120 --sample-every 30 \\
        --out /tmp/povmap-soak-2h > /tmp/povmap-soak-2h.log 2>&1 &
    .venv/bin/python bench/bench_soak.py --report /tmp/povmap-soak-2h/soak.csv  # redraw and judge a CSV

Writes ``soak.csv``, ``soak.png`` and ``soak.json`` (summary) in ``--out``. Exit status 0 whatever the
figures are (it is a report); 2 if the store cannot be opened or a cache exceeded its bound.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import platform
import random
import sys
import threading
import time
import traceback
from collections import Counter, deque
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from _stats import load_avg  # noqa: E402 (bench/ is on sys.path when a script runs)

ACTIONS = {"explorer": 50, "profile": 20, "compare": 8, "image": 10, "pilot": 12}
REPEAT_SHARE = 1 / 3
MAX_SLOPE_MB_PER_H = 20.0
MAX_SLOPE_RATIO = 0.2
BASE_COLUMNS = ["elapsed_s", "rss_mb", "actions", "errors", "load1"]


# --- random frames --------------------------------------------------------------------------------
class Frames:
    """Random views, areas and pilot frames over the engine's areas."""

    def __init__(self, engine):
        from povmap.core.vocab import (
            CLASS_SCHEME_KEYS,
            DIMENSION_KEYS,
            INDICATOR_KEYS,
            LEVEL_KEYS,
            SCOPE_GROUP_KEYS,
            TIER_NUMBERS,
        )

        self.levels, self.dims, self.indicators = LEVEL_KEYS, DIMENSION_KEYS, INDICATOR_KEYS
        self.groups, self.tiers, self.schemes = SCOPE_GROUP_KEYS, TIER_NUMBERS, CLASS_SCHEME_KEYS
        self.codes = {lv: sorted(engine.current[lv]) for lv in LEVEL_KEYS}
        self.provinces = self.codes["province"]
        self.districts_of: dict[str, list[str]] = {}
        for d in self.codes["district"]:
            self.districts_of.setdefault(d[:2], []).append(d)
        from povmap.core.groups import group_provinces

        self.group_provinces = {g: sorted(group_provinces(g)) for g in SCOPE_GROUP_KEYS if g != "all"}

    def _subset(self, rng: random.Random, items) -> tuple:
        while True:
            chosen = tuple(x for x in items if rng.random() < 0.6)
            if chosen:
                return chosen

    def _provinces_of(self, scope: str) -> list[str]:
        if scope == "all":
            return self.provinces
        return self.group_provinces.get(scope, [scope])

    def query(self, rng: random.Random):
        from povmap.core.engine import Query
        from povmap.core.vocab import metrics_for

        dataset = "tpmap" if rng.random() < 0.75 else "households"
        scope = rng.choice(["all", *[g for g in self.groups if g != "all"], *rng.sample(self.provinces, 3)])
        parent, level = None, rng.choice(self.levels)
        drill = rng.random()
        if drill < 0.4:
            parent = rng.choice(self._provinces_of(scope))
            level = rng.choice(["district", "subdistrict"])
        elif drill < 0.6:
            prov = rng.choice(self._provinces_of(scope))
            parent, level = rng.choice(self.districts_of.get(prov, [prov])), "subdistrict"
            if len(parent) == 2:
                level = "district"
        elif level == "subdistrict" and scope == "all" and rng.random() < 0.7:
            level = "district"  # nationwide subdistrict views are the heaviest; keep them a minority
        indicator = rng.choice(self.indicators) if dataset == "tpmap" and rng.random() < 0.2 else None
        metric = rng.choice(metrics_for(dataset, indicator))
        tiers = self._subset(rng, self.tiers) if dataset == "households" else self.tiers
        return Query(dataset=dataset, level=level, scope=scope, parent=parent, dimensions=self._subset(rng, self.dims),
                     tiers=tiers, metric=metric, indicator=indicator)

    def view_args(self, rng: random.Random) -> dict:
        return {"query": self.query(rng), "lang": rng.choice(["th", "en"]), "scheme": rng.choice(self.schemes),
                "k": rng.randint(3, 7)}

    def area(self, rng: random.Random) -> str:
        return rng.choice(self.codes[rng.choices(self.levels, weights=(2, 4, 6))[0]])

    def pilot(self, rng: random.Random):
        from povmap import pilot
        from povmap.pilot.criteria import Frame

        dataset = "tpmap" if rng.random() < 0.7 else "households"
        scope = rng.choice([*[g for g in self.groups if g != "all"], *rng.sample(self.provinces, 4)])
        level = rng.choice(["district", "subdistrict", "subdistrict"])
        tiers = self._subset(rng, self.tiers) if dataset == "households" else self.tiers
        frame = Frame(dataset=dataset, scope=scope, level=level, dimensions=self._subset(rng, self.dims), tiers=tiers)
        weights = {k: round(w * rng.choice([0.5, 1.0, 1.5]), 2) for k, w in pilot.DEFAULT_WEIGHTS.items()}
        settings = pilot.Settings(weights=tuple(weights.items()), alpha=rng.choice(pilot.ALPHAS),
                                  fdr=rng.random() < 0.2, top_n=rng.choice([10, 20, 30]))
        return frame, settings, rng.choice(["th", "en"])


# --- actions ----------------------------------------------------------------------------------------
def act(engine, kind: str, args) -> str | None:
    """Do one action; a non-empty return says why it stopped short (counted apart from those done)."""
    import pandas as pd

    from povmap import pilot
    from povmap.present import mapimage, pilotview, profile
    from povmap.present.explorer import build_view, map_chunk_bytes

    if kind == "explorer":
        a, chunks = args
        view = build_view(engine, a["query"], lang=a["lang"], scheme=a["scheme"], k=a["k"])
        if chunks:
            for chunk in view.map.chunks[:3]:
                map_chunk_bytes(engine, chunk)
    elif kind == "image":
        view = build_view(engine, args["query"], lang=args["lang"], scheme=args["scheme"], k=args["k"])
        mapimage.map_page(engine, view, lang=args["lang"], size=mapimage.SLIDE)
    elif kind == "profile":
        profile.build_profile(engine, args)
    elif kind == "compare":
        profile.compare_table([profile.build_profile(engine, c) for c in args])
    elif kind == "pilot":
        frame, settings, lang = args
        no_am = pd.DataFrame(columns=["manager", "code", "note"], dtype=str)
        crit = pilot.criteria_set(engine, frame, settings, no_am)
        if crit.values.empty:  # no rankable area (Bangkok; households outside the file): nothing to map
            return "empty frame"
        result = pilot.run(crit, settings)
        for key in crit.values.columns:
            pilotview.criterion_map(engine, crit, key, lang)
        pilotview.shortlist_map(engine, result, lang)
        pilotview.shortlist_display(engine, result, lang)


def new_args(frames: Frames, kind: str, rng: random.Random):
    if kind == "explorer":
        return (frames.view_args(rng), rng.random() < 0.25)
    if kind == "image":
        return frames.view_args(rng)
    if kind == "profile":
        return frames.area(rng)
    if kind == "compare":
        return tuple(frames.area(rng) for _ in range(rng.randint(2, 4)))
    return frames.pilot(rng)


class Soak:
    def __init__(self, engine, frames: Frames, seed: int, deadline: float):
        self.engine, self.frames, self.seed, self.deadline = engine, frames, seed, deadline
        self.done: Counter = Counter()
        self.refused: Counter = Counter()  # a view the page would answer with a message (QueryError & co.)
        self.errors: Counter = Counter()
        self.first_errors: list[str] = []
        self.lock = threading.Lock()

    def session(self, i: int) -> None:
        from povmap.core.errors import PovmapError

        rng = random.Random(self.seed * 1000 + i)
        recent: deque = deque(maxlen=10)
        kinds, weights = list(ACTIONS), list(ACTIONS.values())
        while time.monotonic() < self.deadline:
            if recent and rng.random() < REPEAT_SHARE:
                kind, args = rng.choice(recent)
            else:
                kind = rng.choices(kinds, weights=weights)[0]
                args = new_args(self.frames, kind, rng)
                recent.append((kind, args))
            try:
                short = act(self.engine, kind, args)
                outcome = self.done
                if short:
                    outcome, kind = self.refused, f"{kind} ({short})"
            except PovmapError:
                outcome = self.refused
            except Exception:  # noqa: BLE001 (a report: count it, keep the first tracebacks, go on)
                outcome = self.errors
                with self.lock:
                    if len(self.first_errors) < 5:
                        self.first_errors.append(f"{kind} {args!r}\n{traceback.format_exc()}")
            with self.lock:
                outcome[kind] += 1


# --- report -----------------------------------------------------------------------------------------
def slope_mb_per_h(rows: list[dict]) -> float:
    """Least-squares slope of RSS against time, in MB per hour."""
    if len(rows) < 2:
        return float("nan")
    xs = [r["elapsed_s"] / 3600.0 for r in rows]
    ys = [r["rss_mb"] for r in rows]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else float("nan")


def judge(rows: list[dict], bounds: dict[str, int], max_slope: float) -> dict:
    half = len(rows) // 2
    first, last = rows[:half], rows[half:]
    s1, s2 = slope_mb_per_h(first), slope_mb_per_h(last)
    rss = [r["rss_mb"] for r in rows]
    last_rss = sorted(r["rss_mb"] for r in last)
    over = {n: max(int(r[n]) for r in rows) for n in bounds if any(int(r[n]) > bounds[n] for r in rows)}
    # Flat all along (both halves within the limit) or flattened (the last half a fifth of the first, or less).
    levelled = bool(last) and s2 <= max_slope and (s1 <= max_slope or s2 <= MAX_SLOPE_RATIO * s1)
    return {
        "samples": len(rows), "minutes": rows[-1]["elapsed_s"] / 60 if rows else 0.0,
        "rss_start_mb": rss[0] if rss else None, "rss_end_mb": rss[-1] if rss else None,
        "rss_peak_mb": max(rss) if rss else None,
        "rss_plateau_mb": last_rss[len(last_rss) // 2] if last_rss else None,  # median of the last half
        "rss_last_half_range_mb": [last_rss[0], last_rss[-1]] if last_rss else None,
        "slope_first_half_mb_per_h": s1, "slope_last_half_mb_per_h": s2,
        "levelled_off": levelled, "caches_over_bound": over,
        "cache_sizes_end": {n: int(rows[-1][n]) for n in bounds} if rows else {},
        "cache_bounds": bounds,
    }


def read_csv(path: Path) -> tuple[list[dict], dict[str, int]]:
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        bounds_row = next(reader)  # "# bounds" row: the declared max size of each cache column
        rows = [dict(zip(header, map(float, r))) for r in reader if r and not r[0].startswith("#")]
    bounds = {h: int(b) for h, b in zip(header, bounds_row) if h not in BASE_COLUMNS}
    return rows, bounds


def nice_step(top: float, ticks: int = 6) -> float:
    """A 1, 2 or 5 × 10ⁿ step giving at most ``ticks`` intervals up to ``top``."""
    raw = max(top, 1e-9) / ticks
    e = 10.0 ** math.floor(math.log10(raw))
    return next(m * e for m in (1, 2, 5, 10) if m * e >= raw)


def plot(rows: list[dict], bounds: dict[str, int], verdict: dict, out: Path, title: str) -> None:
    """RSS (blue, left axis) and all caches' entries (orange, right axis) over time, as a small PNG."""
    from PIL import Image, ImageDraw, ImageFont

    W, H, L, R, T, B = 960, 480, 70, 80, 44, 50
    img = Image.new("RGB", (W, H), "white")
    d = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=13)
    small = ImageFont.load_default(size=11)
    xs = [r["elapsed_s"] / 60 for r in rows]
    rss = [r["rss_mb"] for r in rows]
    entries = [sum(r[n] for n in bounds) for r in rows]
    x_step, y_step, e_step = nice_step(xs[-1]), nice_step(max(rss)), nice_step(max(max(entries), 1))
    x1 = max(x_step * math.ceil(xs[-1] / x_step), 1e-6)
    hi = y_step * math.ceil(max(rss) * 1.05 / y_step)
    e_hi = e_step * math.ceil(max(max(entries), 1) * 1.05 / e_step)

    def px(x, y, top):
        return L + (W - L - R) * x / x1, H - B - (H - T - B) * y / top

    d.rectangle([L, T, W - R, H - B], outline="#888")
    for i in range(int(round(hi / y_step)) + 1):
        _, py = px(0, i * y_step, hi)
        d.line([L, py, W - R, py], fill="#eee")
        d.text((L - 6, py), f"{i * y_step:,.0f}", fill="#1f4e9c", font=small, anchor="rm")
    for i in range(int(round(e_hi / e_step)) + 1):
        _, py = px(0, i * e_step, e_hi)
        d.text((W - R + 6, py), f"{i * e_step:,.0f}", fill="#d9480f", font=small, anchor="lm")
    for i in range(int(round(x1 / x_step)) + 1):
        pxx, _ = px(i * x_step, 0, hi)
        d.text((pxx, H - B + 6), f"{i * x_step:,.0f}", fill="#333", font=small, anchor="mt")
    d.text(((L + W - R) / 2, H - 16), "minutes", fill="#333", font=font, anchor="mm")
    d.text((8, T - 14), "RSS MB", fill="#1f4e9c", font=font, anchor="lm")
    d.text((W - 8, T - 14), "cache entries", fill="#d9480f", font=font, anchor="rm")
    half_x = xs[len(xs) // 2]
    hx, _ = px(half_x, 0, hi)
    d.line([hx, T, hx, H - B], fill="#bbb", width=1)
    d.line([px(x, y, e_hi) for x, y in zip(xs, entries)], fill="#d9480f", width=2)
    d.line([px(x, y, hi) for x, y in zip(xs, rss)], fill="#1f4e9c", width=2)
    v = verdict
    head = (f"{title}   RSS start {v['rss_start_mb']:,.0f} / plateau {v['rss_plateau_mb']:,.0f} / end "
            f"{v['rss_end_mb']:,.0f} MB   slope {v['slope_first_half_mb_per_h']:+,.1f} -> "
            f"{v['slope_last_half_mb_per_h']:+,.1f} MB/h   {'LEVELLED OFF' if v['levelled_off'] else 'STILL GROWING'}")
    d.text((L, 14), head, fill="#000", font=font, anchor="lm")
    img.convert("P", palette=Image.Palette.ADAPTIVE, colors=32).save(out, optimize=True)


def report(csv_path: Path, max_slope: float, extra: dict | None = None) -> dict:
    rows, bounds = read_csv(csv_path)
    if not rows:
        raise SystemExit(f"{csv_path}: no samples")
    verdict = judge(rows, bounds, max_slope)
    summary_path = csv_path.with_suffix(".json")
    if extra is None and summary_path.is_file():  # a redraw keeps what the run itself recorded
        old = json.loads(summary_path.read_text(encoding="utf-8"))
        extra = {k: v for k, v in old.items() if k not in verdict}
    verdict.update(extra or {})
    title = f"povmap soak, {verdict['minutes']:.0f} min"
    plot(rows, bounds, verdict, csv_path.with_suffix(".png"), title)
    summary_path.write_text(json.dumps(verdict, indent=2, ensure_ascii=False), encoding="utf-8")
    v = verdict
    print(f"\nsamples {v['samples']} over {v['minutes']:.1f} min")
    print(f"RSS MB: start {v['rss_start_mb']:,.0f}  plateau (median of last half) {v['rss_plateau_mb']:,.0f}  "
          f"[{v['rss_last_half_range_mb'][0]:,.0f}–{v['rss_last_half_range_mb'][1]:,.0f}]  end {v['rss_end_mb']:,.0f}  "
          f"peak {v['rss_peak_mb']:,.0f}")
    print(f"slope MB/h: first half {v['slope_first_half_mb_per_h']:+,.1f}  last half {v['slope_last_half_mb_per_h']:+,.1f}"
          f"  (levelled off: last ≤ {max_slope:g}, and first ≤ {max_slope:g} or last ≤ {MAX_SLOPE_RATIO:g} × first)")
    print("cache entries at the end / bound: " + ", ".join(
        f"{n} {v['cache_sizes_end'][n]}/{bounds[n]}" for n in bounds))
    if v["caches_over_bound"]:
        print(f"OVER BOUND: {v['caches_over_bound']}")
    print(f"verdict: {'LEVELLED OFF' if v['levelled_off'] else 'STILL GROWING'}   plot {csv_path.with_suffix('.png')}")
    return verdict


# --- main ---------------------------------------------------------------------------------------------
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=10.0, help="how long the sessions run (default 10)")
    ap.add_argument("--sessions", type=int, default=4, help="concurrent simulated sessions, one thread each (default 4)")
    ap.add_argument("--sample-every", type=float, default=10.0, help="seconds between RSS samples (default 10)")
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--store", help="installed store (default: $POVMAP_STORE or data/store)")
    ap.add_argument("--out", default="/tmp/povmap-soak", help="folder for soak.csv/.png/.json (default /tmp/povmap-soak)")
    ap.add_argument("--max-slope", type=float, default=MAX_SLOPE_MB_PER_H,
                    help=f"largest last-half RSS slope that counts as levelled off, MB/h (default {MAX_SLOPE_MB_PER_H:g})")
    ap.add_argument("--report", metavar="CSV", help="only redraw the plot and judge an existing soak.csv")
    args = ap.parse_args(argv)
    if args.report:
        verdict = report(Path(args.report), args.max_slope)
        return 2 if verdict["caches_over_bound"] else 0

    import warnings

    import psutil

    # mapclassify says when a view has fewer distinct values than classes; the page shows the classes it got
    warnings.filterwarnings("ignore", message="Not enough unique values", category=UserWarning)

    import povmap.pilot  # noqa: F401  (each feature module declares its caches on import)
    import povmap.present.explorer  # noqa: F401
    import povmap.present.mapimage  # noqa: F401
    import povmap.present.pilotview  # noqa: F401
    import povmap.present.profile  # noqa: F401
    from povmap.core import caches, config
    from povmap.data.datasource import open_engine
    from povmap.data.store import StoreError

    proc = psutil.Process()
    rss0 = proc.memory_info().rss / 1e6
    try:
        engine = open_engine(config.load(store=args.store))
    except StoreError as exc:
        print(f"no usable store: {exc}", file=sys.stderr)
        return 2
    frames = Frames(engine)
    bounds = {n: c.maxsize for n, c in caches.declared().items()}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    csv_path = out / "soak.csv"
    print(f"bench_soak  {datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC}  host {platform.node()}  cpus {os.cpu_count()}  "
          f"load {load_avg()}  pid {os.getpid()}")
    print(f"store {engine.data.path}  version {engine.data.version}")
    print(f"{args.sessions} sessions × {args.minutes:g} min, sample every {args.sample_every:g} s, seed {args.seed}; "
          f"RSS after imports {rss0:,.0f} MB, after Engine {proc.memory_info().rss / 1e6:,.0f} MB; writing {csv_path}",
          flush=True)

    t0 = time.monotonic()
    soak = Soak(engine, frames, args.seed, t0 + args.minutes * 60)
    names = list(bounds)
    stop = threading.Event()

    def sample(f, writer) -> None:
        sizes = caches.sizes(engine)
        with soak.lock:
            n, e = sum(soak.done.values()) + sum(soak.refused.values()), sum(soak.errors.values())
        load1 = os.getloadavg()[0]
        writer.writerow([f"{time.monotonic() - t0:.1f}", f"{proc.memory_info().rss / 1e6:.1f}", n, e, f"{load1:.2f}",
                         *(sizes[k] for k in names)])
        f.flush()

    with open(csv_path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow([*BASE_COLUMNS, *names])
        writer.writerow(["# bounds", "", "", "", "", *(bounds[k] for k in names)])
        sample(f, writer)

        def sampler():
            last_print = time.monotonic()
            while not stop.wait(args.sample_every):
                sample(f, writer)
                if time.monotonic() - last_print >= 300:
                    last_print = time.monotonic()
                    with soak.lock:
                        done = dict(soak.done)
                    print(f"{(time.monotonic() - t0) / 60:6.1f} min  RSS {proc.memory_info().rss / 1e6:,.0f} MB  "
                          f"load {load_avg()}  done {done}  errors {sum(soak.errors.values())}", flush=True)

        threads = [threading.Thread(target=soak.session, args=(i,), name=f"session-{i}", daemon=True)
                   for i in range(args.sessions)]
        sampler_thread = threading.Thread(target=sampler, name="sampler", daemon=True)
        sampler_thread.start()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        stop.set()
        sampler_thread.join()
        sample(f, writer)

    print(f"\nactions done {dict(soak.done)}  refused with a message {dict(soak.refused)}  errors {dict(soak.errors)}")
    for text in soak.first_errors:
        print(text, file=sys.stderr)
    hits = {n: caches.declared()[n].entries(engine).hits for n in names}
    misses = {n: caches.declared()[n].entries(engine).misses for n in names}
    verdict = report(csv_path, args.max_slope, {
        "sessions": args.sessions, "seed": args.seed, "done": dict(soak.done), "refused": dict(soak.refused),
        "errors": dict(soak.errors), "cache_hits": hits, "cache_misses": misses,
        "command": " ".join([sys.executable, *sys.argv]),
    })
    print("cache hits/misses: " + ", ".join(f"{n} {hits[n]}/{misses[n]}" for n in names))
    return 2 if verdict["caches_over_bound"] else 0


if __name__ == "__main__":
    sys.exit(main())
