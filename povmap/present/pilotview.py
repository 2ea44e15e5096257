"""The pilot-area page's view model: criterion maps, the shortlist map and tables, the written method.

Everything here is plain data in the user's language; the page only lays it out.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
import pandas as pd

from povmap import __version__
from povmap.core.caches import Cache
from povmap.core.classify import classify
from povmap.core.engine import Engine, Query
from povmap.core.i18n import t
from povmap.core.privacy import export_line
from povmap.core.thai import fmt_datetime, fmt_number, fmt_number_many
from povmap.core.vocab import (
    CRITERION_BY_KEY,
    DATASETS,
    DIMENSION_BY_KEY,
    LEVEL_BY_KEY,
    NORMALISATIONS,
    SCOPE_GROUPS,
    TIERS,
)
from povmap.pilot import CriteriaSet, PilotResult, spatial
from povmap.present import smallmaps
from povmap.present.credits import CREDITS
from povmap.present.explorer import LegendRow, scope_panels
from povmap.web.maplayer import MapSpec, bounds_of, build_map

COVERED_RGB = (44, 127, 184)
NOT_COVERED_RGB = (237, 248, 251)
SHORTLIST_RGBA = "[178,24,43,235]"
RANKED_RGBA = "[253,219,199,220]"
GATED_RGBA = "[240,240,240,220]"
DECIMALS = {"count": 0, "rate": 2, "share": 3, "depth": 2, "tier1": 1, "readiness": 2}


@dataclass(frozen=True)
class SmallMap:
    key: str
    title: str
    png: bytes
    legend: list[LegendRow]
    note: str = ""


# Per engine and data version (see povmap.core.caches). A canvas is a frame's areas projected to pixels (its rings);
# a small map is one criterion's PNG (~10-30 kB). A frame has up to 9 criteria in 2 languages.
_CANVASES = Cache("pilotview.canvas", maxsize=8,
                  why="the projected areas of the frames in use, one per frame: ≤ 2.2 MB (all subdistricts)")
_SMALL_MAPS = Cache("pilotview.smallmaps", maxsize=64,
                    why="criterion maps of the frames in use: 9 criteria × 2 languages per frame, ~20 kB each")


def _canvas(engine: Engine, result: CriteriaSet) -> smallmaps.Canvas:
    codes = tuple(result.values.index)
    level = result.frame.level

    def build() -> smallmaps.Canvas:
        shapes = engine.data.shapes(level).set_index("code").geometry
        provinces = engine.data.shapes("province").set_index("code").geometry
        return smallmaps.canvas(shapes, codes, context=provinces, width=280, max_height=340)

    return _CANVASES.get(engine, (level, codes), build)


def criterion_map(engine: Engine, crit: CriteriaSet, key: str, lang: str) -> SmallMap:
    """A small map of one criterion over the frame: classes for measures, categories for clusters/coverage.

    Cached per frame, criterion, language and the criterion's values (so a coverage edit redraws only that map)."""
    col = crit.values[key] if key in crit.values else None
    cl = crit.clusters
    ck = (crit.frame, key, lang, None if col is None else hash(col.to_numpy().tobytes()),
          None if cl is None else (cl.alpha, cl.fdr, cl.permutations, cl.seed))
    return _SMALL_MAPS.get(engine, ck, lambda: _criterion_map(engine, crit, key, lang))


def _criterion_map(engine: Engine, result: CriteriaSet, key: str, lang: str) -> SmallMap:
    crit = CRITERION_BY_KEY[key]
    codes = result.values.index
    if key in ("lisa", "gistar") and result.clusters is not None:
        return _cluster_map(engine, result, key, lang)
    if key == "coverage":
        covered = result.values["coverage"] >= 1
        colours = pd.Series([COVERED_RGB if c else NOT_COVERED_RGB for c in covered], index=codes, dtype=object)
        legend = [LegendRow(COVERED_RGB, t("pilot.covered", lang), int(covered.sum())),
                  LegendRow(NOT_COVERED_RGB, t("pilot.not_covered", lang), int((~covered).sum()))]
        return SmallMap(key, crit.label(lang), smallmaps.render(_canvas(engine, result), colours), legend)
    if key not in result.values:
        return SmallMap(key, crit.label(lang), b"", [], t("pilot.criterion_unavailable", lang))
    vals = result.values[key].to_numpy(dtype="float64")
    classes = classify(vals, "quantiles", 5)
    table = [*classes.colors, None]
    colours = pd.Series([table[i] for i in classes.index.tolist()], index=codes, dtype=object)
    dec = DECIMALS.get(key, 2)
    legend = []
    for i, (lo, hi, n, col) in enumerate(zip(classes.lower, classes.upper, classes.counts, classes.colors)):
        label = f"{fmt_number(lo, dec)} – {fmt_number(hi, dec)}" if i == 0 else f"> {fmt_number(lo, dec)} – {fmt_number(hi, dec)}"
        if fmt_number(lo, dec) == fmt_number(hi, dec):  # a class of one value (e.g. depth exactly 1)
            label = fmt_number(hi, dec)
        legend.append(LegendRow(col, label, n))
    if classes.no_data:
        legend.append(LegendRow(smallmaps.NO_DATA, t("pilot.undefined", lang), classes.no_data))
    return SmallMap(key, crit.label(lang), smallmaps.render(_canvas(engine, result), colours), legend)


