"""The explorer's view model: everything the map page shows for one query, as plain data.

The page reads widgets, calls :func:`shared_view` (:func:`build_view`, made once for every session) and renders
the result; no rule lives there.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, replace
from types import MappingProxyType

import numpy as np
import pandas as pd

from povmap.core.caches import Cache
from povmap.core.classify import NO_DATA_RGBA, Classes, classify
from povmap.core.engine import Engine, Query, Result
from povmap.core.i18n import t
from povmap.core.thai import DECIMALS, fmt_metric, fmt_metric_many, fmt_number, fmt_number_many, thai_sort_key
from povmap.core.vocab import (
    INDICATOR_BY_KEY,
    LEVEL_BY_KEY,
    LEVEL_KEYS,
    METRIC_BY_KEY,
    SCOPE_GROUP_KEYS,
    child_level,
    metric_label,
)
from povmap.web.geometry import AreaShapes, pack
from povmap.web.maplayer import (
    MAP_HEIGHT_PX,
    GeoChunk,
    MapSpec,
    bounds_of,
    build_map,
    panel_bounds,
)

# Areas whose household figures are hidden for privacy: a paler grey than "no data", with a blue tint.
HIDDEN_RGB = (214, 220, 232)
HIDDEN_FILL = "[{},{},{},220]".format(*HIDDEN_RGB)


@dataclass(frozen=True)
class LegendRow:
    color: tuple[int, int, int]
    label: str
    count: int


@dataclass
class View:
    result: Result
    classes: Classes
    map: MapSpec
    legend: list[LegendRow]
    ranking: pd.DataFrame  # rank, code, name, value, count (sorted by value, no data last)
    unplaced: pd.DataFrame  # code, name, reason (text), count, value (text)
    no_data: pd.DataFrame  # reason (text), areas
    notes: pd.DataFrame  # boundary polygons in view whose code was adjusted: code, issue (text), detail
    title: str
    drillable: bool  # whether clicking an area goes one level down


def area_name(engine: Engine, code: str, lang: str) -> str:
    row = engine.names.loc[code]
    return row["name_th"] if lang == "th" else row["name_en"]


def breadcrumb(engine: Engine, parent: str | None, lang: str) -> list[tuple[str | None, str]]:
    """[(code or None for Thailand, label), …] from the country down to ``parent``."""
    crumbs: list[tuple[str | None, str]] = [(None, t("crumb.thailand", lang))]
    if parent:
        for n in (2, 4):
            if len(parent) >= n:
                crumbs.append((parent[:n], area_name(engine, parent[:n], lang)))
    return crumbs


def _legend(classes: Classes, metric: str, lang: str) -> list[LegendRow]:
    rows = []
    for i, (lo, hi, n, col) in enumerate(zip(classes.lower, classes.upper, classes.counts, classes.colors)):
        dec = DECIMALS[metric]
        lo_s, hi_s = fmt_number(lo, dec), fmt_number(hi, dec)
        label = f"{lo_s} – {hi_s}" if i == 0 else f"> {lo_s} – {hi_s}"
        rows.append(LegendRow(col, label, n))
    if classes.no_data:
        rows.append(LegendRow(NO_DATA_RGBA[:3], t("legend.no_data", lang), classes.no_data))
    return rows


# Per engine and data version (see povmap.core.caches).
_PROVINCE_ORDER = Cache("explorer.province_order", maxsize=2, why="77 codes in name order, one list per language")
_SHAPES = Cache("explorer.shapes", maxsize=len(LEVEL_KEYS) * 2,
                why="every area's rings and triangles as typed arrays, one set per level and resolution (overview, "
                    "detail): 1-4 MB each for subdistricts")
_BOUNDS = Cache("explorer.bounds", maxsize=4096,
                why="a view's map extent (4 floats) per level, scope and drilled area: every drill-down view of the "
                    "country (≈ 1,100) for a few scopes, ~0.3 kB each")


def province_order(engine: Engine, lang: str) -> list[str]:
    """Province codes in name order: Thai dictionary order in Thai, alphabetical in English."""
    def compute() -> list[str]:
        names = engine.names.loc[engine.names.index.str.len() == 2]
        key = (lambda c: thai_sort_key(names.at[c, "name_th"])) if lang == "th" else (lambda c: names.at[c, "name_en"])
        return sorted(names.index, key=key)

    return _PROVINCE_ORDER.get(engine, lang, compute)


def _shapes(engine: Engine, level: str, resolution: str) -> AreaShapes:
    """A level's geometry, cut into triangles once per engine (names in both languages for the tooltip)."""
    def compute() -> AreaShapes:
        bnd = engine.boundaries(level)
        names = engine.names.reindex(bnd.index)
        labels = names["name_th"].fillna("") + " · " + names["name_en"].fillna("")
        return pack(bnd[f"geojson_{resolution}"], labels)

    return _SHAPES.get(engine, (level, resolution), compute)


