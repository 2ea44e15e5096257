"""Poverty map explorer: filters in the sidebar, map + legend + ranking, what is not on the map."""
from __future__ import annotations

import html

import streamlit as st

from app_pages._downloads import brief_download, map_downloads, table_downloads
from app_pages._map import area_map, new_click
from app_pages._change_view import present_change_view, present_movers, present_top, show_change
from app_pages._ui import (
    NO_VALUE,
    dataset_choices,
    other_rounds,
    round_engine,
    compare_button,
    credits_footer,
    page_start,
    presentation_style,
    share_link,
    synthetic_badge,
    title_bar,
    button_row,
    ranking_page,
)
from povmap.core.engine import Query, QueryError
from povmap.core.errors import PovmapError
from povmap.core.i18n import t
from povmap.core.privacy import privacy_note
from povmap.core.thai import DECIMALS, fmt_number
from povmap.core.vocab import (
    CLASS_SCHEMES,
    DATASETS,
    DIMENSION_CHOICE,
    DIMENSIONS,
    INDICATORS,
    LEVEL_BY_KEY,
    METRIC_BY_KEY,
    SCOPE_GROUPS,
    TIERS,
    child_level,
    level_of,
    levels_below,
    metric_label,
)
from povmap.present.changeview import round_label
from povmap.present.credits import CREDITS
from povmap.present.explorer import PAGE_VIEW, area_name, breadcrumb, headline, province_order, shared_view
from povmap.present.html import headline_html, legend_html, render, view_legend
from povmap.present.text import md_text
from povmap.present.urlstate import DEFAULT, ExplorerState, decode, encode
from povmap.web.maplayer import MAP_HEIGHT_PX, fit_to_screen

K = "explorer."  # prefix of this page's session-state keys
PENDING = K + "pending"  # state to apply before the widgets of the next run are created
PRESENT_MAP_PX = (1400, 780)
PRESENT_LABELS = 30  # area names the map may write on itself (as many as fit, highest first; the page: PAGE_VIEW)
RANKING_PX = MAP_HEIGHT_PX - 240  # beside the map, under the legend

eng, lg, ps = page_start(K)
ss = st.session_state
force, wkey, keep = ps.force, ps.wkey, ps.keep


def url_widget_values(v: ExplorerState) -> dict:
    """The widget values that show a view decoded from a link."""
    out = {"dataset": v.dataset, "level": v.level, "dims": list(v.dims), "tiers": list(v.tiers),
           "metric": v.metric, "scheme": v.scheme, "k": v.k, "view": "indicator" if v.indicator else "dimensions"}
    if v.indicator:
        out["indicator"] = v.indicator
    if v.vs:
        out["vs"] = v.vs
    if v.scope in ("all", "ppaos20", "sra7"):
        out["scope"] = v.scope
    else:
        out["scope"], out["province"] = "one", v.scope
    return out


# A shared link (?level=district&parent=46…) sets the view once, when the session opens it.
url_ignored: list[str] = []
if not ss.get(K + "url_read"):
    ss[K + "url_read"] = True
    view_state, url_ignored = decode(st.query_params.to_dict(), set(eng.names.index))
    for name, value in url_widget_values(view_state).items():
        force(name, value)
    ss[K + "parent"], ss[K + "selected"] = view_state.parent, view_state.selected
    ss[K + "present"] = view_state.present

# Apply a drill-down or breadcrumb jump requested by the previous run.
for name, value in ss.pop(PENDING, {}).items():
    force(name, value)
ss.setdefault(K + "parent", None)
ss.setdefault(K + "selected", None)
MAP_KEY = f"{K}map"  # one frame for every view: a drill-down redraws in it (area_map's once)