def _cluster_map(engine: Engine, result: CriteriaSet, key: str, lang: str) -> SmallMap:
    cl = result.clusters
    col, classes = ("lisa_class", spatial.LISA_CLASSES) if key == "lisa" else ("gi_class", spatial.GI_CLASSES)
    cats = cl.table[col].reindex(result.values.index)
    colours = cats.map(lambda c: spatial.GEODA_COLOURS.get(c))
    counts = cats.value_counts()
    legend = [LegendRow(spatial.GEODA_COLOURS[c], t(f"cluster.{c}", lang), int(counts.get(c, 0))) for c in classes]
    cut = cl.threshold if key == "lisa" else getattr(cl, "gi_threshold", cl.threshold)
    title = t("pilot.lisa_title" if key == "lisa" else "pilot.gi_title", lang)
    note = t("pilot.cluster_note", lang, perm=fmt_number(cl.permutations), alpha=cl.alpha, cut=f"{cut:.4g}", seed=cl.seed,
             fdr=t("pilot.fdr_on" if cl.fdr else "pilot.fdr_off", lang),
             count=len(result.contiguity.islands) if result.contiguity else 0)
    return SmallMap(key, title, smallmaps.render(_canvas(engine, result), colours), legend, note)


def shortlist_map(engine: Engine, result: PilotResult, lang: str, selected: str | None = None) -> tuple[MapSpec, list[LegendRow]]:
    """The frame's areas with the shortlist in red; tooltips give rank and score."""
    level = result.frame.level
    bnd = engine.boundaries(level)
    r = result.ranked.loc[[c for c in result.ranked.index if c in bnd.index]]
    codes = r.index.to_numpy(dtype=object)
    fills = np.where(r["shortlisted"], SHORTLIST_RGBA, np.where(r["eligible"], RANKED_RGBA, GATED_RGBA)).tolist()
    rank = ["–" if v != v else f"{int(v):,}" for v in r["rank"].tolist()]
    tips = {"r": (f"{t('pilot.col.rank', lang)}: {{r}}", rank),
            "s": (f"{t('pilot.col.score', lang)}: {{s}}", fmt_number_many(r["score"].tolist(), 3))}
    spec = build_map(bnd, codes, fills=fills, tooltip_lines=tips, selected=selected,
                     context_codes=sorted(set(r["province"])), bounds=bounds_of(bnd, codes) if len(codes) else None,
                     level=level, panels=scope_panels(engine, Query(scope=result.frame.scope), lang))
    n_short = int(r["shortlisted"].sum())
    legend = [LegendRow((178, 24, 43), t("pilot.legend.shortlisted", lang), n_short),
              LegendRow((253, 219, 199), t("pilot.legend.ranked", lang), int((r["eligible"] & ~r["shortlisted"]).sum())),
              LegendRow((240, 240, 240), t("pilot.legend.gated", lang), int((~r["eligible"]).sum()))]
    return spec, legend