def map_chunk_bytes(engine: Engine, chunk: GeoChunk) -> bytes:
    """One of the map's geometry files (see ``povmap.web.mapweb`` and ``povmap.web.geometry``)."""
    return _shapes(engine, chunk.level, chunk.resolution).chunk(chunk.prefix).to_bytes()


def view_bounds(engine: Engine, q: Query, bnd: pd.DataFrame, codes: pd.Series) -> tuple[float, float, float, float]:
    return _BOUNDS.get(engine, (q.level, q.scope, q.parent), lambda: bounds_of(bnd, codes))


_PANELS = Cache("explorer.panels", maxsize=8, why="the panels of each province group (a few boxes each)")


def scope_panels(engine: Engine, q: Query, lang: str) -> tuple[list, list[str]] | None:
    """The panels of a view of scattered provinces (a province group, not drilled down), as (boxes, titles: the
    provinces each shows): see :func:`povmap.web.maplayer.panel_bounds`; None for one view."""
    if q.parent or q.scope not in SCOPE_GROUP_KEYS or q.scope == "all":
        return None

    def compute():
        b = engine.boundaries("province").reindex(engine.scope_provinces(q.scope)).dropna(subset=["minx"])
        boxes = panel_bounds(b[["minx", "miny", "maxx", "maxy"]].to_numpy().tolist())
        if not boxes:
            return None
        names = engine.names.reindex(b.index)["name_th" if lang == "th" else "name_en"]
        inside = [[names[c] for c, r in b.iterrows() if box[0] <= r["minx"] and r["maxx"] <= box[2]
                   and box[1] <= r["miny"] and r["maxy"] <= box[3]] for box in boxes]
        return boxes, [" · ".join(sorted(n)) for n in inside]

    return _PANELS.get(engine, (q.scope, lang), compute)


def map_labels(engine: Engine, level: str, codes, names, n: int) -> list[tuple[str, float, float]] | None:
    """The first ``n`` of ``codes`` (most important first) as map labels: (name, lon, lat) at the area's label
    point (inside the area)."""
    if n <= 0:
        return None
    bnd = engine.boundaries(level)
    out = []
    for code, name in zip(codes, names):
        if code in bnd.index and isinstance(name, str) and name:
            out.append((name, bnd.at[code, "label_lon"], bnd.at[code, "label_lat"]))
        if len(out) >= n:
            break
    return out