def clicked_area() -> str | None:
    """The area the user clicked on the map or in the ranking since the last run, if any."""
    code = new_click(MAP_KEY)
    table_key, codes = ss.get(K + "table.shown") or (None, [])
    chosen = ss.get(table_key) if table_key else None  # the ranking the last run drew: its selection, if any
    rows = tuple((chosen or {}).get("selection", {}).get("rows", []))
    if rows and (table_key, rows) != ss.get(K + "table.taken"):  # a selection stays: take each one once
        ss[K + "table.taken"] = (table_key, rows)
        if code is None and rows[0] < len(codes):
            code = codes[rows[0]]
    return code if code in eng.names.index else None


# A click is read here, before the view is built, so the drill-down is drawn by this run. Read where the map is
# drawn, it cost a whole run of the old view and then a second run (issue 16).
picked = clicked_area()
if picked:
    if child_level(level_of(picked)):
        for name, value in {"parent": picked, "level": child_level(level_of(picked)), "selected": None}.items():
            force(name, value)
    else:  # at the deepest level a click selects (and highlights)
        force("selected", picked)


def go(**state) -> None:
    ss[PENDING] = state
    st.rerun()


def labelled(terms):
    by_key = {x.key: x for x in terms}
    return list(by_key), lambda key: by_key[key].label(lg)


# ---- sidebar: the frame of the view ---------------------------------------------------------
with st.sidebar:
    opts, fmt = dataset_choices(ps, lg)
    dataset = keep("dataset", st.selectbox(t("ctl.dataset", lg), opts, format_func=fmt, key=wkey("dataset")))
    scope_opts = [s.key for s in SCOPE_GROUPS] + ["one"]
    scope_fmt = {s.key: s.label(lg) for s in SCOPE_GROUPS} | {"one": t("ctl.scope.one", lg)}
    scope_kind = keep("scope", st.selectbox(t("ctl.scope", lg), scope_opts, format_func=scope_fmt.get, key=wkey("scope")))
    prov_codes = province_order(eng, lg)
    if scope_kind == "one":
        scope = keep("province", st.selectbox(t("ctl.province", lg), prov_codes, key=wkey("province"),
                                              format_func=lambda c: area_name(eng, c, lg)))
    else:
        scope = scope_kind
    parent = ss[K + "parent"]
    if parent and parent[:2] not in eng.scope_provinces(scope):  # the drilled area left the scope
        parent = ss[K + "parent"] = None
    levels = levels_below(parent)
    if ss.get(f"{K}level.{lg}", ss.get(K + "level")) not in levels:
        force("level", levels[0])
    level = keep("level", st.selectbox(t("ctl.level", lg), levels, key=wkey("level"),
                                       format_func=lambda lv: LEVEL_BY_KEY[lv].label(lg)))

    indicator = None
    if dataset == "tpmap":
        ss.setdefault(K + "view", "dimensions")
        view = keep("view", st.segmented_control(t("ctl.view", lg), ["dimensions", "indicator"], key=wkey("view"),
                                                 format_func=lambda v: t(f"ctl.view.{v}", lg)) or "dimensions")
        if view == "indicator":
            opts, fmt = labelled(INDICATORS)
            indicator = keep("indicator", st.selectbox(
                t("ctl.indicator", lg), opts, key=wkey("indicator"),
                format_func=lambda k: f"{next(i.tpmap_label for i in INDICATORS if i.key == k)} {fmt(k)}"))
    dims = [d.key for d in DIMENSIONS]
    if indicator is None and DIMENSION_CHOICE[dataset]:
        opts, fmt = labelled(DIMENSIONS)
        ss.setdefault(K + "dims", opts)
        dims = keep("dims", st.pills(t("ctl.dimensions", lg), opts, selection_mode="multi",
                                     format_func=fmt, key=wkey("dims")))
    tiers = [tr.number for tr in TIERS]
    if dataset == "households":
        ss.setdefault(K + "tiers", tiers)
        tiers = keep("tiers", st.pills(t("ctl.tiers", lg), tiers, selection_mode="multi", key=wkey("tiers"),
                                       format_func=lambda n: f"{n} {TIERS[n - 1].label(lg)}"))
    rounds = {d.id: round_label(d, lg) for d in other_rounds(eng, dataset)}
    if ss.get(f"{K}vs.{lg}", ss.get(K + "vs")) not in ("", *rounds):  # a link's round this user may not see
        force("vs", "")
    vs = keep("vs", st.selectbox(t("ctl.vs", lg), ["", *rounds], key=wkey("vs"), help=t("ctl.vs_help", lg),
                                 format_func=lambda i: rounds.get(i, t("ctl.vs_none", lg)))) or None
    other = None
    if vs:
        try:
            other = round_engine(vs)
        except PovmapError as exc:
            st.error(exc.message(lg))
            vs = None
    metrics = eng.metrics(dataset, level, indicator)
    if other is not None:  # a change needs the metric in both rounds (an imported file may have no rate)
        metrics = [m for m in metrics if m in other.metrics(dataset, level, indicator)] or metrics
    if ss.get(f"{K}metric.{lg}", ss.get(K + "metric")) not in metrics:
        force("metric", DEFAULT.metric if DEFAULT.metric in metrics else metrics[0])
    metric = keep("metric", st.selectbox(t("ctl.metric", lg), metrics, key=wkey("metric"),
                                         format_func=lambda m: metric_label(dataset, m, lg)))
    c1, c2 = st.columns([3, 2])
    opts, fmt = labelled(CLASS_SCHEMES)
    scheme = keep("scheme", c1.selectbox(t("ctl.scheme", lg), opts, format_func=fmt, key=wkey("scheme")))
    ss.setdefault(K + "k", 5)
    k = keep("k", c2.number_input(t("ctl.k", lg), min_value=3, max_value=7, step=1, key=wkey("k")))

