"""The area brief: one or two A4 pages on a province, district or subdistrict, as a PDF.

Tool: an HTML page printed to PDF by headless Debian Chromium (the browser :mod:`povmap.present.mapimage` keeps open).
Chromium shapes Thai correctly (vowels and tone marks stacked and placed), with system fonts and no network;
the pure-Python PDF libraries (fpdf2, reportlab) do not shape Thai without HarfBuzz, and misplace the marks.
The map is the export map's SVG, and the charts are the profile page's plotly figures (:mod:`povmap.present.charts`)
drawn in the page by plotly.js from the installed plotly package, so both stay vector (sharp, text selectable).

Page 1: the area, its headline figures, the map of its children coloured by target poor with the legend and the
top areas within, the dimension chart. Page 2: the shortlist of a scenario (if given), households by tier, the
change since another round (if given), the 17 indicators, sources and licences. The footer of every page carries the area, the date (Buddhist Era in Thai)
and the page number.
"""
from __future__ import annotations

from datetime import datetime

import pandas as pd
import plotly.graph_objects as go
from markupsafe import Markup

from povmap.core.engine import Engine, Query
from povmap.core.i18n import t
from povmap.core.thai import DECIMALS, fmt_number
from povmap.core.vocab import (
    DIMENSION_BY_KEY,
    INDICATOR_BY_KEY,
    LEVEL_BY_KEY,
    SCOPE_GROUPS,
    child_level,
    level_of,
    metric_label,
)
from povmap.present import charts
from povmap.present.credits import CREDITS
from povmap.present.explorer import View, build_view
from povmap.present.headless import CHROMIUM
from povmap.present.householdtext import household_text
from povmap.present.html import ENV, render, view_legend
from povmap.present.mapimage import map_svg, stamp, view_fills
from povmap.present.profile import Profile, build_profile

FIGURE_DECIMALS = {**DECIMALS, "population": 0}
TOP_AREAS = 10
SHORTLIST_ROWS = 12
# A4 portrait with 12 mm side margins: 186 mm of text width = 703 CSS px (96 px per inch).
TEXT_PX = 703
PAGE_PX = 1000  # the printable height (297 − 27 mm = 1,020 px) less a safety margin; taller pages are zoomed out
MAP_PX = (400, 400)
DIMS_PX = 250

# New UI strings; the catalogue (povmap/i18n.py) will take them over, then _t becomes t.




def _part(name: str, **data) -> Markup:
    """One section of the brief, rendered by its macro in ``templates/brief_parts.html.j2``."""
    return Markup(getattr(ENV.get_template("brief_parts.html.j2").module, name)(**data))


# --- parts ---------------------------------------------------------------------------------------------------------

def _map_query(p: Profile) -> tuple[Query, str | None]:
    """The map of the brief: the area's children, or a subdistrict among its district's subdistricts."""
    if p.level == "subdistrict":
        return Query(level="subdistrict", parent=p.code[:4], metric="people"), p.code
    return Query(level=child_level(p.level), parent=p.code, metric="people"), None


def _figures(p: Profile, lang: str) -> Markup:
    parent_label = LEVEL_BY_KEY[level_of(p.code[:-2])].label(lang) if p.level != "province" else ""
    tiles = []
    for f in p.figures:
        def fmt(v, f=f):
            return fmt_number(v, FIGURE_DECIMALS[f.key]) if v is not None else t("legend.no_data", lang)
        context = (t("profile.vs", lang, parent_label=parent_label, parent=fmt(f.parent), country=fmt(f.country))
                   if p.level != "province" else t("profile.vs_country", lang, country=fmt(f.country)))
        if f.rank is not None:
            context += " · " + t("profile.rank", lang, rank=f.rank, n=f.siblings)
        tiles.append({"k": t(f"fig.{f.key}", lang), "v": fmt(f.value), "c": context})
    return _part("figures", tiles=tiles)