def shortlist_display(engine: Engine, result: PilotResult, lang: str) -> pd.DataFrame:
    """The ranked table as shown and exported: localised headers, codes as text, rounded values."""
    name = "name_th" if lang == "th" else "name_en"
    r = result.ranked
    cols = {"code": t("table.code", lang), "rank": t("pilot.col.rank", lang)}
    out = pd.DataFrame({"code": r.index.astype(str), "rank": r["rank"].astype("Int64")})
    if result.settings.per_district_k:
        out["group_rank"] = r["group_rank"].astype("Int64").to_numpy()
        cols["group_rank"] = t("pilot.col.group_rank", lang)
    out["name"] = r[name].to_numpy()
    out["district"] = engine.names.reindex(r["district"])[name].to_numpy()
    if len(result.frame.scope) != 2:  # a scope of several provinces: say which one each area is in
        out["province"] = engine.names.reindex(r["province"])[name].to_numpy()
        cols["province"] = t("pilot.col.province", lang)
    out["score"] = r["score"].round(4).to_numpy()
    cols.update(name=t("table.name", lang), district=t("pilot.col.district", lang), score=t("pilot.col.score", lang))
    for key in result.values.columns:
        out[key] = r[key].round(DECIMALS.get(key, 0)).to_numpy()
        cols[key] = CRITERION_BY_KEY[key].label(lang)
    if "lisa_class" in r:
        out["lisa_class"] = [t(f"cluster.{c}", lang) if isinstance(c, str) else "" for c in r["lisa_class"]]
        out["gi_class"] = [t(f"cluster.{c}", lang) if isinstance(c, str) else "" for c in r["gi_class"]]
        cols.update(lisa_class=t("pilot.col.lisa_class", lang), gi_class=t("pilot.col.gi_class", lang))
    if "stay_share" in r:
        out["stay_share"] = (100 * r["stay_share"]).round(1).to_numpy()
        out["depends_on"] = [CRITERION_BY_KEY[c].label(lang) if isinstance(c, str) and c else "" for c in r["depends_on"]]
        out["fragile"] = [t("pilot.fragile", lang) if f is True else "" for f in r["fragile"]]
        cols.update(stay_share=t("pilot.col.stay_share", lang), depends_on=t("pilot.col.depends_on", lang),
                    fragile=t("pilot.col.fragile", lang))
    out["gate"] = [t(f"pilot.gate.{g}", lang) if g else "" for g in r["gate"]]
    cols["gate"] = t("pilot.col.gate", lang)
    out["shortlisted"] = r["shortlisted"].to_numpy()
    cols["shortlisted"] = t("pilot.col.shortlisted", lang)
    lead = ("rank", "group_rank", "name", "score", "province", "district", "code")  # the score right after the name
    order = [c for c in lead if c in out] + [c for c in out.columns if c not in lead]
    return out[order].rename(columns=cols)


def frame_lines(engine: Engine, result: PilotResult, lang: str) -> list[tuple[str, str]]:
    f = result.frame
    dataset = next(d for d in DATASETS if d.key == f.dataset).label(lang)
    scope = next((s.label(lang) for s in SCOPE_GROUPS if s.key == f.scope), None)
    if scope is None:
        scope = engine.names.at[f.scope, "name_th" if lang == "th" else "name_en"]
    dims = ", ".join(DIMENSION_BY_KEY[d].label(lang) for d in f.dimensions)
    lines = [(t("ctl.dataset", lang), dataset), (t("ctl.scope", lang), scope),
             (t("pilot.level", lang), LEVEL_BY_KEY[f.level].label(lang)), (t("ctl.view.dimensions", lang), dims)]
    if f.dataset == "households":
        lines.append((t("ctl.tiers", lang), ", ".join(x.label(lang) for x in TIERS if x.number in f.tiers)))
    return lines


