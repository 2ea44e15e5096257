"""Compare 2–4 areas of any level side by side."""
from __future__ import annotations

import streamlit as st

from app_pages._ui import COMPARE_KEY, COMPARE_MAX, credits_footer, engine, lang
from povmap import charts
from povmap.explorer import area_name
from povmap.i18n import t
from povmap.profile import build_profile, compare_table, profile_codes, search_areas
from povmap.vocab import LEVEL_BY_KEY

eng = engine()
if eng is None:
    st.stop()
lg = lang()
ss = st.session_state

# The URL (?areas=46,4601) wins over the session's list, so a shared link opens the same comparison.
from_url = profile_codes(st.query_params.get("areas", ""))[:COMPARE_MAX]
if from_url:
    ss[COMPARE_KEY] = from_url
chosen = list(ss.get(COMPARE_KEY, []))

st.title(t("nav.compare", lg))
query = st.text_input(t("profile.search", lg), key="compare.search", max_chars=80)
if query.strip():
    hits = [(c, label) for c, label in search_areas(query, lg) if c not in chosen]
    cols = st.columns(min(len(hits), 4) or 1)
    for i, (code, label) in enumerate(hits[:8]):
        if cols[i % len(cols)].button(f"+ {label}", key=f"compare.hit.{code}", disabled=len(chosen) >= COMPARE_MAX):
            chosen.append(code)
            ss[COMPARE_KEY] = chosen
            st.query_params["areas"] = ",".join(chosen)
            st.rerun()
kept = st.multiselect(t("compare.pick", lg), chosen, default=chosen, max_selections=COMPARE_MAX,
                      format_func=lambda c: f"{area_name(eng, c, lg)} ({c})", key=f"compare.chosen.{lg}.{','.join(chosen)}")
if kept != chosen:
    ss[COMPARE_KEY] = kept
    st.query_params["areas"] = ",".join(kept)
    st.rerun()
if chosen:
    st.query_params["areas"] = ",".join(chosen)
if len(chosen) < 2:
    st.info(t("compare.need_two", lg))
    st.stop()

profiles = [build_profile(eng, c) for c in chosen]
names = [p.name_th if lg == "th" else p.name_en for p in profiles]

st.subheader(t("compare.figures", lg))
table = compare_table(profiles)
table["name"] = names
table["level"] = [LEVEL_BY_KEY[lv].label(lg) for lv in table["level"]]
shown = table[["code", "name", "level", "people", "rate", "households", "population", "hh_households", "hh_tier1_share"]]
num = st.column_config.NumberColumn(format="localized")
labels = {"code": t("table.code", lg), "name": t("table.name", lg), "level": t("compare.col.level", lg),
          "people": t("fig.people", lg), "rate": t("fig.rate", lg), "households": t("fig.households", lg),
          "population": t("fig.population", lg), "hh_households": t("compare.col.hh_households", lg),
          "hh_tier1_share": t("compare.col.hh_tier1_share", lg)}
st.dataframe(shown.rename(columns=labels), hide_index=True, column_config={
    labels["people"]: num, labels["households"]: num, labels["population"]: num, labels["hh_households"]: num,
    labels["rate"]: st.column_config.NumberColumn(format="%.2f"),
    labels["hh_tier1_share"]: st.column_config.NumberColumn(format="%.1f")})
for p, name in zip(profiles, names):
    st.page_link("app_pages/profile.py", label=f"{t('profile.open', lg)}: {name}", query_params={"area": p.code})

with_tpmap = [p for p in profiles if not p.tpmap_note]
if with_tpmap:
    st.plotly_chart(charts.dimension_bars(with_tpmap, lg), theme=None, key="compare.dims")
    st.caption(t("profile.dims_note", lg))
with_hh = [(n, p) for n, p in zip(names, profiles) if p.households is not None]
if with_hh:
    c1, c2 = st.columns(2)
    c1.plotly_chart(charts.capital_radar([(n, p.households["capitals"]["area"].tolist()) for n, p in with_hh], lg),
                    theme=None, key="compare.radar")
    c2.plotly_chart(charts.tier_bars([(n, p.households["tiers"].sort_values("tier")["share"].tolist())
                                      for n, p in with_hh], lg), theme=None, key="compare.tiers")
    if any(p.households["synthetic"] for _, p in with_hh):
        st.warning(t("synthetic.badge", lg))
for n, p in zip(names, profiles):
    if p.households is None:
        st.caption(f"{n}: {t('profile.no_households', lg)}")
    if p.tpmap_note:
        st.caption(f"{n}: {t(f'reason.{p.tpmap_note}', lg)}")

if st.button(t("compare.clear", lg)):
    ss[COMPARE_KEY] = []
    st.query_params.clear()
    st.rerun()

credits_footer()