def _top_areas(p: Profile, lang: str) -> Markup:
    """The areas within, by target poor (villages for a subdistrict)."""
    if p.level == "subdistrict":
        v = p.villages if p.villages is not None else pd.DataFrame(columns=["name_th", "people", "households", "rank"])
        rows = [[str(r.rank), r.name_th, fmt_number(r.people), fmt_number(r.households)]
                for r in v.head(TOP_AREAS).itertuples()]
        head = [t("table.rank", lang), t("table.name", lang), t("fig.people", lang), t("unit.households", lang)]
        title = t("profile.villages", lang)
        note = t("profile.village_names", lang) if len(v) else None
        more = len(v) - TOP_AREAS
    else:
        kids = p.children
        name = "name_th" if lang == "th" else "name_en"
        rows = [[str(i + 1), r[name], fmt_number(r["people"]), fmt_number(r["rate"], 2)]
                for i, (_, r) in enumerate(kids.head(TOP_AREAS).iterrows())]
        head = [t("table.rank", lang), t("table.name", lang), t("fig.people", lang), t("fig.rate", lang)]
        title = f'{t("profile.children", lang)} · {LEVEL_BY_KEY[child_level(p.level)].label(lang)}'
        note = None
        more = len(kids) - TOP_AREAS
    if not rows:
        return Markup()
    return _part("top_areas", title=title, head=head, rows=rows, note=note,
                 more=t("brief.more_rows", lang, n=fmt_number(more)) if more > 0 else None)


def _shortlist_codes(shortlist: pd.DataFrame) -> pd.DataFrame:
    """code, rank, score of the shortlisted rows (a pilot ``ranked``/``shortlist`` frame: index or ``code`` column)."""
    df = shortlist.reset_index() if "code" not in shortlist.columns else shortlist.copy()
    if "code" not in df.columns:
        df = df.rename(columns={df.columns[0]: "code"})
    if "shortlisted" in df.columns:
        df = df[df["shortlisted"].fillna(False).astype(bool)]
    df["code"] = df["code"].astype(str)
    if "rank" in df.columns:
        df = df.sort_values("rank", kind="stable")
    return df


def _shortlist(engine: Engine, p: Profile, shortlist: pd.DataFrame | None, scenario: str | None, mapped: set[str],
               lang: str) -> tuple[Markup, list[str]]:
    """The shortlist section, and the shortlisted codes inside the area that are on the map (to outline)."""
    if shortlist is None:
        return Markup(), []
    df = _shortlist_codes(shortlist)
    here = df[df["code"].str.startswith(p.code)]
    outlined = [c for c in here["code"] if c in mapped]
    name_col = "name_th" if lang == "th" else "name_en"
    names = engine.names[name_col].reindex(here["code"]).fillna("").tolist()
    rows = []
    for (_, r), name in zip(here.head(SHORTLIST_ROWS).iterrows(), names):
        rank = r.get("rank")
        score = r.get("score")
        rows.append([fmt_number(rank) if pd.notna(rank) else "", name, r["code"],
                     f"{score:.3f}" if pd.notna(score) else ""])
    label = scenario or t("pilot.unsaved", lang)
    summary = t("brief.shortlist_here", lang, count=len(here), total=fmt_number(len(df)))
    if outlined:
        summary += f" ({t('brief.outlined', lang)})"
    more = len(here) - SHORTLIST_ROWS
    out = _part("shortlist", heading=t("brief.shortlist", lang, name=label), summary=summary, rows=rows,
                head=[t("pilot.col.rank", lang), t("table.name", lang), t("table.code", lang), t("pilot.col.score", lang)],
                more=t("brief.more_rows", lang, n=fmt_number(more)) if more > 0 else None)
    return out, outlined


def _households(p: Profile, lang: str) -> tuple[Markup, go.Figure | None]:
    heading = t("profile.households", lang)
    text = household_text(p.households, lang, withheld=p.households_withheld)
    if text.message is not None:
        return _part("households", heading=heading, message=text.message), None
    name = p.name_th if lang == "th" else p.name_en
    fig = charts.tier_bars([(name, p.households["tiers"].sort_values("tier")["share"].tolist())], lang,
                           k=p.households["k"])
    return _part("households", heading=heading, badge=text.badge, summary=text.summary, rows=[list(r) for r in text.rows],
                 head=list(text.head), note=text.note), fig