if not dims or not tiers:
    st.warning(f"{t('ctl.dimensions' if not dims else 'ctl.tiers', lg)}: {t('ctl.pick_one', lg)}")
    st.stop()

query = Query(dataset=dataset, level=level, scope=scope, parent=parent, dimensions=tuple(dims),
              tiers=tuple(tiers), metric=metric, indicator=indicator)
try:
    present = bool(ss.get(K + "present"))
    v = shared_view(eng, query, lang=lg, scheme=scheme, k=int(k), selected=ss[K + "selected"],
                    **({"map_size": PRESENT_MAP_PX, "labels": PRESENT_LABELS, "label_px": 16} if present else PAGE_VIEW))
except QueryError as exc:
    st.error(f"{t('error.query', lg)}: {exc.message(lg)}")
    st.stop()
res = v.result

# The address bar always holds the view, so copying it shares exactly this view.
shown_state = ExplorerState(lang=lg, dataset=dataset, scope=scope, level=level, parent=parent,
                            selected=ss[K + "selected"], dims=tuple(dims), tiers=tuple(tiers), metric=metric,
                            indicator=indicator, scheme=scheme, k=int(k), present=present, vs=vs)
if st.query_params.to_dict() != encode(shown_state):
    st.query_params.from_dict(encode(shown_state))




def place_of(code: str | None) -> str:
    """What the view shows: the area ``code``, else the scope (a province, a group, Thailand)."""
    if code or scope not in scope_fmt:
        return area_name(eng, code or scope, lg)
    return t("crumb.thailand", lg) if scope == "all" else scope_fmt[scope]


