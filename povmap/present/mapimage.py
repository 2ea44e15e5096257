"""The explorer's map as a PNG for slides and print, and the headless Chromium that draws it (and the briefs).

Renderer: the map is an inline SVG (areas as paths, drawn from the store's pre-serialised GeoJSON) inside an
HTML page that holds the title, legend, scale bar, credits and date, rasterised by headless Debian Chromium.

- Chromium shapes Thai correctly (vowels and tone marks), with the system fonts (Noto Sans Thai, Laksaman), offline.
- SVG is rasterised by Skia on the CPU. plotly's ``Choroplethmap`` + kaleido draws the map with WebGL, which
  headless Chromium emulates in software: an *empty* 1920×1080 map took 4–6 s per export on this 2-core
  machine, over the 3 s target. The SVG page takes well under a second, even for all 7,423 subdistricts.
  (``go.Choropleth``/geo fetches its topojson from a CDN, so it is no option offline.)
- HTML/CSS lays out a title, a legend and a footer far more simply than plotly annotations, and the same page
  machinery prints the area brief to PDF (:mod:`povmap.present.brief`), so one tool covers both exports.
- The browser is driven over the DevTools protocol with ``choreographer`` (the client kaleido itself uses) and
  kept open for the process: starting Chromium per export (``chromium --headless --screenshot``) took ~3 s.

Projection: equirectangular with its standard parallel at the map's centre latitude (x = lon·cos φ₀, y = lat),
as in :mod:`povmap.present.smallmaps`. A scale bar rather than a "1 : N" ratio, because a PNG has no physical
size until it is shown or printed; the bar stays right at any size. The scale bar is true at the map's centre
latitude (east-west; off it by about 1 % across a province, up to ~4 % at the country's ends): this caveat is
kept here and in the bar's SVG ``<title>`` (for screen readers, never drawn), not printed on the slide.

Slide layout (1920×1080 design, type in rem that scales with the canvas): the title says where and what
(:func:`map_title`: "place — metric by level"), the subtitle the dataset and filters; the map takes most of the
width, its viewBox widened (or heightened) to the box it gets so its frame fills it, neighbouring provinces
filling the sides; the legend column beside it is :data:`SIDE_EM` wide. The legend of a percentage metric
gives its unit on each class (:func:`export_legend`).

Area labels (:func:`place_labels`): the areas' names, their figure on a second line, as SVG ``<text>`` over the
map (Chromium shapes Thai in SVG text as in HTML), white-haloed (``paint-order: stroke``). Areas are taken by
importance: highest value first, then larger areas; areas hidden for privacy and areas without data after all
figures, by size (:func:`label_candidates`). Each label goes at a point inside its area: the store's label point
(``label_lon``/``label_lat``, the pole of inaccessibility of the area's largest part) where the store has one;
in a store built without it, the boundary table's ``lon``/``lat`` — the centroid, outside its polygon for 5
districts and ~70 subdistricts — where it lies inside, else shapely's ``point_on_surface`` of the polygon,
computed for the candidates only (~0.05 ms each from the stored GeoJSON, so no cache). An area wide enough for
its label has it centred on that point; a smaller one, or one whose centre is taken, gets a dot there and the
label beside it (right, left, above or below). A label is skipped when its estimated box
(:func:`text_width_em`) leaves the map or overlaps the scale bar or a label already placed; at most
:data:`LABEL_CAP` are placed (of the first :data:`LABEL_TRIES` × that many candidates), so a nationwide
subdistrict map names its top areas rather than a clutter. An area hidden for privacy is labelled with its name
only, never a figure, and its place in the order does not depend on its hidden value.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import shapely

from povmap import __version__
from povmap.core.caches import Cache
from povmap.core.classify import NO_DATA_RGBA
from povmap.core.engine import Engine, Query
from povmap.core.i18n import t
from povmap.core.privacy import export_line
from povmap.core.thai import DECIMALS, fmt_datetime, fmt_number
from povmap.core.vocab import (
    DATASETS,
    DIMENSION_BY_KEY,
    DIMENSION_KEYS,
    LEVEL_BY_KEY,
    LEVEL_KEYS,
    METRIC_BY_KEY,
    SCOPE_GROUPS,
    TIER_NUMBERS,
    TIERS,
)
from povmap.present.charts import FONT
from povmap.present.credits import CREDITS
from povmap.present.explorer import HIDDEN_RGB, LegendRow, View, breadcrumb, build_view
from povmap.present.headless import CHROMIUM
from povmap.present.html import hex_colour as _hex
from povmap.present.html import legend_html, render
from povmap.web.maplayer import OVERVIEW_SPAN_DEG

SLIDE = (1920, 1080)
A4_LANDSCAPE = (2339, 1654)  # 297 × 210 mm at 200 dpi
_DESIGN = SLIDE  # type sizes are set for this canvas and scale with the canvas
KM_PER_DEGREE = 111.195  # mean Earth radius 6,371 km


# --- the map as SVG ------------------------------------------------------------------------------------------------

def _svg_path(geojson: str) -> str:
    """A (Multi)Polygon's GeoJSON text -> SVG path data in lon/lat ("M x,y L … Z" per ring; holes via even-odd).

    The store writes compact GEOS GeoJSON, so plain string replacement does it (10× faster than parsing)."""
    head = geojson[:40]
    if head.startswith(('{"type":"Polygon","coordinates":', '{"type":"MultiPolygon","coordinates":')) and " " not in head:
        body = geojson[geojson.index(":[") + 1:-1]
        return "M" + body.replace("]]],[[[", "ZM").replace("]],[[", "ZM").replace("],[", "L").strip("[]") + "Z"
    geom = json.loads(geojson)
    polys = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
    return "".join("M" + "L".join(f"{x},{y}" for x, y in ring) + "Z" for poly in polys for ring in poly)


# Per engine and data version (see povmap.core.caches): every area's outline as SVG path data.
_PATHS = Cache("mapimage.paths", maxsize=len(LEVEL_KEYS) * 2,
               why="every area's SVG path data, one series per level and resolution (overview, detail)")


def _paths(engine: Engine, level: str, resolution: str) -> pd.Series:
    """SVG path data per area code of a level, built once per engine."""
    def build() -> pd.Series:
        geo = engine.boundaries(level)[f"geojson_{resolution}"]
        return pd.Series([_svg_path(g) for g in geo.tolist()], index=geo.index, dtype=object)

    return _PATHS.get(engine, (level, resolution), build)


def nice_length(limit: float) -> float:
    """The largest 1, 2 or 5 × 10ⁿ not above ``limit`` (a scale bar's length)."""
    if limit <= 0:
        return 0.0
    e = math.floor(math.log10(limit))
    return max(m * 10.0 ** e for m in (1, 2, 5) if m * 10.0 ** e <= limit)


@dataclass(frozen=True)
class AreaLabel:
    """A label candidate: an area's name and the figure under it (None: the name only)."""

    code: str
    name: str
    figure: str | None = None


@dataclass(frozen=True)
class PlacedLabel:
    """A label set on the map, in viewBox units: text position and anchor, the box it is estimated to cover, and
    the dot marking its area when the label sits beside it (None when centred in the area)."""

    code: str
    name: str
    figure: str | None
    x: float
    y: float  # baseline of the name
    anchor: str  # SVG text-anchor: middle (centred), start (right of the dot), end (left of it)
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 (y downwards, as in the viewBox)
    dot: tuple[float, float] | None


@dataclass(frozen=True)
class MapSvg:
    svg: str
    aspect: float  # width ÷ height of its viewBox
    labels: tuple[PlacedLabel, ...] = ()


LABEL_CAP = 25  # area labels on one map at most
LABEL_TRIES = 20  # candidates tried per label allowed, at most (a crowded map gives up on the rest)
_NAME_LINE, _FIGURE_LINE = 1.3, 1.2  # line heights in em: Thai marks reach above and below the Latin ones
_BASELINE = 0.98  # from the top of a line to its baseline, in em
_HALO = 0.26  # white halo (stroke) width in em of the name
_THAI_MARKS = frozenset(chr(c) for c in (0x0E31, *range(0x0E34, 0x0E3B), *range(0x0E47, 0x0E4F)))


def text_width_em(text: str) -> float:
    """A text's estimated advance width in em of its font size, from per-character widths of the fonts Chromium
    uses for it here (Noto Sans Thai for Thai, Laksaman for Latin and digits), bold. Measured over every area name
    (Pillow with raqm shaping): at most 5 % short, about 8 % (Thai) and 15 % (English) long at the median, so
    boxes err on the large side."""
    w = 0.0
    for ch in text:
        if ch in _THAI_MARKS:  # vowels and tone marks above and below take no width
            continue
        if "\u0e00" <= ch <= "\u0e7f":
            w += 0.42 if ch in "เโใไะาำ" else 0.95 if ch in "ญณฒฌ" else 0.66
        elif ch in "ijlIftr.,:;'!|()- ":
            w += 0.4
        elif ch in "mwMW%":
            w += 1.04
        elif ch.isupper():
            w += 0.74
        elif ch.isdigit():
            w += 0.57
        else:
            w += 0.66
    return w


def _anchors(engine: Engine, level: str, codes: list[str]) -> dict[str, tuple[float, float]]:
    """A point inside each area (lon, lat): the store's label point (``label_lon``/``label_lat``, the pole of
    inaccessibility of the largest part) where the store has one; else the boundary table's centroid where it
    lies inside the polygon, else the polygon's ``point_on_surface``."""
    b = engine.boundaries(level).reindex(codes).dropna(subset=["geojson_detail"])
    out: dict[str, tuple[float, float]] = {}
    if {"label_lon", "label_lat"} <= set(b.columns):
        ready = b["label_lon"].notna() & b["label_lat"].notna()
        out = dict(zip(b.index[ready].tolist(), zip(b.loc[ready, "label_lon"].astype(float).tolist(),
                                                    b.loc[ready, "label_lat"].astype(float).tolist())))
        b = b[~ready]
    if not len(b):
        return out
    geoms = shapely.from_geojson(b["geojson_detail"].to_numpy())
    lon, lat = b["lon"].to_numpy(dtype=float).copy(), b["lat"].to_numpy(dtype=float).copy()
    inside = shapely.contains_xy(geoms, lon, lat)
    if not inside.all():
        surface = shapely.point_on_surface(geoms[~inside])
        lon[~inside], lat[~inside] = shapely.get_x(surface), shapely.get_y(surface)
    out.update(zip(b.index.tolist(), zip(lon.tolist(), lat.tolist())))
    return out


def _overlaps(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def place_labels(engine: Engine, level: str, candidates, *, vb: tuple[float, float, float, float], kx: float,
                 name_size: float, figure_size: float, obstacles=(), cap: int = LABEL_CAP) -> list[PlacedLabel]:
    """Labels for ``candidates`` (:class:`AreaLabel`, most important first), greedily: each at a point inside its
    area, skipped when its box leaves the viewBox ``vb`` or overlaps an obstacle or a label already placed; at
    most ``cap``. Sizes are in viewBox units (font sizes of the name and of the figure)."""
    candidates = list(candidates)
    bnd = engine.boundaries(level)
    placed: list[PlacedLabel] = []
    taken = [tuple(o) for o in obstacles]
    gap = 0.15 * name_size  # free space kept between two labels
    x_lo, y_lo, x_hi, y_hi = vb[0], vb[1], vb[0] + vb[2], vb[1] + vb[3]
    batch = max(4 * cap, 50)
    for start in range(0, min(len(candidates), LABEL_TRIES * cap), batch):  # anchors for a batch at a time
        chunk = candidates[start:start + batch]
        points = _anchors(engine, level, [c.code for c in chunk])
        extent = bnd.reindex([c.code for c in chunk])[["minx", "miny", "maxx", "maxy"]].to_numpy(dtype=float)
        for c, (minx, miny, maxx, maxy) in zip(chunk, extent.tolist()):
            if len(placed) >= cap:
                return placed
            if c.code not in points:
                continue
            lon, lat = points[c.code]
            px, py = lon * kx, -lat
            w = max(text_width_em(c.name) * name_size,
                    text_width_em(c.figure) * figure_size if c.figure else 0.0) + 2 * _HALO * name_size
            h = _NAME_LINE * name_size + (_FIGURE_LINE * figure_size if c.figure else 0.0)
            area_w, area_h = (maxx - minx) * kx, maxy - miny
            options = []
            if w <= 1.5 * area_w and h <= 1.2 * area_h:  # fits (roughly) inside: centred on the point
                options.append(("middle", px, (px - w / 2, py - h / 2, px + w / 2, py + h / 2), None))
            # else, or where that is taken: a dot on the area, the label right of it, left, above or below
            r, off = 0.2 * name_size, 0.45 * name_size
            options += [("start", px + off, (px - r, py - h / 2, px + off + w, py + h / 2), (px, py)),
                        ("end", px - off, (px - off - w, py - h / 2, px + r, py + h / 2), (px, py)),
                        ("middle", px, (px - w / 2, py - off - h, px + w / 2, py + r), (px, py)),
                        ("middle", px, (px - w / 2, py - r, px + w / 2, py + off + h), (px, py))]
            for anchor, x, box, dot in options:
                if box[0] < x_lo or box[1] < y_lo or box[2] > x_hi or box[3] > y_hi:
                    continue
                padded = (box[0] - gap, box[1] - gap, box[2] + gap, box[3] + gap)
                if any(_overlaps(padded, o) for o in taken):
                    continue
                if anchor == "start":
                    x += _HALO * name_size
                elif anchor == "end":
                    x -= _HALO * name_size
                baseline = box[1] + _BASELINE * name_size
                placed.append(PlacedLabel(c.code, c.name, c.figure, x, baseline, anchor, box, dot))
                taken.append(box)
                break
    return placed


def map_svg(engine: Engine, level: str, codes, fills: list[str], *, lang: str, box_px: tuple[float, float],
            bounds: tuple[float, float, float, float] | None = None, outline=(), highlight: str | None = None,
            fill_box: bool = False, labels=(), label_px: tuple[float, float] = (17.0, 15.0),
            label_cap: int = LABEL_CAP) -> MapSvg:
    """The areas ``codes`` of ``level`` filled with ``fills`` (CSS colours), as an inline ``<svg>`` that fits its box.

    Around them: the provinces in view in light grey (orientation), province borders over sub-province levels, a
    black outline for ``outline`` codes and a thick one for ``highlight``, and a km scale bar in a strip below.
    ``box_px`` is the box the SVG will roughly fill: the scale bar's and labels' type sizes depend on it, and with
    ``fill_box`` the viewBox is widened (or heightened) around the areas to the box's shape, so the map fills it.
    ``labels``: :class:`AreaLabel` candidates, most important first, placed by :func:`place_labels` (at most
    ``label_cap``) with the name and figure ``label_px`` pixels high at ``box_px``.
    """
    codes = [str(c) for c in codes]
    bnd = engine.boundaries(level)
    if bounds is None:
        b = bnd.loc[codes] if codes else engine.boundaries("province")
        bounds = (float(b["minx"].min()), float(b["miny"].min()), float(b["maxx"].max()), float(b["maxy"].max()))
    minx, miny, maxx, maxy = bounds
    resolution = "overview" if max(maxx - minx, maxy - miny) > OVERVIEW_SPAN_DEG else "detail"
    kx = math.cos(math.radians((miny + maxy) / 2))
    # viewBox in projected units (x = lon·kx, y = −lat): the bounds, a margin, and a strip for the scale bar
    w, h = max((maxx - minx) * kx, 0.01), max(maxy - miny, 0.01)
    pad = 0.03 * max(w, h)
    strip = 0.08 * max(h, w)
    vb = (minx * kx - pad, -maxy - pad, w + 2 * pad, h + 2 * pad + strip)
    if fill_box and box_px[0] > 0 and box_px[1] > 0:  # the box's shape, the areas centred in it
        want = box_px[0] / box_px[1]
        if vb[2] / vb[3] < want:
            extra = vb[3] * want - vb[2]
            vb = (vb[0] - extra / 2, vb[1], vb[2] + extra, vb[3])
        else:
            extra = vb[2] / want - vb[3]
            vb = (vb[0], vb[1] - extra / 2, vb[2], vb[3] + extra)
    unit_px = min(box_px[0] / vb[2], box_px[1] / vb[3])  # screen px per projected unit, roughly

    prov = engine.boundaries("province")
    paths = _paths(engine, level, resolution)
    context = []
    national = not codes or len(prov.index) == len(set(c[:2] for c in codes))
    if not national:  # neighbouring provinces for orientation (clipped by the viewBox)
        x0, x1, y0, y1 = vb[0] / kx, (vb[0] + vb[2]) / kx, -(vb[1] + vb[3]), -vb[1]
        near = prov[(prov["maxx"] >= x0) & (prov["minx"] <= x1) & (prov["maxy"] >= y0) & (prov["miny"] <= y1)]
        context = _paths(engine, "province", resolution).loc[near.index].tolist()
    borders = []
    if level != "province" and codes:  # province borders over districts/subdistricts
        provs = sorted({c[:2] for c in codes} & set(prov.index))
        borders = _paths(engine, "province", resolution).loc[provs].tolist()
    bar = _scale_bar(vb, strip, unit_px, lang, areas=(minx * kx - pad, w + 2 * pad))
    placed = []
    if labels and label_cap > 0:
        half_label = (text_width_em(bar["label"]) / 2 + 0.3) * bar["font"]  # its km label is centred on its end
        bar_box = (bar["x0"] - bar["font"], bar["y"] - 1.6 * bar["font"], bar["x0"] + bar["length"] + half_label,
                   bar["y"] + bar["bar_h"] + 0.3 * bar["font"])
        placed = place_labels(engine, level, labels, vb=vb, kx=kx, name_size=label_px[0] / unit_px,
                              figure_size=label_px[1] / unit_px, obstacles=[bar_box], cap=label_cap)
    label_font = {"name": label_px[0] / unit_px, "figure": label_px[1] / unit_px,
                  "halo": 2 * _HALO * label_px[0] / unit_px, "dot": 0.2 * label_px[0] / unit_px,
                  "line": (_NAME_LINE - _BASELINE) * label_px[0] / unit_px + _BASELINE * label_px[1] / unit_px}
    svg = render("mapsvg.html.j2", vb=vb, kx=kx, context=context,
                 width=0.8 if len(codes) <= 300 else 0.5 if len(codes) <= 1500 else 0.25,
                 areas=list(zip(fills, paths.loc[codes].tolist())), borders=borders,
                 outline=paths.loc[[c for c in outline if c in paths.index]].tolist(),
                 highlight=paths[highlight] if highlight is not None and highlight in paths.index else None,
                 font=FONT, bar=bar, labels=placed, label_font=label_font)
    return MapSvg(svg, vb[2] / vb[3], tuple(placed))


def _scale_bar(vb: tuple[float, float, float, float], strip: float, unit_px: float, lang: str,
               areas: tuple[float, float]) -> dict:
    """Two-segment km bar in the strip under the map, in map units so its length is right at any size: under the
    left of the areas' frame ``areas`` (left x, width; the viewBox may be wider), about a quarter of its width."""
    km = nice_length(0.25 * areas[1] * KM_PER_DEGREE)
    x0 = max(vb[0], areas[0]) + 0.02 * areas[1]
    length = km / KM_PER_DEGREE  # projected units: 1 unit = 1° of latitude = KM_PER_DEGREE km (true at φ₀ across)
    return {"x0": x0, "y": vb[1] + vb[3] - 0.55 * strip, "bar_h": 7 / unit_px,
            "font": 15 / unit_px, "half": length / 2, "length": length,
            "label": f"{fmt_number(km, 0 if km >= 1 else 1)} {t('export.km', lang)}"}


def view_fills(view: View) -> list[str]:
    """Each mapped area's class colour (opaque, as in the legend), grey for no data."""
    table = [_hex(c) for c in view.classes.colors] + [_hex(NO_DATA_RGBA)]
    fills = [table[i] for i in view.classes.index.tolist()]
    t_ = view.result.table
    if "hidden" in t_:  # household figures hidden for privacy: the legend's own colour
        fills = [_hex(HIDDEN_RGB) if h else f for f, h in zip(fills, t_["hidden"].tolist())]
    return fills


def source_line(dataset: str, metric: str, lang: str, synthetic: bool = True, k: int | None = None) -> str:
    """The credits of the sources a map draws on, as one line (household maps: and how their figures are
    protected, with threshold ``k``)."""
    folders = {"hdx-cod-ab-tha"}
    if dataset == "tpmap":
        folders.add("tpmap-2561")
    if metric == "per1000" or dataset == "households":
        folders.add("dopa-population-ahtambon")
    # The credit lines are in the sources' own (English) wording; Thai readers get the Thai title in front.
    parts = [f"{c.title(lang)}: {c.credit_text(lang)}" for c in CREDITS if c.folder in folders]
    if dataset == "households" and synthetic:
        parts.append(t("synthetic.badge", lang))
    if dataset == "households" and k is not None:
        parts.append(": ".join(export_line(k, lang)))
    return f"{t('export.sources', lang)}: " + " · ".join(parts)


def stamp(when: datetime | None, lang: str) -> str:
    when = when or datetime.now(timezone.utc)
    return f"{t('export.generated', lang)} {fmt_datetime(when, lang)} · povmap {__version__}"


# --- the slide / print page ----------------------------------------------------------------------------------------

def _place(engine: Engine, q: Query, lang: str) -> str:
    """Where the view is: Thailand, a province group, or the province (› district) it shows."""
    if q.parent:
        return " › ".join(label for _, label in breadcrumb(engine, q.parent, lang)[1:])
    if q.scope == "all":
        return t("crumb.thailand", lang)
    group = next((s for s in SCOPE_GROUPS if s.key == q.scope), None)
    if group is not None:
        return group.label(lang)
    return " › ".join(label for _, label in breadcrumb(engine, q.scope, lang)[1:])


def map_title(engine: Engine, view: View, lang: str) -> str:
    """The slide's title: where and what, e.g. "Kalasin — Rate (% of surveyed people) by district"."""
    q = view.result.query
    level = LEVEL_BY_KEY[q.level].label(lang)
    return t("export.map_title", lang, place=_place(engine, q, lang), metric=view.title,
             level=level.lower() if lang == "en" else level)


def subtitle(engine: Engine, q: Query, lang: str) -> str:
    """The dataset, then the filters that narrow the view (dimensions, tiers); place and level are in the title."""
    parts = [next(d for d in DATASETS if d.key == q.dataset).label(lang)]
    if q.dataset == "tpmap" and not q.indicator and tuple(q.dimensions) != DIMENSION_KEYS:
        parts.append(f"{t('ctl.view.dimensions', lang)}: " + ", ".join(DIMENSION_BY_KEY[d].label(lang) for d in q.dimensions))
    if q.dataset == "households" and tuple(q.tiers) != TIER_NUMBERS:
        parts.append(f"{t('ctl.tiers', lang)}: " + ", ".join(f"{n} {TIERS[n - 1].label(lang)}" for n in q.tiers))
    return " · ".join(parts)


def label_candidates(engine: Engine, view: View, lang: str, limit: int | None = None) -> list[AreaLabel]:
    """The view's areas as label candidates, most important first (the first ``limit``; None: all): by value
    (highest first), then by size (the projected box of the area); areas hidden for privacy or without data last,
    by size. A hidden area's label is its name only: no figure, and its order does not depend on its (hidden)
    value."""
    res = view.result
    frame = res.table
    if not len(frame):
        return []
    codes = frame["code"].astype(str).tolist()
    hidden = frame["hidden"].to_numpy(dtype=bool) if "hidden" in frame else np.zeros(len(frame), dtype=bool)
    value = frame["value"].to_numpy(dtype=float).copy()
    value[hidden] = np.nan
    bnd = engine.boundaries(res.query.level).reindex(codes)
    kx = math.cos(math.radians(float(bnd["lat"].mean()))) if bnd["lat"].notna().any() else 1.0
    size = ((bnd["maxx"] - bnd["minx"]) * kx * (bnd["maxy"] - bnd["miny"])).fillna(0).to_numpy()
    order = np.lexsort((codes, -size, -np.nan_to_num(value, nan=-np.inf), np.isnan(value)))
    names = frame["name_th" if lang == "th" else "name_en"].tolist()
    metric = METRIC_BY_KEY[res.query.metric]
    unit = "%" if metric.unit_en == "%" else ""  # counts and per 1,000: the number alone, the title says what

    def figure(v: float) -> str | None:
        return None if np.isnan(v) else fmt_number(v, DECIMALS[metric.key]) + unit

    return [AreaLabel(codes[i], names[i] if isinstance(names[i], str) and names[i] else codes[i], figure(value[i]))
            for i in order[:limit].tolist()]


def export_legend(view: View) -> list[LegendRow]:
    """The view's legend rows, the classes of a percentage metric with their unit ("1.15 – 1.83 %")."""
    q = view.result.query
    rows = list(view.legend)
    if METRIC_BY_KEY[q.metric].unit_en == "%":
        n = len(view.classes.upper)  # the class rows come first (then no data, hidden)
        rows[:n] = [replace(r, label=f"{r.label} %") for r in rows[:n]]
    return rows


SIDE_EM = 19  # the legend column, in em (26 before the map was widened: the map had a third of the slide)
_GAP_EM = 2  # between the map and the legend


def _lines(text: str, size_em: float, width_em: float) -> int:
    """Lines a text of ``size_em`` takes in a column ``width_em`` wide, estimated."""
    return max(1, math.ceil(text_width_em(text) * size_em / max(width_em, 1)))


def map_page(engine: Engine, view: View, *, lang: str, size: tuple[int, int], when: datetime | None = None) -> str:
    """The export page (HTML) of a view: title, map with area labels, legend, totals, credits and date."""
    w, h = int(size[0]), int(size[1])
    portrait = h > w
    design = _DESIGN if not portrait else _DESIGN[::-1]
    rem = 20 * min(w / design[0], h / design[1])  # type scales with the canvas
    res = view.result
    q = res.query
    title = map_title(engine, view, lang)
    sub = subtitle(engine, q, lang)
    sources = source_line(q.dataset, q.metric, lang, res.synthetic, res.extras.get("k"))
    # The box the map fills (the legend beside it, or under it in portrait): the page's heights as its CSS sets
    # them, with the title's, subtitle's and footer's lines estimated; the SVG keeps its shape if they are off.
    inner = w / rem - 3.6
    head = (1.3 + _lines(title, 2.1, inner) * 2.1 * 1.25 + 0.2 + _lines(sub, 1.1, inner) * 1.1 * 1.35
            + (1.95 if res.synthetic else 0))
    foot = (_lines(sources, 0.72, inner) + 1) * 0.72 * 1.35 + 0.45 + 1.0
    box = ((inner * rem, 0.7 * h - 10 * rem) if portrait
           else ((inner - SIDE_EM - _GAP_EM) * rem, h - (head + 2 * 0.8 + foot) * rem))
    box = (max(box[0], 100), max(box[1], 100))
    drawn = map_svg(engine, q.level, res.table["code"].tolist(), view_fills(view), lang=lang, box_px=box,
                    fill_box=True, labels=label_candidates(engine, view, lang, limit=LABEL_TRIES * LABEL_CAP),
                    label_px=(0.9 * rem, 0.8 * rem))
    unit = t(f"unit.{res.count_label}", lang)
    totals = None
    if res.has_data:
        totals = {"in_view": t("kpi.in_view", lang), "placed": fmt_number(res.placed_count), "unit": unit,
                  "not_on_map": t("kpi.not_on_map", lang),
                  "unplaced": fmt_number(res.unplaced_count) if res.unplaced_count else None}
    legend = legend_html(export_legend(view), lang=lang, style="export", title=view.title)
    return render("mappage.html.j2", w=w, h=h, font=FONT, rem=rem, side=SIDE_EM, gap=_GAP_EM,
                  portrait=portrait, lang=lang, title=title, subtitle=sub, totals=totals,
                  badge=t("synthetic.badge", lang) if res.synthetic else None, svg=drawn.svg,
                  legend=legend, sources=sources, stamp=stamp(when, lang))


def map_png(engine: Engine, query: Query, *, lang: str, scheme: str = "quantiles", k: int = 5,
            size: tuple[int, int] = SLIDE, scale: float = 1, when: datetime | None = None) -> bytes:
    """The explorer's map for ``query`` (same classes and colours as :func:`build_view`) as a PNG.

    ``size`` is the canvas in pixels: :data:`SLIDE` (1920×1080) for slides, :data:`A4_LANDSCAPE` (A4 at 200 dpi)
    for print, or any other (portrait canvases put the legend under the map). Type scales with the canvas, so
    every size looks like the slide. ``scale`` multiplies the pixels (2 = the same picture at twice the
    resolution); the PNG is exactly ``size × scale`` pixels. ``when``: the date printed (default now).
    Raises :class:`QueryError` for an invalid query and :class:`povmap.present.headless.ExportError` when it cannot be rendered.
    """
    view = build_view(engine, query, lang=lang, scheme=scheme, k=k)
    return CHROMIUM.png(map_page(engine, view, lang=lang, size=size, when=when), size, scale)


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's header."""
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")

