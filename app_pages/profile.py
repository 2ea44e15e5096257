"""Area profile: one page that answers "what is going on in this area?"."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages._auth import may
from app_pages._downloads import brief_download, table_downloads
from app_pages._map import area_map
from app_pages._change_view import show_area_change
from app_pages._ui import (
    NO_VALUE,
    COMPARE_KEY,
    other_rounds,
    round_engine,
    compare_button,
    credits_footer,
    engine,
    lang,
    share_link,
    title_bar,
    button_row,
)
from povmap.core.access import Action
from povmap.core.engine import QueryError
from povmap.core.errors import PovmapError
from povmap.present.changeview import round_label
from povmap.core.i18n import t
from povmap.core.thai import DECIMALS, fmt_number
from povmap.core.vocab import (
    DATASETS,
    DIMENSION_BY_KEY,
    INDICATOR_BY_KEY,
    LEVEL_BY_KEY,
    child_level,
    level_of,
)
from povmap.present import charts
from povmap.present.explorer import locator_map
from povmap.present.householdtext import household_text
from povmap.present.profile import area_title, build_profile, profile_codes, search_areas
from povmap.present.urlstate import page_params, shown

eng = engine()
if eng is None:
    st.stop()
lg = lang()
ss = st.session_state
DECIMALS = {**DECIMALS, "population": 0}  # the profile's figures: the metrics plus registered residents


def open_area(code: str) -> None:
    st.query_params["area"] = code
    st.rerun()


# ---- which area: the URL, else a search --------------------------------------------------------
raw = st.query_params.get("area", "")
codes = profile_codes(raw)
_, url_ignored = page_params(st.query_params.to_dict(), {"area"})  # other parameters, a bad lang
if codes:  # the parts of ?area= that are not area codes (with none left, profile.ignored says so below)
    url_ignored += [f"area={shown(part)}" for part in raw.split(",") if part.strip() and not profile_codes(part)]
with st.sidebar:
    query = st.text_input(t("profile.search", lg), key="profile.search", max_chars=80)
if query.strip():
    hits = search_areas(query, lg)
    with st.sidebar:
        if not hits:
            st.caption(t("profile.no_results", lg))
        for code, label in hits:
            if st.button(label, key=f"profile.hit.{code}", type="tertiary"):
                open_area(code)
if raw and not codes:
    st.warning(t("profile.ignored", lg, values=raw[:60]))
if url_ignored:
    st.warning(t("url.ignored", lg, items=", ".join(url_ignored)))
if not codes:
    st.title(t("nav.profile", lg))
    st.info(t("profile.pick", lg))
    st.stop()
try:
    p = build_profile(eng, codes[0], households=may(Action.VIEW_HOUSEHOLDS))
except QueryError as exc:
    st.error(exc.message(lg))
    st.stop()
if st.query_params.get("area") != p.code:  # canonical link (e.g. an abolished code opened as its successor)
    st.query_params["area"] = p.code

# ---- header ---------------------------------------------------------------------------------
name = p.name_th if lg == "th" else p.name_en
other = p.name_en if lg == "th" else p.name_th
actions = title_bar(area_title(p.code, name, lg))
share_link(actions, "profile", {"area": p.code, "lang": lg}, key="profile.share")
# The brief adds the change since the round chosen in the change section below (its choice from the last run).
brief_round = ss.get("profile.vs.households") or ss.get("profile.vs.tpmap") or next(
    (d.id for kind in ("households", "tpmap") if kind == "tpmap" or may(Action.VIEW_HOUSEHOLDS)
     for d in other_rounds(eng, kind)), None)
try:
    brief_other = round_engine(brief_round) if brief_round else None
except PovmapError:  # a round that is gone or no longer visible: the brief without it
    brief_other = None
brief_download(actions, eng, p.code, key="profile.dl.brief", other=brief_other)
crumbs = [f"{LEVEL_BY_KEY[p.level].label(lg)} · {other} · {t('profile.code', lg)} {p.code}"]
st.caption(" › ".join([pn_th if lg == "th" else pn_en for _, pn_th, pn_en in p.parents] + crumbs))
row = button_row()
for pc, pn_th, pn_en in p.parents:
    if row.button("↑ " + (pn_th if lg == "th" else pn_en), key=f"profile.up.{pc}"):
        open_area(pc)
compare_button(p.code, row, "profile.addcmp")
if ss.get(COMPARE_KEY):
    row.page_link("app_pages/compare.py", label=t("profile.in_compare", lg, n=len(ss[COMPARE_KEY])),
                        query_params={"areas": ",".join(ss[COMPARE_KEY])})

# ---- headline figures with their context -----------------------------------------------------
parent_label = LEVEL_BY_KEY[level_of(p.code[:-2])].label(lg) if p.level != "province" else ""
figures = st.container(horizontal=True, gap="medium")  # wraps on a narrow screen: no figure is cut
for f in p.figures:
    col = figures.container(width=190)
    fmt = (lambda v: fmt_number(v, DECIMALS[f.key]) if v is not None else t("legend.no_data", lg))
    col.metric(t(f"fig.{f.key}", lg), fmt(f.value))
    context = (t("profile.vs", lg, parent_label=parent_label, parent=fmt(f.parent), country=fmt(f.country))
               if p.level != "province" else t("profile.vs_country", lg, country=fmt(f.country)))
    if f.rank is not None:
        context += " · " + t("profile.rank", lg, rank=f.rank, n=f.siblings)
    col.caption(context)
if p.tpmap_note:
    st.info(t(f"reason.{p.tpmap_note}", lg))

left, right = st.columns([3, 2], gap="medium")
with left:
    if not p.tpmap_note:
        st.plotly_chart(charts.dimension_bars([p], lg), theme=None, key="profile.dims")
        st.caption(t("profile.dims_note", lg))
        st.markdown(f"**{t('profile.indicators', lg)}**")
        ind = p.indicators.assign(
            indicator=[f"{INDICATOR_BY_KEY[k].tpmap_label} {INDICATOR_BY_KEY[k].label(lg)}" for k in p.indicators["key"]],
            dimension=[DIMENSION_BY_KEY[d].label(lg) for d in p.indicators["dimension"]],
            worst=[t("profile.worst", lg) if w else "" for w in p.indicators["worst"]])
        ind_table = ind[["worst", "indicator", "dimension", "people", "share"]].rename(columns={
            "worst": "", "indicator": t("ctl.indicator", lg), "dimension": t("ctl.view.dimensions", lg),
            "people": t("fig.people", lg), "share": t("chart.share_of_poor", lg)})
        # On screen the figures come right after the name (a narrow column shows them without scrolling), the
        # three worst marked in the name itself; the download keeps a column of its own for the mark.
        shown = ind_table.assign(**{t("ctl.indicator", lg): [("⚠ " if w else "") + n for w, n in
                                                           zip(p.indicators["worst"], ind_table[t("ctl.indicator", lg)])]})
        st.dataframe(shown, hide_index=True,
                     column_order=[t("ctl.indicator", lg), t("fig.people", lg), t("chart.share_of_poor", lg),
                                   t("ctl.view.dimensions", lg)],
                     column_config={t("fig.people", lg): st.column_config.NumberColumn(format="localized", width="small"),
                                    t("chart.share_of_poor", lg): st.column_config.NumberColumn(format="%.1f",
                                                                                                width="small")},
                     placeholder=NO_VALUE)
        st.caption(t("profile.worst_note", lg))
        table_downloads(ind_table.rename(columns={"": t("profile.worst", lg)}), f"{name} · {t('profile.indicators', lg)}",
                        key="profile.dl.indicators")
with right:
    st.markdown(f"**{t('profile.locator', lg)}**")
    area_map(locator_map(eng, p.code), eng, key=f"profile.locator.{p.code}", height=300, lang=lg)
    st.plotly_chart(charts.population_line(p.population, lg), theme=None, key="profile.pop")
    if p.hai is not None:
        st.plotly_chart(charts.hai_line(p.hai, lg), theme=None, key="profile.hai")
    else:
        st.caption(t("profile.hai_none", lg))

# ---- households --------------------------------------------------------------------------------
st.subheader(t("profile.households", lg))
hh = p.households
text = household_text(hh, lg, withheld=p.households_withheld)
if text.message is not None:
    st.info(text.message)
else:
    if text.badge:
        st.warning(text.badge)
    st.markdown(text.summary)
    c1, c2 = st.columns(2)
    shares = hh["tiers"].sort_values("tier")["share"].tolist()
    c1.plotly_chart(charts.tier_bars([(name, shares)], lg, k=hh["k"]), theme=None, key="profile.tiers")
    c1.dataframe(pd.DataFrame(list(text.rows), columns=list(text.head)), hide_index=True, placeholder=NO_VALUE)
    c1.caption(text.note)  # every household figure carries the adjustment, hidden or not
    cap = hh["capitals"]
    means = [(t("profile.ppaos_mean", lg), cap["ppaos20"].tolist())]
    if p.level != "province":  # a province's own mean is the area itself
        means.insert(0, (t("profile.province_mean", lg), cap["province"].tolist()))
    c2.plotly_chart(charts.capital_radar([(name, cap["area"].tolist()), *means], lg),
                    theme=None, key="profile.radar")

# ---- change between rounds (another dataset of the same kind this user may see) --------------------
for dataset in ("households", "tpmap"):
    if dataset == "households" and (p.households_withheld or not may(Action.VIEW_HOUSEHOLDS)):
        continue
    rounds = {d.id: round_label(d, lg) for d in other_rounds(eng, dataset)}
    if not rounds:
        continue
    st.subheader(t("profile.change", lg) + " · " + next(d for d in DATASETS if d.key == dataset).label(lg), anchor=False)
    vs = st.selectbox(t("ctl.vs", lg), list(rounds), format_func=rounds.get, key=f"profile.vs.{dataset}")
    try:
        show_area_change(eng, round_engine(vs), p.code, dataset, lang=lg, key=f"profile.change.{dataset}")
    except (PovmapError, QueryError) as exc:
        st.info(exc.message(lg))

# ---- villages (subdistricts) and areas within ------------------------------------------------
if p.villages is not None and len(p.villages):
    st.subheader(t("profile.villages", lg))
    villages = p.villages[["rank", "moo", "name_th", "people", "households", "code"]].assign(
        name_th=p.villages["name_th"].fillna(""))  # a village with no name in the source: an empty cell
    villages = villages.rename(columns={"code": t("table.code", lg), "name_th": t("table.name", lg),
                                        "people": t("fig.people", lg), "households": t("fig.households", lg),
                                        "rank": t("table.rank", lg), "moo": t("profile.moo", lg)})
    st.dataframe(villages, hide_index=True, placeholder=NO_VALUE)
    table_downloads(villages, f"{name} · {t('profile.villages', lg)}", key="profile.dl.villages")
    st.caption(t("profile.village_names", lg))
if len(p.children):
    st.subheader(t("profile.children", lg) + f" · {LEVEL_BY_KEY[child_level(p.level)].label(lg)}")
    kids = p.children.assign(name=p.children["name_th" if lg == "th" else "name_en"])
    kids.loc[~kids["placed"], "name"] = kids.loc[~kids["placed"], "name"] + f" ({t('profile.unit_no_polygon', lg)})"
    shown = kids[["code", "name", "people", "rate"]].rename(columns={
        "code": t("table.code", lg), "name": t("table.name", lg), "people": t("fig.people", lg), "rate": t("fig.rate", lg)})
    ev = st.dataframe(shown, hide_index=True, on_select="rerun", selection_mode="single-row", key=f"profile.kids.{p.code}",
                      column_config={t("fig.people", lg): st.column_config.NumberColumn(format="localized"),
                                     t("fig.rate", lg): st.column_config.NumberColumn(format="%.2f")},
                      placeholder=NO_VALUE)
    st.caption(t("profile.children_hint", lg))
    table_downloads(shown, f"{name} · {t('profile.children', lg)}", key="profile.dl.children")
    rows = ev.selection.rows if hasattr(ev, "selection") else ev.get("selection", {}).get("rows", [])
    if rows and bool(kids.iloc[rows[0]]["placed"]):
        open_area(str(kids.iloc[rows[0]]["code"]))
    elif rows:  # a TPMAP unit without a DOPA code has no profile of its own
        st.info(t("profile.no_profile_for_unit", lg, code=kids.iloc[rows[0]]["code"]))

credits_footer()