if present:  # the projector view: title, map, legend and the source line only
    presentation_style()
    where = place_of(parent)
    shown_map, shown_legend, title = v.map, view_legend(v, lg, style="page", size="1.15em"), v.title
    top_list_md = present_top(v.ranking, v.result.query.metric, lg)
    if vs and not indicator:  # the change between the rounds, as on the page
        try:
            cvv = present_change_view(eng, other, query, lang=lg, map_size=PRESENT_MAP_PX, labels=PRESENT_LABELS)
            shown_map, title = cvv.map, f"{cvv.title} · {cvv.label_a} → {cvv.label_b}"
            shown_legend = legend_html(cvv.legend, lang=lg, style="page", title=cvv.title, size="1.15em")
            top_list_md = present_movers(cvv, lg)
        except PovmapError as exc:
            st.error(exc.message(lg))
    bar = st.container(horizontal=True, vertical_alignment="center", gap="medium")  # the exit button never cut
    bar.markdown(render("present_header.html.j2", place=where, title=title, level=LEVEL_BY_KEY[level].label(lg),
                      dataset=next(d for d in DATASETS if d.key == dataset).label(lg)), unsafe_allow_html=True)
    if bar.button(t("present.exit", lg), key=f"{K}present.exit", icon=":material/close_fullscreen:"):
        ss[K + "present"] = False
        st.rerun()
    m, leg = st.columns([4, 1.5], gap="medium")
    with m:
        area_map(fit_to_screen(shown_map), eng, key=MAP_KEY + ".present", height=PRESENT_MAP_PX[1], lang=lg, once=True)
    leg.markdown(shown_legend, unsafe_allow_html=True)
    leg.markdown(top_list_md, unsafe_allow_html=False)  # the room reads the leaders without hovering
    if res.synthetic:
        leg.warning(t("synthetic.badge", lg))
    st.caption(" · ".join(f"{c.title(lg)}: {c.credit_text(lg)}" for c in CREDITS))
    st.stop()

# ---- header: title, synthetic label, breadcrumb, totals --------------------------------------
actions = title_bar(t("app.title", lg))
share_link(actions, "", encode(shown_state), key=f"{K}share")
if actions.button(t("present.enter", lg), key=f"{K}present.enter", icon=":material/slideshow:",
               help=t("present.help", lg)):
    ss[K + "present"] = True
    st.rerun()
if url_ignored:
    st.warning(t("url.ignored", lg, items=", ".join(url_ignored)))
dataset_name = next(d for d in DATASETS if d.key == dataset).label(lg)
in_use = eng.data.households_info if dataset == "households" else eng.data.counts_info
if not in_use.builtin:  # an imported dataset (Data page): name it wherever its figures are shown
    dataset_name += f" — {md_text(in_use.label(lg))} ({in_use.year_label(lg)})"
st.markdown(f"**{dataset_name}** · {html.escape(v.title)} · {LEVEL_BY_KEY[level].label(lg)}")
if res.synthetic:
    synthetic_badge(eng, lg)
crumbs = breadcrumb(eng, parent, lg)
row = button_row()
for i, (code, label) in enumerate(crumbs):
    is_last = i == len(crumbs) - 1
    if row.button(("› " if i else "") + label, key=f"{K}crumb.{i}", disabled=is_last, type="tertiary"):
        nxt = child_level(level_of(code)) if code else "province"
        go(parent=code, level=nxt, selected=None)
row.caption(t("crumb.hint", lg), width="content")
focus = ss[K + "selected"] or parent  # the area the user is looking at
f1 = f2 = button_row()  # there in every view, so the map below keeps its place in the page and its frame
if focus:
    f1.page_link("app_pages/profile.py", label=f"{t('profile.open', lg)}: {area_name(eng, focus, lg)}", icon=":material/location_on:",
                 query_params={"area": focus})
    compare_button(focus, f2, f"{K}addcmp")

if vs and not indicator:  # the change view replaces the one-round view below the header
    try:
        picked = show_change(eng, other, query, lang=lg, key=f"{K}change", selected=ss[K + "selected"],
                             focus=focus, scope_provinces=eng.scope_provinces(scope), place=place_of(focus))
    except PovmapError as exc:
        st.error(exc.message(lg))
        st.stop()
    if picked and picked in set(res.table["code"]):
        if v.drillable:
            go(parent=picked, level=child_level(level), selected=None)
        elif picked != ss[K + "selected"]:
            go(selected=picked)
    credits_footer()
    st.stop()
elif vs:
    st.info(t("change.no_indicator", lg))

unit = t(f"unit.{res.count_label}", lg)