def _change(engine: Engine, other: Engine | None, p: Profile, lang: str, households: bool) -> Markup:
    """The area in two rounds (``other``: the engine of the other round, of either kind): its figures in both,
    and for household rounds where its households went. Nothing without another round."""
    from povmap.core import change as ch
    from povmap.present import changeview as cv

    if other is None:
        return Markup()
    dataset = "households" if other.data.households_info.id != engine.data.households_info.id else "tpmap"
    if dataset == "households" and not households:
        return Markup()
    q0 = Query(dataset=dataset)
    a, b = cv.rounds_of(engine, other, dataset)
    la, lb = cv.round_labels(ch.info_of(a, q0), ch.info_of(b, q0), lang)
    rows = []
    for r in cv.area_rounds(a, b, p.code, dataset):
        dec = FIGURE_DECIMALS[r["metric"]]
        cells = [f"< {b.privacy_k}"] * 3 if r["hidden"] else [
            "–" if pd.isna(v) else fmt_number(v, dec) for v in (r["value_a"], r["value_b"])] + [
            "–" if pd.isna(r["change"]) else f"{r['change']:+,.{dec}f}"]
        rows.append([metric_label(dataset, r["metric"], lang), *cells])
    moves = None
    if dataset == "households":
        tr = ch.transitions(a, b)  # the province's (Transitions.published): a district's would single out
        province = engine.names.at[p.code[:2], "name_th" if lang == "th" else "name_en"]
        table = cv.transition_table(tr, p.code[:2], lang)
        note = t("change.transitions_note", lang, k=tr.k, d=tr.bound)
        if p.level != "province":
            note = t("change.transitions_province", lang, place=province) + " " + note
        moves = {"title": t("change.transitions", lang, place=province), "head": list(table.columns),
                 "rows": table.to_numpy().tolist(), "note": note}
    _, note = cv.definition_note(ch.info_of(a, q0), ch.info_of(b, q0), la, lb, lang)
    return _part("change", heading=f"{t('profile.change', lang)} · {la} → {lb}", note=note,
                 head=["", la, lb, t("change.tip", lang)], rows=rows, moves=moves)


def _indicators(p: Profile, lang: str) -> Markup:
    if p.tpmap_note:
        return Markup()
    rows = [[t("profile.worst", lang) if r.worst else "",
             f"{INDICATOR_BY_KEY[r.key].tpmap_label} {INDICATOR_BY_KEY[r.key].label(lang)}",
             DIMENSION_BY_KEY[r.dimension].label(lang), fmt_number(r.people), fmt_number(r.share, 1)]
            for r in p.indicators.itertuples()]
    head = ["", t("ctl.indicator", lang), t("ctl.view.dimensions", lang), t("fig.people", lang), t("chart.share_of_poor", lang)]
    return _part("indicators", heading=t("profile.indicators", lang), head=head, rows=rows)


def _sources(lang: str, households: bool) -> Markup:
    credits = [{"title": c.title(lang), "credit": c.credit_text(lang), "licence": c.licence_text(lang)} for c in CREDITS]
    lines = [t("credits.admin_list", lang)] + ([t("synthetic.badge", lang)] if households else [])
    return _part("sources", heading=t("credits.title", lang), credits=credits, lines=lines)


def _footer(p: Profile, lang: str, when: datetime | None) -> Markup:
    """Chromium's footer template: it is rendered apart from the page, so it carries its own font and size."""
    return render("brief_footer.html.j2", font=charts.FONT, title=t("brief.title", lang),
                  name=p.name_th if lang == "th" else p.name_en, code=p.code, stamp=stamp(when, lang),
                  page=t("brief.page", lang))


def brief_html(engine: Engine, p: Profile, view: View, *, lang: str, highlight: str | None,
               shortlist: pd.DataFrame | None, scenario: str | None,
               when: datetime | None = None, change: Markup = Markup()) -> tuple[Markup, list[tuple[str, str]]]:
    """The brief's page (HTML) and the charts to draw into it: [(element id, plotly figure JSON)]."""
    name, other = (p.name_th, p.name_en) if lang == "th" else (p.name_en, p.name_th)
    parents = " › ".join(pth if lang == "th" else pen for _, pth, pen in p.parents)
    level = LEVEL_BY_KEY[p.level].label(lang)
    res = view.result
    short_html, outlined = _shortlist(engine, p, shortlist, scenario, set(res.table["code"]), lang)
    q = res.query
    drawn = map_svg(engine, q.level, res.table["code"].tolist(), view_fills(view), lang=lang, box_px=MAP_PX,
                    outline=outlined, highlight=highlight)
    child = LEVEL_BY_KEY[q.level].label(lang)
    map_title = (t("brief.map_sibling", lang, name=name) if highlight
                 else t("brief.map", lang, level=child.lower() if lang == "en" else child))  # "by district"
    figures: list[tuple[str, str]] = []
    dims_note = None
    if not p.tpmap_note:
        fig = charts.dimension_bars([p], lang).update_layout(width=TEXT_PX, height=DIMS_PX)
        figures.append(("fig-dims", fig.to_json()))
        dims_note = t("profile.dims_note", lang)
    hh_html, tier_fig = _households(p, lang)
    if tier_fig is not None:
        figures.append(("fig-tiers", tier_fig.update_layout(width=int(TEXT_PX * 0.58), legend=dict(font=dict(size=10)))
                        .to_json()))
    page = render("brief.html.j2", font=charts.FONT, map_w=MAP_PX[0], map_h=MAP_PX[1], text_px=TEXT_PX,
                  fit_px=PAGE_PX, lang=lang, kicker=t("brief.title", lang), level=level,
                  code_label=t("profile.code", lang), code=p.code, name=name, other=other, parents=parents,
                  figures=_figures(p, lang), alert=t(f"reason.{p.tpmap_note}", lang) if p.tpmap_note else None,
                  map_title=map_title, svg=drawn.svg, legend=view_legend(view, lang, style="export"),
                  top_areas=_top_areas(p, lang), dims_note=dims_note, shortlist=short_html, households=hh_html,
                  change=change, indicators=_indicators(p, lang),
                  sources=_sources(lang, bool(p.households and p.households.get("synthetic"))),
                  stamp=stamp(when, lang))
    return page, figures