def build_view(engine: Engine, query: Query, *, lang: str, scheme: str = "quantiles", k: int = 5,
               selected: str | None = None, map_size: tuple[int, int] = (700, MAP_HEIGHT_PX), labels: int = 0,
               label_px: int = 13) -> View:
    """``labels``: how many area names (highest value first) the map may write on itself."""
    res = engine.compute(query)
    q = res.query
    frame = res.table
    classes = classify(frame["value"].to_numpy(), scheme, k)
    name_col = "name_th" if lang == "th" else "name_en"
    metric_name = metric_label(q.dataset, q.metric, lang)
    hidden = frame["hidden"].to_numpy(dtype=bool) if "hidden" in frame else np.zeros(len(frame), dtype=bool)
    small = t("privacy.hidden_short", lang, k=res.extras.get("k", ""))
    fills = classes.fill_json()
    tips = {"v": (f"{metric_name}: {{v}}", fmt_metric_many(q.metric, frame["value"].tolist(), lang))}
    if not METRIC_BY_KEY[q.metric].is_count:
        counts = frame["count"].astype("float64").where(frame["value"].notna())
        tips["w"] = (f"{{w}} {t(f'unit.{res.count_label}', lang)}", fmt_number_many(counts.tolist()))
    if hidden.any():  # hidden for privacy: its own fill and "< k" in the tooltip, never the figure
        tips = {key: (tmpl, [small if h else v for v, h in zip(vals, hidden)]) for key, (tmpl, vals) in tips.items()}
        fills = [HIDDEN_FILL if h else f for f, h in zip(fills, hidden)]
    bnd = engine.boundaries(q.level)
    context = None
    if q.parent:
        context = [q.parent[:2]] if len(q.parent) == 4 else engine.boundaries("province").index.tolist()
    order = frame.assign(_nan=frame["value"].isna()).sort_values(["_nan", "value", "code"], ascending=[True, False, True])
    spec = build_map(
        bnd, frame["code"].to_numpy(dtype=object), fills=fills, tooltip_lines=tips, selected=selected,
        context_codes=context, bounds=view_bounds(engine, q, bnd, frame["code"]) if len(frame) else None,
        size_px=map_size, level=q.level, panels=scope_panels(engine, q, lang), label_px=label_px,
        labels=map_labels(engine, q.level, order["code"], order[name_col], labels),
    )
    ranking = pd.DataFrame({
        "rank": range(1, len(order) + 1),
        "code": order["code"].to_numpy(),
        "name": order[name_col].to_numpy(),
        "value": order["value"].to_numpy(),
        "count": order["count"].to_numpy(),
    })
    if hidden.any():  # household views: counts as text, hidden ones as "< k"
        order_hidden = order["hidden"].to_numpy(dtype=bool)
        ranking["count"] = [f"< {res.extras['k']}" if h else fmt_number(c)
                            for c, h in zip(ranking["count"].tolist(), order_hidden)]
    ranking["rank"] = ranking["rank"].astype("Int64")
    ranking.loc[order["_nan"].to_numpy(), "rank"] = pd.NA
    unplaced = res.unplaced.assign(
        count=[f"< {res.extras['k']}" if pd.isna(c) else fmt_number(c) for c in res.unplaced["count"].tolist()]
        if hidden.any() else res.unplaced["count"],
        name=res.unplaced[name_col],
        reason=[t(f"reason.{r}", lang) for r in res.unplaced["reason"]],
        value=[fmt_metric(q.metric, v, lang) for v in res.unplaced["value"].tolist()],
    )[["code", "name", "reason", "count", "value"]]
    no_data = (res.no_data.groupby("reason").size().rename("areas").reset_index()
               .assign(reason=lambda d: [t(f"reason.{r}", lang) for r in d["reason"]]))
    bn = engine.data.boundary_notes
    bn = bn[(bn["level"] == q.level) & (bn["issue"] != "no_polygon")]
    bn = bn[engine.in_view(bn["code"].to_numpy(dtype=object), q)]
    notes = pd.DataFrame({"code": bn["code"].to_numpy(), "issue": [t(f"note.{i}", lang) for i in bn["issue"]],
                          "detail": bn["detail"].to_numpy()})
    if q.indicator:
        ind = INDICATOR_BY_KEY[q.indicator]
        title = f"{ind.tpmap_label} {ind.label(lang)} — {metric_name}"
    else:
        title = metric_name
    legend = _legend(classes, q.metric, lang)
    if hidden.any():
        legend = [replace(r, count=r.count - int(hidden.sum())) if r.color == NO_DATA_RGBA[:3] else r for r in legend]
        legend = [r for r in legend if r.count or r.color != NO_DATA_RGBA[:3]]
        legend.append(LegendRow(HIDDEN_RGB, t("legend.hidden", lang, k=res.extras["k"]), int(hidden.sum())))
    return View(res, classes, spec, legend, ranking, unplaced, no_data, notes, title,
                drillable=child_level(q.level) is not None)


_VIEWS = Cache("explorer.views", maxsize=8,
               why="the views opened last, shared by every session (a shared link, the default first screen): ~2 MB "
                   "for the nationwide subdistricts, most far smaller; 8 per engine, ≤ 4 engines (app_pages/_ui)")
