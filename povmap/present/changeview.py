"""The change view between two rounds as plain data: diverging classes, map, legend, ranking, movers,
each round's reconciliation and, for household data, the tier transitions.

Rising poverty is red and falling poverty blue (ColorBrewer RdBu, colour-blind safe), centred on zero: the
classes of a fall and of a rise are quantiles of the size of the change, each side apart, so zero is never
inside a coloured class.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from plotly.colors import colorbrewer, hex_to_rgb

from povmap.core import change as ch
from povmap.core.classify import NO_DATA_RGBA, quantile_bins
from povmap.core.engine import Engine, Query
from povmap.core.i18n import t
from povmap.core.thai import DECIMALS, fmt_number
from povmap.core.transitions import ENDS, OUTSIDE, STARTS, Transitions, shown
from povmap.core.vocab import LEVEL_BY_KEY, TIERS, metric_label
from povmap.present.explorer import HIDDEN_FILL, HIDDEN_RGB, LegendRow, map_labels, scope_panels, view_bounds
from povmap.web.maplayer import MAP_HEIGHT_PX, MapSpec, build_map

_RDBU = [hex_to_rgb(c) if c.startswith("#") else tuple(int(v) for v in c[4:-1].split(",")) for c in colorbrewer.RdBu]
NO_CHANGE_RGB = (247, 247, 247)
SIDE_CLASSES = 3  # classes of a fall, and as many of a rise


def _side_colours(rise: bool) -> list[tuple[int, int, int]]:
    """Pale to strong: RdBu's reds for a rise, its blues for a fall (its middle, white, is "no change")."""
    reds, blues = _RDBU[:4][::-1], _RDBU[-4:]
    return [tuple(c) for c in (reds if rise else blues)[1:1 + SIDE_CLASSES]]


@dataclass(frozen=True)
class DivergingClasses:
    """Classes of a change: ``rows`` (lower, upper, colour, count) from the largest fall to the largest rise."""

    rows: tuple[tuple[float, float, tuple[int, int, int], int], ...]
    index: np.ndarray  # row of each value, -1 for no data

    def fills(self) -> list[str]:
        table = [f"[{c[0]},{c[1]},{c[2]},215]" for _, _, c, _ in self.rows] + ["[{},{},{},{}]".format(*NO_DATA_RGBA)]
        return [table[i] for i in self.index.tolist()]


def diverging(values) -> DivergingClasses:
    """Falls and rises each in up to :data:`SIDE_CLASSES` quantile classes of their size; zero its own class."""
    y = np.asarray(values, dtype="float64")
    index = np.full(len(y), -1, dtype=int)
    rows: list = []
    for rise in (False, True):
        side = (y > 0) if rise else (y < 0)
        size = np.abs(y[side])
        if size.size:
            k = int(min(SIDE_CLASSES, np.unique(size).size))
            upper = quantile_bins(size, k) if k > 1 else np.asarray([size.max()], dtype=float)
            upper = upper[np.r_[True, np.diff(upper) > 0]]
            cls = np.searchsorted(upper, size, side="left")
            lower = np.r_[size.min(), upper[:-1]]
            colours = _side_colours(rise)
            side_rows = [(lo, hi, colours[i], int((cls == i).sum())) for i, (lo, hi) in enumerate(zip(lower, upper))]
            if not rise:  # a fall runs from the largest (most negative) to the smallest
                side_rows = [(-hi, -lo, c, n) for lo, hi, c, n in side_rows][::-1]
                cls = len(upper) - 1 - cls
            base = len(rows)
            index[np.flatnonzero(side)] = base + cls
            rows += side_rows
        if not rise and (y == 0).any():
            index[np.flatnonzero(y == 0)] = len(rows)
            rows.append((0.0, 0.0, NO_CHANGE_RGB, int((y == 0).sum())))
    return DivergingClasses(tuple(rows), index)


@dataclass
class ChangeView:
    change: ch.Change
    classes: DivergingClasses
    map: MapSpec
    legend: list[LegendRow]
    ranking: pd.DataFrame  # code, name, value_a, value_b, change, relative (sorted: largest rise first)
    improved: pd.DataFrame  # the areas that fell most: name, change
    worsened: pd.DataFrame
    title: str
    label_a: str
    label_b: str
    drillable: bool


def round_label(info, lang: str) -> str:
    """A dataset as the round picker names it: its name and year (B.E. in Thai)."""
    year = info.year_label(lang)
    name = info.label(lang)
    return name if year in name else f"{name} ({year})"