def area_brief_pdf(engine: Engine, code: str, *, lang: str, shortlist: pd.DataFrame | None = None,
                   scenario: str | None = None, when: datetime | None = None, households: bool = True,
                   other: Engine | None = None) -> bytes:
    """The A4 brief (two pages) of a province, district or subdistrict, as PDF bytes.

    ``shortlist``: a pilot shortlist (``PilotResult.ranked`` or ``.shortlist``: codes in the index or a ``code``
    column; ``rank``, ``score`` and ``shortlisted`` used when present). Its areas inside this area are listed
    and outlined on the map; ``scenario`` names it (default: "unsaved shortlist"). ``when``: the date printed.
    ``households=False``: without household figures (a user who may not see them).
    ``other``: the engine of another round: the brief adds the area's change between the two (:func:`_change`).
    Raises :class:`QueryError` for a code that is no current area, :class:`povmap.present.headless.ExportError` if rendering fails.
    """
    p = build_profile(engine, code, households=households)
    query, highlight = _map_query(p)
    view = build_view(engine, query, lang=lang)
    page, figures = brief_html(engine, p, view, lang=lang, highlight=highlight, shortlist=shortlist,
                               scenario=scenario, when=when, change=_change(engine, other, p, lang, households))
    return CHROMIUM.pdf(page, figures, footer=_footer(p, lang, when))


SCOPE_SHORTLIST_ROWS = 40


