"""The area brief: one or two A4 pages on a province, district or subdistrict, as a PDF.

Tool: an HTML page printed to PDF by headless Debian Chromium (the browser :mod:`povmap.present.mapimage` keeps open).
Chromium shapes Thai correctly (vowels and tone marks stacked and placed), with system fonts and no network;
the pure-Python PDF libraries (fpdf2, reportlab) do not shape Thai without HarfBuzz, and misplace the marks.
The map is the export map's SVG, and the charts are the profile page's plotly figures (:mod:`povmap.present.charts`)
drawn in the page by plotly.js from the installed plotly package, so both stay vector (sharp, text selectable).

Page 1: the area, its headline figures, the map of its children coloured by target poor with the legend and the
top areas within, the dimension chart. Page 2: the shortlist of a scenario (if given), households by tier, the 17
indicators, sources and licences. The footer of every page carries the area, the date (Buddhist Era in Thai)
and the page number.
"""
from __future__ import annotations

import html
from datetime import datetime

import pandas as pd
import plotly.graph_objects as go

from povmap.core.engine import Engine, Query
from povmap.core.i18n import t
from povmap.core.privacy import shown_count
from povmap.core.thai import DECIMALS, fmt_number
from povmap.core.vocab import DIMENSION_BY_KEY, INDICATOR_BY_KEY, LEVEL_BY_KEY, TIERS, child_level, level_of
from povmap.present import charts
from povmap.present.credits import ADMIN_LIST_CREDIT, CREDITS
from povmap.present.explorer import View, build_view
from povmap.present.headless import CHROMIUM
from povmap.present.mapimage import legend_html, map_svg, stamp, view_fills
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




def _e(x) -> str:
    return html.escape(str(x))


# --- parts ---------------------------------------------------------------------------------------------------------

def _map_query(p: Profile) -> tuple[Query, str | None]:
    """The map of the brief: the area's children, or a subdistrict among its district's subdistricts."""
    if p.level == "subdistrict":
        return Query(level="subdistrict", parent=p.code[:4], metric="people"), p.code
    return Query(level=child_level(p.level), parent=p.code, metric="people"), None


def _figures(p: Profile, lang: str) -> str:
    parent_label = LEVEL_BY_KEY[level_of(p.code[:-2])].label(lang) if p.level != "province" else ""
    tiles = []
    for f in p.figures:
        def fmt(v, f=f):
            return fmt_number(v, FIGURE_DECIMALS[f.key]) if v is not None else t("legend.no_data", lang)
        context = (t("profile.vs", lang, parent_label=parent_label, parent=fmt(f.parent), country=fmt(f.country))
                   if p.level != "province" else t("profile.vs_country", lang, country=fmt(f.country)))
        if f.rank is not None:
            context += " · " + t("profile.rank", lang, rank=f.rank, n=f.siblings)
        tiles.append(f'<div class="tile"><div class="k">{_e(t(f"fig.{f.key}", lang))}</div>'
                     f'<div class="v">{_e(fmt(f.value))}</div><div class="c">{_e(context)}</div></div>')
    return f'<div class="figs">{"".join(tiles)}</div>'


def _table(head: list[str], rows: list[list[str]], num_cols: set[int], cls: str = "") -> str:
    th = "".join(f'<th class="{"n" if i in num_cols else ""}">{_e(h)}</th>' for i, h in enumerate(head))
    body = "".join("<tr>" + "".join(f'<td class="{"n" if i in num_cols else ""}">{c}</td>' for i, c in enumerate(r))
                   + "</tr>" for r in rows)
    return f'<table class="{cls}"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