def round_labels(info_a, info_b, lang: str) -> tuple[str, str]:
    """Short names of the two rounds for headings and columns: their years when they differ, else their names."""
    ya, yb = info_a.year_label(lang), info_b.year_label(lang)
    if ya != yb and "–" not in (ya, yb):
        return ya, yb
    return round_label(info_a, lang), round_label(info_b, lang)


def _fmt_change(metric: str, v: float, lang: str, sign: bool = True) -> str:
    if v is None or pd.isna(v):
        return "–"
    s = fmt_number(abs(v), DECIMALS[metric])
    return (("+" if v > 0 else "−" if v < 0 else "±") + s) if sign else s


def build_change_view(a: Engine, b: Engine, query: Query, *, lang: str, selected: str | None = None,
                      map_size: tuple[int, int] = (700, MAP_HEIGHT_PX), labels: int = 0,
                      label_px: int = 13) -> ChangeView:
    """The explorer's change view: ``query`` on round A (engine ``a``) and round B (``b``); ``labels``: how many
    area names (largest change first) the map may write on itself."""
    c = ch.compare(a, b, query)
    q, frame = c.query, c.table
    classes = diverging(frame["change"].to_numpy())
    fills = classes.fills()
    hidden = frame["hidden"].to_numpy(dtype=bool)
    name_col = "name_th" if lang == "th" else "name_en"
    la, lb = round_labels(c.info_a, c.info_b, lang)
    small = t("privacy.hidden_short", lang, k=b.privacy_k)
    dec = DECIMALS[q.metric]
    tips = {"v": (t("change.tip", lang) + ": {v}", [small if h else _fmt_change(q.metric, v, lang)
                                                     for v, h in zip(frame["change"].tolist(), hidden)]),
            "w": ("{w}", [small if h else f"{fmt_number(x, dec) if pd.notna(x) else '–'} → "
                                         f"{fmt_number(y, dec) if pd.notna(y) else '–'}"
                          for x, y, h in zip(frame["value_a"].tolist(), frame["value_b"].tolist(), hidden)])}
    if hidden.any():
        fills = [HIDDEN_FILL if h else f for f, h in zip(fills, hidden)]
    bnd = a.boundaries(q.level)
    context = None
    if q.parent:
        context = [q.parent[:2]] if len(q.parent) == 4 else a.boundaries("province").index.tolist()
    spec = build_map(bnd, frame["code"].to_numpy(dtype=object), fills=fills, tooltip_lines=tips, selected=selected,
                     context_codes=context, bounds=view_bounds(a, q, bnd, frame["code"]) if len(frame) else None,
                     size_px=map_size, level=q.level, panels=scope_panels(a, q, lang), label_px=label_px,
                     labels=map_labels(a, q.level, *_largest_changes(frame, name_col), labels))
    legend = []
    for lo, hi, colour, n in classes.rows:
        if lo == hi == 0:
            label = t("change.none", lang)
        else:  # "fell by 5–15", "rose by 1–3": sizes, not signed bounds, read at a glance
            small, big = sorted((abs(lo), abs(hi)))
            span = (_fmt_change(q.metric, small, lang, sign=False) if small == big else
                    f"{_fmt_change(q.metric, small, lang, sign=False)}–{_fmt_change(q.metric, big, lang, sign=False)}")
            label = t("change.fell" if hi <= 0 else "change.rose", lang, span=span)
        legend.append(LegendRow(colour, label, n))
    no_data = int(((classes.index < 0) & ~hidden).sum())
    if no_data:
        legend.append(LegendRow(NO_DATA_RGBA[:3], t("legend.no_data", lang), no_data))
    if hidden.any():
        legend.append(LegendRow(HIDDEN_RGB, t("legend.hidden", lang, k=b.privacy_k), int(hidden.sum())))
    order = frame.assign(_nan=frame["change"].isna()).sort_values(["_nan", "change", "code"],
                                                                  ascending=[True, False, True])
    ranking = pd.DataFrame({"code": order["code"].to_numpy(), "name": order[name_col].to_numpy(),
                            "value_a": order["value_a"].to_numpy(), "value_b": order["value_b"].to_numpy(),
                            "change": order["change"].to_numpy(), "relative": order["relative"].to_numpy()})
    down, up = ch.movers(c)
    pick = lambda d: pd.DataFrame({"code": d["code"], "name": d[name_col], "change": d["change"],  # noqa: E731
                                   "relative": d["relative"]})
    title = t("change.title", lang, metric=metric_label(q.dataset, q.metric, lang))
    return ChangeView(c, classes, spec, legend, ranking, pick(down), pick(up), title, la, lb,
                      drillable=LEVEL_BY_KEY[q.level].key != "subdistrict")