def scope_brief_pdf(engine: Engine, result, *, lang: str, scenario: str | None = None,
                    when: datetime | None = None) -> bytes:
    """One A4 brief of a pilot shortlist over a scope of several provinces (the 20 PPAOS, the 7 SRA, all): the
    frame's areas on one map with the shortlist in red, each province's share of it, and the shortlist itself
    with each area's district and province. ``result``: a :class:`povmap.pilot.PilotResult`."""
    from povmap.present.pilotview import frame_lines, shortlist_map

    frame = result.frame
    scope = next((s.label(lang) for s in SCOPE_GROUPS if s.key == frame.scope), None) or t("crumb.thailand", lang)
    name_col = "name_th" if lang == "th" else "name_en"
    r = result.ranked
    bnd = engine.boundaries(frame.level)
    codes = [c for c in r.index if c in bnd.index]
    spec, legend_rows = shortlist_map(engine, result, lang)
    fills = [f"rgba({c[0]},{c[1]},{c[2]},{c[3] / 255:.3f})" for c in
             (spec.args["palette"][i] for i in spec.args["fill"])]
    shortlisted = [c for c in codes if bool(r.at[c, "shortlisted"])]
    drawn = _scope_svg(engine, frame, codes, fills, shortlisted, lang)
    short = result.shortlist
    per_province = short.groupby("province").size().sort_values(ascending=False)
    prov_rows = [[engine.names.at[p, name_col], fmt_number(int(n))] for p, n in per_province.items()]
    top = _part("top_areas", title=t("brief.scope_provinces", lang),
                head=[t("pilot.col.province", lang), t("brief.scope_n_short", lang)], rows=prov_rows, note=None,
                more=None)
    df = _shortlist_codes(short)
    rows = [[fmt_number(row["rank"]) if pd.notna(row.get("rank")) else "", engine.names.at[row["code"], name_col],
             engine.names.at[row["code"][:4], name_col], engine.names.at[row["code"][:2], name_col],
             f"{row['score']:.3f}" if pd.notna(row.get("score")) else ""]
            for _, row in df.head(SCOPE_SHORTLIST_ROWS).iterrows()]
    more = len(df) - SCOPE_SHORTLIST_ROWS
    listed = _part("shortlist", heading=t("brief.shortlist", lang, name=scenario or t("pilot.unsaved", lang)),
                   summary=" · ".join(f"{k}: {v}" for k, v in frame_lines(engine, result, lang)),
                   head=[t("pilot.col.rank", lang), t("table.name", lang), t("pilot.col.district", lang),
                         t("pilot.col.province", lang), t("pilot.col.score", lang)], rows=rows,
                   more=t("brief.more_rows", lang, n=fmt_number(more)) if more > 0 else None, num=[0, 4])
    data = result.criteria.data
    unit = t(f"unit.{data.count_label}", lang)
    tiles = [{"k": t("brief.scope_total", lang, unit=unit),
              "v": f"< {data.k}" if data.total_hidden else fmt_number(data.scope_count or 0), "c": scope},
             {"k": t("brief.scope_ranked", lang), "v": fmt_number(len(data.areas)),
              "c": LEVEL_BY_KEY[frame.level].label(lang)},
             {"k": t("brief.scope_shortlisted", lang), "v": fmt_number(len(short)),
              "c": t("brief.scope_in_provinces", lang, count=len(per_province))}]
    from povmap.present.html import legend_html

    page = render("brief.html.j2", font=charts.FONT, map_w=MAP_PX[0], map_h=MAP_PX[1], text_px=TEXT_PX,
                  fit_px=PAGE_PX, lang=lang, kicker=t("brief.scope_title", lang),
                  level=LEVEL_BY_KEY[frame.level].label(lang), code_label="", code="", name=scope, other="",
                  parents="", figures=_part("figures", tiles=tiles), alert=None,
                  map_title=t("brief.scope_map", lang), svg=drawn,
                  legend=legend_html(legend_rows, lang=lang, style="export"), top_areas=top, dims_note=None,
                  shortlist=listed, households=Markup(), change=Markup(), indicators=Markup(),
                  sources=_sources(lang, bool(frame.dataset == "households" and data.synthetic)),
                  stamp=stamp(when, lang))
    footer = render("brief_footer.html.j2", font=charts.FONT, title=t("brief.scope_title", lang), name=scope,
                    code="", stamp=stamp(when, lang), page=t("brief.page", lang))
    return CHROMIUM.pdf(page, [], footer=footer)


def _scope_svg(engine: Engine, frame, codes, fills, shortlisted, lang: str) -> Markup:
    """The frame's map: one SVG, or for scattered provinces one per cluster (as the explorer's panels), each
    titled with its provinces, so every province is large enough to read."""
    from povmap.present.explorer import scope_panels

    panels = scope_panels(engine, Query(scope=frame.scope), lang)
    if not panels:
        return map_svg(engine, frame.level, codes, fills, lang=lang, box_px=MAP_PX, outline=shortlisted).svg
    boxes, titles = panels
    cols = 2 if len(boxes) > 1 else 1
    w = int(MAP_PX[0] / cols) - 8
    h = int(MAP_PX[1] / ((len(boxes) + cols - 1) // cols)) - 24
    parts = []
    for box, title in zip(boxes, titles):
        inside = [(c, f) for c, f in zip(codes, fills) if c[:2] in _provinces_in(engine, box)]
        svg = map_svg(engine, frame.level, [c for c, _ in inside], [f for _, f in inside], lang=lang, box_px=(w, h),
                      bounds=box, outline=[c for c in shortlisted if c[:2] in _provinces_in(engine, box)]).svg
        parts.append(render("brief_panel.html.j2", title=title, w=w, h=h, svg=svg))
    return Markup('<div class="panels">' + "".join(parts) + "</div>")


def _provinces_in(engine: Engine, box) -> set[str]:
    b = engine.boundaries("province")
    inside = (b["minx"] >= box[0]) & (b["maxx"] <= box[2]) & (b["miny"] >= box[1]) & (b["maxy"] <= box[3])
    return set(b.index[inside])
