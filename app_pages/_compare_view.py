"""The side-by-side comparison of 2–4 areas, shown on the compare page and under a shortlist."""
from __future__ import annotations

import streamlit as st

from app_pages._auth import may
from app_pages._downloads import table_downloads
from app_pages._ui import NO_VALUE
from povmap.core.access import Action
from povmap.core.engine import Engine
from povmap.core.i18n import t
from povmap.core.privacy import privacy_note, shown_count, shown_share
from povmap.core.vocab import LEVEL_BY_KEY
from povmap.present import charts
from povmap.present.profile import build_profile, compare_table


def render_comparison(eng: Engine, codes: list[str], lg: str, key: str) -> None:
    """Key figures in one table, dimension bars, capital radars and tier bars of ``codes``."""
    households = may(Action.VIEW_HOUSEHOLDS)
    profiles = [build_profile(eng, c, households=households) for c in codes]
    names = [p.name_th if lg == "th" else p.name_en for p in profiles]

    st.subheader(t("compare.figures", lg))
    table = compare_table(profiles)
    table["name"] = names
    table["level"] = [LEVEL_BY_KEY[lv].label(lg) for lv in table["level"]]
    hh_cols = ["hh_households", "hh_tier1_share"] if households else []  # absent for a user who may not see them
    shown = table[["code", "name", "level", "people", "rate", "households", "population", *hh_cols]]
    num = st.column_config.NumberColumn(format="localized")
    labels = {"code": t("table.code", lg), "name": t("table.name", lg), "level": t("compare.col.level", lg),
              "people": t("fig.people", lg), "rate": t("fig.rate", lg), "households": t("fig.households", lg),
              "population": t("fig.population", lg), "hh_households": t("compare.col.hh_households", lg),
              "hh_tier1_share": t("compare.col.hh_tier1_share", lg)}
    hidden = [p.households is not None and (p.households["hidden"] or p.households["tiers"]["households"].isna().any())
              for p in profiles]
    config = {labels["people"]: num, labels["households"]: num, labels["population"]: num,
              labels["rate"]: st.column_config.NumberColumn(format="%.2f")}
    if households:
        config |= {labels["hh_households"]: num, labels["hh_tier1_share"]: st.column_config.NumberColumn(format="%.1f")}
    if any(hidden):  # household figures hidden for privacy read "< k", so these two columns become text
        shown = shown.assign(
            hh_households=[shown_count(v, p.households["k"]) if p.households is not None else "–"
                           for v, p in zip(shown["hh_households"], profiles)],
            hh_tier1_share=[shown_share(v) if p.households is not None else "–"
                            for v, p in zip(shown["hh_tier1_share"], profiles)])
        del config[labels["hh_households"]], config[labels["hh_tier1_share"]]
    figures = shown.rename(columns=labels)
    st.dataframe(figures, hide_index=True, key=f"{key}.figures", column_config=config, placeholder=NO_VALUE)
    k = next((p.households["k"] for p in profiles if p.households is not None), None)
    if k is not None:  # household figures are shown: say how they are protected
        st.caption(privacy_note(k, lg))
    table_downloads(figures, f"{t('nav.compare', lg)} · {', '.join(names)}", key=f"{key}.dl",
                    household_k=k)
    for p, name in zip(profiles, names):
        st.page_link("app_pages/profile.py", label=f"{t('profile.open', lg)}: {name}", query_params={"area": p.code})

    with_tpmap = [p for p in profiles if not p.tpmap_note]
    if with_tpmap:
        st.plotly_chart(charts.dimension_bars(with_tpmap, lg), theme=None, key=f"{key}.dims")
        st.caption(t("profile.dims_note", lg))
    with_hh = [(n, p) for n, p in zip(names, profiles) if p.households is not None]
    if with_hh:
        c1, c2 = st.columns(2)
        c1.plotly_chart(charts.capital_radar([(n, p.households["capitals"]["area"].tolist()) for n, p in with_hh], lg),
                        theme=None, key=f"{key}.radar")
        c2.plotly_chart(charts.tier_bars([(n, p.households["tiers"].sort_values("tier")["share"].tolist())
                                          for n, p in with_hh], lg, k=with_hh[0][1].households["k"]),
                        theme=None, key=f"{key}.tiers")
        if any(p.households["synthetic"] for _, p in with_hh):
            st.warning(t("synthetic.badge", lg))
    if not households:
        st.caption(t("profile.hh_withheld", lg))
    for n, p in zip(names, profiles):
        if p.households is None and households:
            st.caption(f"{n}: {t('profile.no_households', lg)}")
        if p.tpmap_note:
            st.caption(f"{n}: {t(f'reason.{p.tpmap_note}', lg)}")