def method_lines(engine: Engine, result: PilotResult, lang: str, *, scenario: str | None = None) -> list[tuple[str, str]]:
    """How the shortlist was made, line by line, so a reader can reproduce it (also the export header)."""
    s = result.settings
    total = sum(result.weights.values())
    weights = "; ".join(f"{CRITERION_BY_KEY[k].label(lang)} × {w:g} ({100 * w / total:.0f} %)" for k, w in result.weights.items())
    norm = next(n for n in NORMALISATIONS if n.key == s.normalisation)
    lines: list[tuple[str, str]] = []
    if scenario:
        lines.append((t("pilot.scenario", lang), scenario))
    lines += frame_lines(engine, result, lang)
    lines += [
        (t("pilot.m.weights", lang), weights),
        *([(t("pilot.m.constant", lang), ", ".join(CRITERION_BY_KEY[k].label(lang) for k in result.constant))]
          if result.constant else []),
        (t("pilot.m.normalisation", lang), f"{norm.label(lang)} — {t(f'pilot.m.norm.{s.normalisation}', lang)}"),
        (t("pilot.m.score", lang), t("pilot.m.score_formula", lang)),
        (t("pilot.m.gates", lang), _gates_text(s, lang)),
        (t("pilot.m.rule", lang), t("pilot.m.rule_k", lang, count=s.per_district_k) if s.per_district_k
         else t("pilot.m.rule_n", lang, count=s.top_n)),
        (t("pilot.m.ties", lang), t("pilot.m.ties_text", lang)),
    ]
    cont = result.criteria.contiguity
    if result.criteria.clusters is not None and cont is not None:
        cl = result.criteria.clusters
        lines.append((t("pilot.m.clusters", lang), t(
            "pilot.m.clusters_text", lang, perm=cl.permutations, seed=cl.seed, alpha=cl.alpha,
            fdr=t("pilot.fdr_on" if cl.fdr else "pilot.fdr_off", lang), count=len(cont.islands),
            island_codes=", ".join(cont.islands) or "–", moran=f"{cl.moran_I:.3f}", moran_p=f"{cl.moran_p:.3g}")))
    if result.stability is not None:
        st_ = result.stability
        lines.append((t("pilot.m.robustness", lang), t("pilot.m.robustness_text", lang, spread=round(100 * st_.spread),
                                                      draws=st_.draws, seed=st_.seed, below=round(100 * st_.fragile_below))))
    for key in result.values.columns:
        lines.append((CRITERION_BY_KEY[key].label(lang), CRITERION_BY_KEY[key].how(lang)))
    d = result.criteria.data
    lines.append((t("pilot.m.reconcile", lang), reconcile_text(d, lang)))
    if result.frame.dataset == "households":
        lines.append(export_line(d.k, lang))
    sources = [c.title(lang) + " — " + c.credit_text(lang) for c in CREDITS if c.folder != "econvis"]
    if result.frame.dataset == "households" and d.synthetic:
        sources.append(t("synthetic.badge", lang))
    sources.append(t("pilot.m.am_source", lang))
    lines.append((t("pilot.m.sources", lang), " | ".join(sources)))
    lines.append((t("pilot.m.generated", lang), f"{fmt_datetime(datetime.now(timezone.utc), lang)} · povmap {__version__}"))
    return lines


def _gates_text(s, lang: str) -> str:
    parts = []
    if s.require_coverage:
        parts.append(t("pilot.gate.not_covered.rule", lang))
    if s.min_count:
        parts.append(t("pilot.gate.min_count.rule", lang, n=fmt_number(s.min_count)))
    return "; ".join(parts) or t("pilot.m.no_gates", lang)


def reconcile_text(d, lang: str) -> str:
    """"Ranked + not rankable = source total"; areas hidden for privacy count as not rankable, by their sum."""
    unranked = d.unranked.loc[d.unranked["reason"] != "hidden_small", "count"].sum()
    total = f"< {d.k}" if d.total_hidden else fmt_number(d.scope_count or 0)
    if d.hidden_count is None:  # the hidden areas' sum rests on fewer than k households: no exact line to show
        return t("pilot.m.reconcile_text", lang, ranked=fmt_number(d.areas["count"].sum()),
                 unranked=f"{fmt_number(unranked)} + < {d.k}", total=total)
    return t("pilot.m.reconcile_text", lang, ranked=fmt_number(d.areas["count"].sum()),
             unranked=fmt_number(unranked + d.hidden_count), total=total)


def unranked_summary(crit: CriteriaSet, lang: str) -> pd.DataFrame:
    """What could not be ranked, by reason: areas and poor (reconciles with the source total); the areas
    hidden for privacy show their summed count only (see :func:`reconcile_text`)."""
    d = crit.data
    u = d.unranked
    g = u.groupby("reason").agg(areas=("code", "size"), count=("count", "sum")).reset_index()
    hidden = g["reason"] == "hidden_small"
    if hidden.any():
        g["count"] = g["count"].astype(object)
        g.loc[hidden, "count"] = fmt_number(d.hidden_count) if d.hidden_count is not None else f"< {d.k}"
    g["reason"] = [t(f"reason.{r}", lang) for r in g["reason"]]
    return g.rename(columns={"reason": t("unplaced.reason", lang), "areas": t("unplaced.areas", lang),
                             "count": t("unplaced.count", lang)})