def _top_areas(p: Profile, lang: str) -> str:
    """The areas within, by target poor (villages for a subdistrict)."""
    if p.level == "subdistrict":
        v = p.villages if p.villages is not None else pd.DataFrame(columns=["name_th", "people", "households", "rank"])
        rows = [[str(r.rank), _e(r.name_th), fmt_number(r.people), fmt_number(r.households)]
                for r in v.head(TOP_AREAS).itertuples()]
        head = [t("table.rank", lang), t("table.name", lang), t("fig.people", lang), t("unit.households", lang)]
        title = t("profile.villages", lang)
        note = f'<div class="note">{_e(t("profile.village_names", lang))}</div>' if len(v) else ""
        more = len(v) - TOP_AREAS
    else:
        kids = p.children
        name = "name_th" if lang == "th" else "name_en"
        rows = [[str(i + 1), _e(r[name]), fmt_number(r["people"]), fmt_number(r["rate"], 2)]
                for i, (_, r) in enumerate(kids.head(TOP_AREAS).iterrows())]
        head = [t("table.rank", lang), t("table.name", lang), t("fig.people", lang), t("fig.rate", lang)]
        title = f'{t("profile.children", lang)} · {LEVEL_BY_KEY[child_level(p.level)].label(lang)}'
        note = ""
        more = len(kids) - TOP_AREAS
    if not rows:
        return ""
    tail = f'<div class="note">{_e(t("brief.more_rows", lang, n=fmt_number(more)))}</div>' if more > 0 else ""
    return f'<h3>{_e(title)}</h3>{_table(head, rows, {0, 2, 3})}{tail}{note}'


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
               lang: str) -> tuple[str, list[str]]:
    """The shortlist section, and the shortlisted codes inside the area that are on the map (to outline)."""
    if shortlist is None:
        return "", []
    df = _shortlist_codes(shortlist)
    here = df[df["code"].str.startswith(p.code)]
    outlined = [c for c in here["code"] if c in mapped]
    name_col = "name_th" if lang == "th" else "name_en"
    names = engine.names[name_col].reindex(here["code"]).fillna("").tolist()
    rows = []
    for (_, r), name in zip(here.head(SHORTLIST_ROWS).iterrows(), names):
        rank = r.get("rank")
        score = r.get("score")
        rows.append([fmt_number(rank) if pd.notna(rank) else "", _e(name), _e(r["code"]),
                     f"{score:.3f}" if pd.notna(score) else ""])
    label = scenario or t("pilot.unsaved", lang)
    summary = t("brief.shortlist_here", lang, count=len(here), total=fmt_number(len(df)))
    if outlined:
        summary += f" ({t('brief.outlined', lang)})"
    out = f'<h2>{_e(t("brief.shortlist", lang, name=label))}</h2><div class="note">{_e(summary)}</div>'
    if rows:
        out += _table([t("pilot.col.rank", lang), t("table.name", lang), t("table.code", lang), t("pilot.col.score", lang)],
                      rows, {0, 3})
    if len(here) > SHORTLIST_ROWS:
        out += f'<div class="note">{_e(t("brief.more_rows", lang, n=fmt_number(len(here) - SHORTLIST_ROWS)))}</div>'
    return out, outlined


def _households(p: Profile, lang: str) -> tuple[str, go.Figure | None]:
    hh = p.households
    head = f'<h2>{_e(t("profile.households", lang))}</h2>'
    if hh is None:
        return head + f'<p class="note">{_e(t("profile.no_households", lang))}</p>', None
    if hh["hidden"]:
        return head + f'<p class="note">{_e(t("profile.hh_hidden", lang, k=hh["k"]))}</p>', None
    if hh["households"] == 0:
        return head + f'<p class="note">{_e(t("profile.no_households_here", lang))}</p>', None
    name = p.name_th if lang == "th" else p.name_en
    shares = hh["tiers"].sort_values("tier")["share"].tolist()
    fig = charts.tier_bars([(name, shares)], lang)
    badge = f'<div class="badge">{_e(t("synthetic.badge", lang))}</div>' if hh["synthetic"] else ""
    summary = (t("profile.hh_summary", lang, households=fmt_number(hh["households"]), members=fmt_number(hh["members"]))
               + " · " + t("profile.referred", lang, n=shown_count(hh["referred"], hh["k"])))
    rows = [[_e(f"{n} {TIERS[n - 1].label(lang)}"), shown_count(c, hh["k"]), shown_count(s, hh["k"], 1)]
            for n, c, s in hh["tiers"][["tier", "households", "share"]].itertuples(index=False)]
    table = _table([t("ctl.tiers", lang), t("unit.households", lang), "%"], rows, {1, 2}, "narrow")
    return (head + badge + f'<p>{_e(summary)}</p><div class="row"><div id="fig-tiers" class="chart"></div>'
            f'<div class="side">{table}</div></div>'), fig