_VIEW_ARGS = inspect.signature(build_view)
# The explorer page's map (not presenting), read-only: the page and the start-up warm-up ask for the same view with it
PAGE_VIEW = MappingProxyType({"map_size": (700, MAP_HEIGHT_PX), "labels": 12, "label_px": 13})


def shared_view(engine: Engine, query: Query, **options) -> View:
    """:func:`build_view`'s view, made once per data version for every session that asks for the same one: each new
    visitor opening a shared link, or the default first screen, used to work it out again (44-80 ms of a run for the
    nationwide subdistricts here, issue 16). The view is shared: read it, and copy a table before changing it."""
    bound = _VIEW_ARGS.bind(engine, query, **options)
    bound.apply_defaults()
    key = (query.normalised(), tuple((k, v) for k, v in bound.arguments.items() if k not in ("engine", "query")))
    return _VIEWS.get(engine, key, lambda: build_view(engine, query, **options))


@dataclass(frozen=True)
class Headline:
    """One of the figures a newcomer reads first: a label, a big value and a line under it."""

    label: str
    value: str
    note: str = ""


def headline(engine: Engine, view: View, lang: str) -> list[Headline]:
    """Where poverty is worst in this view, before any reconciliation: the poor of the view, the area with the
    highest rate (or value of the shown metric), the area with the most poor. Areas hidden for privacy never lead."""
    res, q = view.result, view.result.query
    unit = t(f"unit.{res.count_label}", lang)
    level = LEVEL_BY_KEY[q.level].label(lang)
    ranked = view.ranking[view.ranking["rank"].notna()]
    if res.extras.get("total_hidden"):
        total = f"< {res.extras['k']}"
    else:
        total = fmt_number(res.scope_count) if res.has_data else t("kpi.no_data", lang)
    out = [Headline(t("head.total", lang, unit=unit), total,
                    t("head.areas", lang, count=len(ranked), level=level))]
    if not len(ranked):
        return out
    top = ranked.iloc[0]
    out.append(Headline(t("head.top", lang, metric=metric_label(q.dataset, q.metric, lang)), top["name"],
                        fmt_metric(q.metric, top["value"], lang)))
    if METRIC_BY_KEY[q.metric].is_count:
        if "rate" in engine.metrics(q.dataset, q.level, q.indicator):  # the other way to be worst: the highest rate
            rate = engine.compute(replace(q, metric="rate")).table.dropna(subset=["value"])
            if len(rate):
                r = rate.sort_values(["value", "code"], ascending=[False, True]).iloc[0]
                out.append(Headline(t("head.top", lang, metric=metric_label(q.dataset, "rate", lang)),
                                    r["name_th" if lang == "th" else "name_en"], fmt_metric("rate", r["value"], lang)))
    elif pd.api.types.is_numeric_dtype(ranked["count"]):  # counts shown as text are household counts with "< k"
        c = ranked.sort_values(["count", "code"], ascending=[False, True]).iloc[0]
        out.append(Headline(t("head.top_count", lang, unit=unit), c["name"], f"{fmt_number(c['count'])} {unit}"))
    return out


LOCATOR_PX = (380, 300)
LOCATOR_HIT = "[178,24,43,235]"
LOCATOR_OTHER = "[225,225,225,220]"


def locator_map(engine: Engine, code: str) -> MapSpec:
    """A small map of the area among its siblings (the provinces, or its parent's children)."""
    level = {2: "province", 4: "district", 6: "subdistrict"}[len(code)]
    bnd = engine.boundaries(level)
    parent = code[: len(code) - 2]
    siblings = bnd.index[bnd.index.str.startswith(parent)] if parent else bnd.index
    siblings = siblings.to_numpy(dtype=object)
    fills = [LOCATOR_HIT if c == code else LOCATOR_OTHER for c in siblings]
    context = [code[:2]] if level != "province" else None
    return build_map(bnd, siblings, fills=fills, tooltip_lines={}, selected=code if code in bnd.index else None,
                     context_codes=context, size_px=LOCATOR_PX, level=level)
