"""Pilot areas: frame → criteria (small maps, weights) → score and shortlist → robustness → scenarios, export."""
from __future__ import annotations

import streamlit as st

from app_pages import _pilot_parts as parts
from app_pages._ui import (
    NO_VALUE,
    credits_footer,
    dataset_choices,
    other_rounds,
    page_start,
    round_engine,
    share_link,
    title_bar,
)
from povmap import pilot
from povmap.core.errors import PovmapError
from povmap.core.i18n import t
from povmap.core.thai import fmt_number
from povmap.core.vocab import (
    CRITERION_BY_KEY,
    DIMENSION_CHOICE,
    DIMENSIONS,
    LEVEL_BY_KEY,
    NORMALISATIONS,
    SCOPE_GROUPS,
    TIERS,
)
from povmap.pilot.criteria import PILOT_LEVELS, Frame
from povmap.present import pilotview
from povmap.present.changeview import round_label
from povmap.present.explorer import area_name, province_order
from povmap.userdb import areamanagers
from povmap.userdb.db import user_database

K = parts.K
eng, lg, ps = page_start(K)
ss = st.session_state
force, wkey, keep = ps.force, ps.wkey, ps.keep
db = user_database()
parts.open_from_url(db, lg)
for name, value in ss.pop(parts.PENDING, {}).items():  # a scenario being reopened
    force(name, value)


def labelled(terms):
    by_key = {x.key: x for x in terms}
    return list(by_key), lambda key: by_key[key].label(lg)


# ---- sidebar: the frame and the rules ---------------------------------------------------------
with st.sidebar:
    st.markdown(f"**{t('pilot.frame', lg)}**")
    opts, fmt = dataset_choices(ps, lg)
    dataset = keep("dataset", st.selectbox(t("ctl.dataset", lg), opts, format_func=fmt, key=wkey("dataset")))
    scope_opts = [s.key for s in SCOPE_GROUPS] + ["one"]
    scope_fmt = {s.key: s.label(lg) for s in SCOPE_GROUPS} | {"one": t("ctl.scope.one", lg)}
    ps.default("scope", pilot.DEFAULT_FRAME.scope)
    scope_kind = keep("scope", st.selectbox(t("ctl.scope", lg), scope_opts, format_func=scope_fmt.get, key=wkey("scope")))
    if scope_kind == "one":
        ps.default("province", "46")
        scope = keep("province", st.selectbox(t("ctl.province", lg), province_order(eng, lg), key=wkey("province"),
                                              format_func=lambda c: area_name(eng, c, lg)))
    else:
        scope = scope_kind
    ps.default("level", pilot.DEFAULT_FRAME.level)
    level = keep("level", st.segmented_control(t("pilot.level", lg), list(PILOT_LEVELS), key=wkey("level"),
                                               format_func=lambda lv: LEVEL_BY_KEY[lv].label(lg))
                 or pilot.DEFAULT_FRAME.level)
    opts, fmt = labelled(DIMENSIONS)
    dims = opts
    if DIMENSION_CHOICE[dataset]:
        ps.default("dims", opts)
        dims = keep("dims", st.pills(t("ctl.dimensions", lg), opts, selection_mode="multi", format_func=fmt,
                                     key=wkey("dims")))
    tiers = [tr.number for tr in TIERS]
    if not DIMENSION_CHOICE[dataset]:
        st.caption(t("dims.households_note", lg))
        ps.default("tiers", list(pilot.default_tiers(dataset)))
        tiers = keep("tiers", st.pills(t("ctl.tiers", lg), tiers, selection_mode="multi", key=wkey("tiers"),
                                       format_func=lambda n: f"{n} {TIERS[n - 1].label(lg)}"))
    rounds = {d.id: round_label(d, lg) for d in other_rounds(eng, dataset)}
    if ss.get(f"{K}vs.{lg}", ss.get(K + "vs")) not in ("", *rounds):  # a scenario's round this user may not see
        force("vs", "")
    vs = keep("vs", st.selectbox(t("ctl.vs", lg), ["", *rounds], key=wkey("vs"), help=t("pilot.vs_help", lg),
                                 format_func=lambda i: rounds.get(i, t("ctl.vs_none", lg)))) or None

    st.markdown(f"**{t('pilot.rules', lg)}**")
    opts, fmt = labelled(NORMALISATIONS)
    normalisation = keep("norm", st.radio(t("pilot.normalisation", lg), opts, format_func=fmt, key=wkey("norm")))
    per_district = False
    if level == "subdistrict":
        per_district = keep("per_district", st.toggle(t("pilot.per_district", lg), key=wkey("per_district"),
                                                      help=t("pilot.per_district_help", lg)))
    if per_district:
        ps.default("k", 1)
        k = keep("k", st.number_input(t("pilot.k", lg), min_value=1, max_value=10, step=1, key=wkey("k")))
        top_n = ss.get(K + "top_n", pilot.DEFAULTS.top_n)
    else:
        ps.default("top_n", pilot.DEFAULTS.top_n)
        top_n = keep("top_n", st.number_input(t("pilot.top_n", lg), min_value=1, max_value=500, step=5, key=wkey("top_n")))
        k = None
    require_coverage = keep("gate_cov", st.toggle(t("pilot.gate.not_covered.rule", lg), key=wkey("gate_cov")))
    ps.default("min_count", pilot.DEFAULTS.min_count)
    min_count = keep("min_count", st.number_input(t("pilot.min_count", lg), min_value=0, step=10, key=wkey("min_count")))
    st.markdown(f"**{t('pilot.m.clusters', lg)}**")
    ps.default("alpha", pilot.DEFAULTS.alpha)
    alpha = keep("alpha", st.segmented_control(t("pilot.alpha", lg), list(pilot.ALPHAS), key=wkey("alpha"))
                 or pilot.DEFAULTS.alpha)
    fdr = keep("fdr", st.toggle(t("pilot.fdr", lg), key=wkey("fdr")))