def shown(n):
    if res.extras.get("total_hidden"):  # the whole view rests on fewer than k households
        return f"< {res.extras['k']}"
    return fmt_number(n) if res.has_data else t("kpi.no_data", lg)


st.markdown(headline_html(headline(eng, v, lg)), unsafe_allow_html=True)
if indicator:
    st.caption(t("indicator.note", lg))
elif DIMENSION_CHOICE[dataset]:
    st.caption(t("dims.note", lg))
else:
    st.caption(t("dims.households_note", lg))
    st.caption(privacy_note(res.extras["k"], lg))
st.page_link("app_pages/glossary.py", label=t("glossary.see", lg), icon=":material/help:")

# ---- map + legend | ranking -------------------------------------------------------------------
left, right = st.columns([3, 2], gap="medium")
with left:
    area_map(v.map, eng, key=MAP_KEY, height=MAP_HEIGHT_PX, lang=lg, once=True)  # its clicks: clicked_area()
    if res.has_data and not res.extras.get("total_hidden"):
        st.caption(t("head.reconcile_some" if res.unplaced_count else "head.reconcile_all", lg,
                     placed=shown(res.placed_count), total=shown(res.scope_count), unit=unit))
    d1 = d3 = button_row()
    map_downloads((d1, d1), eng, query, scheme=scheme, k=int(k), key=f"{K}dl.map")
    brief_area = ss[K + "selected"] or parent or (scope if scope not in scope_fmt else None)
    if brief_area:
        brief_download(d3, eng, brief_area, key=f"{K}dl.brief")

with right:  # the legend first, so it is in sight with the top of the map on a 768 px screen
    st.markdown(view_legend(v, lg, style="page"), unsafe_allow_html=True)
    st.markdown(f"**{t('table.title', lg)}** · {LEVEL_BY_KEY[level].label(lg)}")
    # The figures right after the name, so they stay in sight in a narrow column; the code after them. A count
    # metric's value is the count itself (household views keep the count: it says "< k" where a figure is hidden).
    cols = ["rank", "name", "value", "count", "code"]
    value_col = t(f"metric.short.{metric}", lg)  # short, so it fits; the legend above names the metric in full
    if METRIC_BY_KEY[metric].is_count and dataset == "tpmap":
        cols.remove("count")
    table = v.ranking[cols].rename(columns={"rank": t("table.rank", lg), "code": t("table.code", lg),
                                            "name": t("table.name", lg), "value": value_col,
                                            "count": f"{t('table.count', lg)} ({unit})"})
    table[t("table.profile", lg)] = "profile?area=" + v.ranking["code"]
    sel = ss[K + "selected"]
    if sel is not None:  # a pandas Styler costs seconds per rerun on 7,423 rows: mark the row's name instead
        hit = table[t("table.code", lg)] == sel
        table.loc[hit, t("table.name", lg)] = "▶ " + table.loc[hit, t("table.name", lg)]
    value_fmt = "localized" if DECIMALS[metric] == 0 else f"%.{DECIMALS[metric]}f"
    table_box, pager = st.container(), st.container()
    rows_shown, first_row = ranking_page(table, f"{K}rpage.{parent or 'TH'}.{level}", lg, pager)
    table_key = f"{K}table.{parent or 'TH'}.{level}" + (f".{first_row}" if first_row else "")
    ss[K + "table.shown"] = (table_key, rows_shown[t("table.code", lg)].tolist())  # for clicked_area()
    table_box.dataframe(
        rows_shown, hide_index=True, height=RANKING_PX, on_select="rerun", selection_mode="single-row",
        key=table_key,
        column_config={t("table.rank", lg): st.column_config.NumberColumn(width="small", help=t("glossary.text.rank", lg)),
                       t("table.code", lg): st.column_config.TextColumn(width="small"),
                       value_col: st.column_config.NumberColumn(format=value_fmt, help=v.title),
                       t("table.profile", lg): st.column_config.LinkColumn(display_text=t("table.profile_link", lg)),
                       f"{t('table.count', lg)} ({unit})": (st.column_config.TextColumn() if v.ranking["count"].dtype == object
                                                             else st.column_config.NumberColumn(format="localized"))},
        placeholder=NO_VALUE,
    )
    st.caption(t("table.hint", lg) if v.drillable else t("selected", lg))
    table_downloads(table.drop(columns=[t("table.profile", lg)]), f"{v.title} · {LEVEL_BY_KEY[level].label(lg)}",
                    key=f"{K}dl.ranking", household_k=res.extras.get("k") if dataset == "households" else None)