def _indicators(p: Profile, lang: str) -> str:
    if p.tpmap_note:
        return ""
    rows = [[_e(t("profile.worst", lang)) if r.worst else "",
             _e(f"{INDICATOR_BY_KEY[r.key].tpmap_label} {INDICATOR_BY_KEY[r.key].label(lang)}"),
             _e(DIMENSION_BY_KEY[r.dimension].label(lang)), fmt_number(r.people), fmt_number(r.share, 1)]
            for r in p.indicators.itertuples()]
    head = ["", t("ctl.indicator", lang), t("ctl.view.dimensions", lang), t("fig.people", lang), t("chart.share_of_poor", lang)]
    return f'<h2>{_e(t("profile.indicators", lang))}</h2>' + _table(head, rows, {3, 4}, "compact")


def _sources(lang: str, households: bool) -> str:
    items = [f"<li><b>{_e(c.title(lang))}</b> — {_e(c.credit)}. <i>{_e(c.licence_text(lang))}</i></li>" for c in CREDITS]
    items.append(f"<li>{_e(ADMIN_LIST_CREDIT)}</li>")
    if households:
        items.append(f"<li>{_e(t('synthetic.badge', lang))}</li>")
    return f'<h2>{_e(t("credits.title", lang))}</h2><ul class="sources">{"".join(items)}</ul>'


_CSS = """
@page {{ size: A4; margin: 12mm 12mm 15mm 12mm; }}
html, body {{ margin: 0; padding: 0; }}
body {{ font-family: {font}; font-size: 9.5pt; color: #222; line-height: 1.35; }}
.p2 {{ break-before: page; }}
.kicker {{ color: #666; font-size: 9pt; text-transform: uppercase; letter-spacing: .03em; }}
h1 {{ font-size: 22pt; margin: 1mm 0 0; line-height: 1.2; }}
h2 {{ font-size: 12pt; margin: 4mm 0 1.5mm; }}
h3 {{ font-size: 10pt; margin: 3mm 0 1mm; }}
.sub {{ color: #555; font-size: 10pt; }}
.figs {{ display: grid; grid-template-columns: repeat(4, 1fr); gap: 3mm; margin: 4mm 0 2mm; }}
.tile {{ border-top: 2px solid #b2182b; padding-top: 1.5mm; }}
.tile .k {{ font-size: 8.5pt; color: #555; }}
.tile .v {{ font-size: 16pt; font-weight: 700; line-height: 1.25; }}
.tile .c {{ font-size: 7.5pt; color: #666; }}
.row {{ display: flex; gap: 5mm; align-items: flex-start; }}
.map {{ flex: none; width: {map_w}px; height: {map_h}px; }}
.map svg {{ width: 100%; height: 100%; display: block; }}
.side {{ flex: 1; min-width: 0; }}
.legend {{ font-size: 8.5pt; }}
.lg-title {{ font-weight: 700; margin-bottom: 1mm; }}
.lg-row {{ display: flex; align-items: center; gap: 2mm; margin: .6mm 0; }}
.sw {{ flex: none; width: 8mm; height: 3.6mm; border: 1px solid #777; }}
.lg-label {{ flex: 1; }}
.lg-n {{ color: #666; white-space: nowrap; }}
.note {{ color: #666; font-size: 7.5pt; margin-top: 1mm; }}
table {{ border-collapse: collapse; width: 100%; font-size: 8.5pt; }}
table.compact {{ font-size: 8pt; }}
table.narrow {{ width: auto; }}
section {{ width: {text_px}px; }}
th {{ text-align: left; font-weight: 700; border-bottom: 1px solid #999; padding: .6mm 1.5mm; vertical-align: bottom; }}
th.n {{ text-align: right; white-space: normal; }}
td {{ border-bottom: 1px solid #e4e4e4; padding: .5mm 1.5mm; vertical-align: top; }}
.n {{ text-align: right; white-space: nowrap; }}
.chart {{ flex: none; }}
.badge {{ display: inline-block; padding: .3mm 2mm; background: #b2182b; color: #fff; font-weight: 700; font-size: 8pt; }}
.alert {{ background: #fff4e5; border-left: 3px solid #e69f00; padding: 1.5mm 3mm; margin: 2mm 0; }}
ul.sources {{ padding-left: 5mm; margin: 0; font-size: 7.5pt; color: #444; }}
ul.sources li {{ margin-bottom: .8mm; }}
.stamp {{ margin-top: 3mm; font-size: 8pt; color: #444; }}
"""