actions = title_bar(t("nav.pilot", lg))
st.caption(t("pilot.intro", lg))
st.page_link("app_pages/glossary.py", label=t("glossary.see", lg), icon=":material/help:")
if ignored := ss.pop(K + "url_ignored", None):
    st.warning(t("url.ignored", lg, items=ignored))
if not dims or not tiers:
    st.warning(f"{t('ctl.dimensions' if not dims else 'ctl.tiers', lg)}: {t('ctl.pick_one', lg)}")
    st.stop()

frame = Frame(dataset=dataset, scope=scope, level=level, dimensions=tuple(dims), tiers=tuple(tiers), vs=vs)
try:
    coverage = areamanagers.list_coverage(db)
    base = pilot.Settings(alpha=float(alpha), fdr=bool(fdr))
    with st.spinner(t("pilot.computing", lg)):
        crit = pilot.criteria_set(eng, frame, base, coverage, other=round_engine(vs) if vs else None)
except PovmapError as exc:
    st.error(exc.message(lg))
    st.stop()
if dataset == "households" and crit.data.synthetic:
    st.warning(t("synthetic.badge", lg))
for note in crit.notes:
    st.info(note.message(lg))
data = crit.data
st.caption(pilotview.reconcile_text(data, lg) + f" {t(f'unit.{data.count_label}', lg)} · " + t("pilot.areas_ranked", lg, count=len(data.areas)))
if len(data.unranked):
    with st.expander(t("pilot.unranked", lg, n=fmt_number(len(data.unranked)))):
        st.dataframe(pilotview.unranked_summary(crit, lg), hide_index=True, placeholder=NO_VALUE)

# ---- criteria: one small map each, with its weight ------------------------------------------
st.subheader(t("pilot.criteria", lg))
st.caption(t("pilot.weights_help", lg))
weights: dict[str, float] = {}
enabled: list[str] = []
keys = list(crit.values.columns)
constant = pilot.constant_criteria(crit.values)
PER_ROW = 4
for row_start in range(0, len(keys), PER_ROW):
    cols = st.columns(PER_ROW, gap="small")
    for col, key in zip(cols, keys[row_start:row_start + PER_ROW]):
        with col, st.container(border=True):
            sm = pilotview.criterion_map(eng, crit, key, lg)
            st.markdown(f"**{sm.title}**")
            if sm.png:
                st.image(sm.png, width="stretch")
            parts.legend(sm.legend, lg)
            if sm.note:
                st.caption(sm.note)
            st.caption(CRITERION_BY_KEY[key].how(lg))
            ps.default(f"on.{key}", key in pilot.DEFAULT_ENABLED)
            on = keep(f"on.{key}", st.checkbox(t("pilot.use", lg), key=wkey(f"on.{key}")))
            ps.default(f"w.{key}", pilot.DEFAULT_WEIGHTS[key])
            w = keep(f"w.{key}", st.slider(t("pilot.weight", lg), 0.0, 3.0, step=0.25, key=wkey(f"w.{key}"),
                                           disabled=not on, label_visibility="collapsed"))
            weights[key] = float(w)
            if on:
                enabled.append(key)
                if key in constant:
                    st.caption(f":orange[{t('pilot.card.constant', lg)}]")
                elif not w:
                    st.caption(t("pilot.card.zero", lg))

settings = pilot.Settings(weights=tuple(weights.items()), enabled=tuple(enabled), normalisation=normalisation,
                          require_coverage=bool(require_coverage), min_count=int(min_count), top_n=int(top_n),
                          per_district_k=int(k) if k else None, alpha=float(alpha), fdr=bool(fdr))
try:
    result = pilot.run(crit, settings)
except PovmapError as exc:
    st.error(exc.message(lg))
    st.stop()
for note in result.notes[len(crit.notes):]:  # the run's own: criteria left out
    st.info(note.message(lg))

parts.shortlist_section(eng, result, lg)
parts.robustness_section(result, lg)
parts.scenario_section(eng, result, lg, db)
parts.export_section(eng, result, lg)
parts.sync_url(result, lg)
share_link(actions, "pilot", st.query_params.to_dict(), key=f"{K}share")
credits_footer()