# ---- what is not on this map ------------------------------------------------------------------
n_hidden = res.extras.get("hidden_areas", 0)
n_no_data = (int(v.no_data['areas'].sum()) if len(v.no_data) else 0) + n_hidden
gaps = ([t("unplaced.n_rows", lg, count=len(v.unplaced))] if len(v.unplaced) else []) + \
    ([t("unplaced.n_no_data", lg, count=n_no_data)] if n_no_data else [])
# The tables are drawn only while the box is open: the 593 unplaced subdistricts and the boundary notes were 0.2 MB
# of every rerun at subdistrict level, sent whether anyone looked or not (issue 16). The totals line stays.
with st.expander(f"{t('unplaced.title', lg)}: {', '.join(gaps) or t('unplaced.n_none', lg)}", expanded=False,
                 key=f"{K}gaps", on_change="rerun") as gaps_box:
    hidden_part = ""
    if n_hidden:
        hidden_part = t("privacy.hidden_part", lg, hidden=fmt_number(res.hidden_count) if res.hidden_count is not None
                        else f"< {res.extras['k']}")
    st.markdown(t("unplaced.reconcile", lg, placed=shown(res.placed_count) + hidden_part,
                  unplaced=shown(res.unplaced_count), total=shown(res.scope_count), unit=unit))
    if res.extras.get("hidden_areas"):
        st.markdown(t("privacy.reconcile", lg, count=res.extras["hidden_areas"], unit=unit, k=res.extras["k"],
                      hidden=fmt_number(res.hidden_count) if res.hidden_count is not None else f"< {res.extras['k']}"))
    if gaps_box.open and len(v.unplaced):
        st.markdown(f"**{t('unplaced.rows', lg)}**")
        st.dataframe(v.unplaced.rename(columns={"code": t("table.code", lg), "name": t("table.name", lg),
                                                "reason": t("unplaced.reason", lg), "count": f"{t('unplaced.count', lg)} ({unit})",
                                                "value": t("unplaced.value", lg)}),
                     hide_index=True, height=min(300, 38 + 35 * len(v.unplaced)),
                     column_config={f"{t('unplaced.count', lg)} ({unit})": st.column_config.NumberColumn(format="localized")},
                     placeholder=NO_VALUE)
        table_downloads(v.unplaced.rename(columns={"code": t("table.code", lg), "name": t("table.name", lg),
                                                   "reason": t("unplaced.reason", lg), "count": t("unplaced.count", lg),
                                                   "value": t("unplaced.value", lg)}),
                        t("unplaced.rows", lg), key=f"{K}dl.unplaced")
    elif gaps_box.open:
        st.caption(t("unplaced.none", lg))
    if gaps_box.open and len(v.no_data):
        st.markdown(f"**{t('unplaced.no_data', lg)}**")
        st.dataframe(v.no_data.rename(columns={"reason": t("unplaced.reason", lg), "areas": t("unplaced.areas", lg)}),
                     hide_index=True, placeholder=NO_VALUE)

    if gaps_box.open and len(v.notes):
        st.markdown(f"**{t('unplaced.notes', lg)}**")
        st.dataframe(v.notes.rename(columns={"code": t("table.code", lg), "issue": t("note.issue", lg),
                                             "detail": t("note.detail", lg)}), hide_index=True, placeholder=NO_VALUE)

credits_footer()