def _footer(p: Profile, lang: str, when: datetime | None) -> str:
    """Chromium's footer template: it is rendered apart from the page, so it carries its own font and size."""
    name = p.name_th if lang == "th" else p.name_en
    return (f'<div style="font-family:{_e(charts.FONT)};font-size:7.5pt;color:#666;width:100%;margin:0 12mm;'
            f'display:flex;justify-content:space-between">'
            f'<span>{_e(t("brief.title", lang))} · {_e(name)} ({_e(p.code)})</span><span>{_e(stamp(when, lang))}</span>'
            f'<span>{_e(t("brief.page", lang))} <span class="pageNumber"></span>/<span class="totalPages"></span></span></div>')


def brief_html(engine: Engine, p: Profile, view: View, *, lang: str, highlight: str | None,
               shortlist: pd.DataFrame | None, scenario: str | None,
               when: datetime | None = None) -> tuple[str, list[tuple[str, str]]]:
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
    dims = ""
    if not p.tpmap_note:
        fig = charts.dimension_bars([p], lang).update_layout(width=TEXT_PX, height=DIMS_PX)
        figures.append(("fig-dims", fig.to_json()))
        dims = f'<div id="fig-dims" class="chart"></div><div class="note">{_e(t("profile.dims_note", lang))}</div>'
    hh_html, tier_fig = _households(p, lang)
    if tier_fig is not None:
        figures.append(("fig-tiers", tier_fig.update_layout(width=int(TEXT_PX * 0.58), legend=dict(font=dict(size=10)))
                        .to_json()))
    alert = f'<div class="alert">{_e(t(f"reason.{p.tpmap_note}", lang))}</div>' if p.tpmap_note else ""
    css = _CSS.format(font=charts.FONT, map_w=MAP_PX[0], map_h=MAP_PX[1], text_px=TEXT_PX)
    page1 = (f'<section class="p1" data-fit-px="{PAGE_PX}"><div class="kicker">{_e(t("brief.title", lang))} · {_e(level)} · '
             f'{_e(t("profile.code", lang))} {_e(p.code)}</div><h1>{_e(name)}</h1>'
             f'<div class="sub">{_e(other)}{" · " + _e(parents) if parents else ""}</div>'
             f'{_figures(p, lang)}{alert}'
             f'<h3>{_e(map_title)}</h3><div class="row"><div class="map">{drawn.svg}</div>'
             f'<div class="side">{legend_html(view, lang)}{_top_areas(p, lang)}</div></div>{dims}</section>')
    page2 = (f'<section class="p2" data-fit-px="{PAGE_PX}">{short_html}{hh_html}{_indicators(p, lang)}'
             f'{_sources(lang, bool(p.households and p.households.get("synthetic")))}'
             f'<div class="stamp">{_e(stamp(when, lang))}</div></section>')
    return f'<style>{css}</style><div lang="{lang}">{page1}{page2}</div>', figures


def area_brief_pdf(engine: Engine, code: str, *, lang: str, shortlist: pd.DataFrame | None = None,
                   scenario: str | None = None, when: datetime | None = None) -> bytes:
    """The A4 brief (two pages) of a province, district or subdistrict, as PDF bytes.

    ``shortlist``: a pilot shortlist (``PilotResult.ranked`` or ``.shortlist``: codes in the index or a ``code``
    column; ``rank``, ``score`` and ``shortlisted`` used when present). Its areas inside this area are listed
    and outlined on the map; ``scenario`` names it (default: "unsaved shortlist"). ``when``: the date printed.
    Raises :class:`QueryError` for a code that is no current area, :class:`povmap.present.headless.ExportError` if rendering fails.
    """
    p = build_profile(engine, code)
    query, highlight = _map_query(p)
    view = build_view(engine, query, lang=lang)
    page, figures = brief_html(engine, p, view, lang=lang, highlight=highlight, shortlist=shortlist,
                               scenario=scenario, when=when)
    return CHROMIUM.pdf(page, figures, footer=_footer(p, lang, when))