def change_headline(view: ChangeView, lang: str) -> list:
    """The change view's first figures: the view's total in both rounds, the area that improved most and the one
    that worsened most (areas hidden for privacy never lead)."""
    from povmap.present.explorer import Headline

    c, q = view.change, view.change.query
    unit = t(f"unit.{c.b.count_label}", lang)

    def total(res) -> int | None:
        return None if not res.has_data or res.extras.get("total_hidden") else res.scope_count

    ta, tb = total(c.a), total(c.b)
    k = c.b.extras.get("k", 0)
    shown_a = fmt_number(ta) if ta is not None else (f"< {k}" if c.a.has_data else t("kpi.no_data", lang))
    shown_b = fmt_number(tb) if tb is not None else (f"< {k}" if c.b.has_data else t("kpi.no_data", lang))
    value = _fmt_change("people", tb - ta, lang) if ta is not None and tb is not None else "–"
    out = [Headline(t("change.head.total", lang, unit=unit), value,
                    f"{view.label_a}: {shown_a} → {view.label_b}: {shown_b}")]
    for rows, fell in ((view.improved, True), (view.worsened, False)):
        if len(rows):
            r = rows.iloc[0]
            label = t("change.head.improved" if fell else "change.head.worsened", lang,
                      metric=metric_label(q.dataset, q.metric, lang))
            out.append(Headline(label, r["name"], _fmt_change(q.metric, r["change"], lang)))
    return out


def _largest_changes(frame: pd.DataFrame, name_col: str) -> tuple[list, list]:
    t_ = frame.dropna(subset=["change"]).assign(size=lambda d: d["change"].abs())
    t_ = t_.sort_values(["size", "code"], ascending=[False, True])
    return t_["code"].tolist(), t_[name_col].tolist()


def reconcile_lines(view: ChangeView, lang: str) -> list[str]:
    """Each round's reconciliation in plain words: how much of its source total this map places."""
    out = []
    for res, label in ((view.change.a, view.label_a), (view.change.b, view.label_b)):
        unit = t(f"unit.{res.count_label}", lang)
        if not res.has_data:
            out.append(t("change.round_no_data", lang, round=label))
        elif res.extras.get("total_hidden"):
            out.append(t("change.round_hidden", lang, round=label, k=res.extras["k"]))
        else:
            some = bool(res.unplaced_count or res.extras.get("hidden_areas"))
            out.append(t("change.round_some" if some else "change.round_all", lang, round=label, placed=fmt_number(res.placed_count),
                         total=fmt_number(res.scope_count), unit=unit))
    return out


def definition_note(info_a, info_b, label_a: str, label_b: str, lang: str) -> tuple[str, str]:
    """(kind, text): "ok" when both rounds state the same definition, "differ" or "unknown" otherwise."""
    same = ch.same_definition(info_a, info_b)
    da, db = (definition_text(i, lang) for i in (info_a, info_b))
    if same is None:
        return "unknown", t("change.definition_unknown", lang)
    if same:
        return "ok", t("change.definition_same", lang, definition=da)
    return "differ", t("change.definition_differ", lang, a=label_a, b=label_b, da=da, db=db)


def definition_text(info, lang: str) -> str:
    """A dataset's definition as shown: a built-in's from the catalogue, an import's as its importer wrote it."""
    from povmap.data.uploads.datasets import BUILTIN_DEFINITIONS

    text = ch.Definition.of(info).text
    stem = BUILTIN_DEFINITIONS.get(text)
    return t("dataset.definition.tpmap_2561" if stem == "tpmap_2561" else "dataset.definition.synthetic", lang) \
        if stem else text


def tier_name(n: int, lang: str, start: bool) -> str:
    if n == OUTSIDE:
        return t("change.new" if start else "change.left", lang)
    return f"{n} {TIERS[n - 1].label(lang)}"


def transition_table(tr: Transitions, prefix, lang: str, referred: bool | None = None) -> pd.DataFrame:
    """The shown matrix (:meth:`Transitions.published`): rows round A's tiers (and new), columns round B's (and
    left); figures of 1 to k-1 as "< k", a row or column too small to show as "–"."""
    m = tr.published(prefix, referred)
    out = pd.DataFrame({t("change.from", lang): [tier_name(s, lang, True) for s in STARTS]})
    for e in ENDS:
        out[tier_name(e, lang, False)] = [_cell(v, tr.k) for v in m[e].tolist()]
    return out


def _cell(v: float, k: int) -> str:
    if pd.isna(v):
        return "–"
    s = shown(int(v), k)
    return f"< {k}" if s is None else fmt_number(s)


def transition_rows(tr: Transitions, prefix, referred: bool | None = None) -> pd.DataFrame:
    """The shown matrix as one row per cell (``povmap change --transitions`` and the CSV): start, end,
    households (empty where not shown), status (shown, hidden: 1 to k-1, suppressed: its row or column is too
    small to show)."""
    m = tr.published(prefix, referred)
    rows = []
    for s in STARTS:
        for e in ENDS:
            raw = m.loc[s, e]
            v = None if pd.isna(raw) else shown(int(raw), tr.k)
            status = "suppressed" if pd.isna(raw) else "hidden" if v is None else "shown"
            rows.append({"from": "new" if s == OUTSIDE else str(s), "to": "left" if e == OUTSIDE else str(e),
                         "households": v, "status": status})
    out = pd.DataFrame(rows)
    out["households"] = pd.array(out["households"], dtype="Int64")
    return out


def sankey_data(tr: Transitions, prefix, lang: str, referred: bool | None = None) -> dict:
    """Nodes and links of the transition Sankey: only shown cells of k or more (a hidden or suppressed cell is
    never drawn to size)."""
    m = tr.published(prefix, referred)
    left = [tier_name(s, lang, True) for s in STARTS]
    right = [tier_name(e, lang, False) for e in ENDS]
    src, dst, val = [], [], []
    for i, s in enumerate(STARTS):
        for j, e in enumerate(ENDS):
            raw = m.loc[s, e]
            v = None if pd.isna(raw) else shown(int(raw), tr.k)
            if v:
                src.append(i)
                dst.append(len(left) + j)
                val.append(v)
    return {"labels": left + right, "source": src, "target": dst, "value": val}


AREA_METRICS = {"households": ("households", "members"), "tpmap": ("people", "rate")}


def rounds_of(first: Engine, second: Engine, dataset: str) -> tuple[Engine, Engine]:
    """The engines of round A (the earlier dataset of ``dataset``'s kind) and round B."""
    q = Query(dataset=dataset)
    (_, a), (_, b) = ch.order((ch.info_of(first, q), first), (ch.info_of(second, q), second))
    return a, b


def area_rounds(a: Engine, b: Engine, code: str, dataset: str) -> list[dict]:
    """One area's figures in both rounds (the profile and the brief): per metric of :data:`AREA_METRICS`, its
    ``value_a``, ``value_b``, ``change`` and ``hidden``, as the change view computes them for its level."""
    level = {2: "province", 4: "district", 6: "subdistrict"}[len(code)]
    here = Query(dataset=dataset, level=level, scope=code[:2], parent=code[:-2] if level != "province" else None)
    out = []
    for metric in AREA_METRICS[dataset]:
        r = ch.compare(a, b, replace(here, metric=metric)).table.set_index("code").reindex([code]).iloc[0]
        out.append({"metric": metric, "value_a": r["value_a"], "value_b": r["value_b"], "change": r["change"],
                    "hidden": bool(r["hidden"]) if pd.notna(r["hidden"]) else False})
    return out


def capital_change(a: Engine, b: Engine, prefix: str | None) -> pd.DataFrame:
    """Each capital's mean score in both rounds and the change (NaN where a round shows no mean)."""
    from povmap.core.households import CAPITAL_COLUMNS
    from povmap.core.vocab import CAPITALS

    ma = a.protected.means(CAPITAL_COLUMNS, prefix=prefix)
    mb = b.protected.means(CAPITAL_COLUMNS, prefix=prefix)
    return pd.DataFrame({"key": [c.key for c in CAPITALS], "a": ma, "b": mb, "change": np.round(mb - ma, 1)})


def change_table(view_or_change) -> pd.DataFrame:
    """The change figures one row per area (``povmap change`` and the download): code, names, both rounds,
    change, relative, status (hidden: either round rests on fewer than k households)."""
    c = view_or_change.change if isinstance(view_or_change, ChangeView) else view_or_change
    tb = c.table
    status = np.where(tb["hidden"], "hidden", np.where(tb["change"].isna(), "no_data", "shown"))
    return pd.DataFrame({"code": tb["code"], "name_th": tb["name_th"], "name_en": tb["name_en"],
                         "value_a": tb["value_a"], "value_b": tb["value_b"], "change": tb["change"],
                         "relative": tb["relative"].round(2), "status": status})
