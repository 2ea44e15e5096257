"""Data sources: what the store holds, how codes matched geothai, licences and credits."""
from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st

from app_pages._downloads import table_downloads
from app_pages._ui import NO_VALUE, credits_footer, engine, lang
from povmap.core.groups import province_groups
from povmap.core.i18n import t
from povmap.core.thai import buddhist_year, fmt_datetime, fmt_number
from povmap.core.vocab import LEVEL_BY_KEY, SCOPE_GROUP_BY_KEY
from povmap.present.explorer import area_name

eng = engine()
if eng is None:
    st.stop()
lg = lang()
m = eng.data.manifest
count = st.column_config.NumberColumn(format="localized")

st.title(t("nav.sources", lg))
# The store's folder and fingerprint are for whoever runs the server (`povmap data install` prints them).
st.markdown(f"**{t('sources.store', lg)}**: " + t("sources.built", lg, when=fmt_datetime(
    datetime.fromisoformat(m["built_at"]), lg)))

st.subheader(t("sources.coverage", lg))
cov = pd.DataFrame(m["coverage"]).T.reset_index(names="level")
cov["level"] = [LEVEL_BY_KEY[lv].label(lg) for lv in cov["level"]]
cov = cov.rename(columns={c: t(f"cov.{c}", lg) for c in cov.columns})
st.dataframe(cov, hide_index=True, column_config={c: count for c in cov.columns[1:]}, placeholder=NO_VALUE)
table_downloads(cov, t("sources.coverage", lg), key="sources.dl.coverage")
st.caption(f"{fmt_number(m['coverage']['subdistrict']['unplaced_people'])} {t('unit.people', lg)}: "
           f"{t('reason.not_dopa_code', lg)}")

st.subheader(t("sources.boundary_notes", lg))
notes = eng.data.boundary_notes.assign(
    level=lambda d: [LEVEL_BY_KEY[lv].label(lg) for lv in d["level"]],
    issue=lambda d: [t(f"note.{i}", lg) for i in d["issue"]])
st.dataframe(notes.rename(columns={"level": t("cov.level", lg), "code": t("table.code", lg),
                                   "issue": t("note.issue", lg), "detail": t("note.detail", lg)}), hide_index=True,
             placeholder=NO_VALUE)

st.subheader(t("sources.groups", lg))
st.caption(t("sources.groups_note", lg))
groups = province_groups()
groups = groups.assign(
    group=[SCOPE_GROUP_BY_KEY[g].label(lg) if g in SCOPE_GROUP_BY_KEY else g for g in groups["group"]],
    province=[area_name(eng, c, lg) for c in groups["province_code"]],
    phase=[str(buddhist_year(int(p))) if lg == "th" and p.isdigit() else p for p in groups["phase"]])[
    ["group", "province_code", "province", "phase"]].rename(columns={
        "group": t("groups.group", lg), "province_code": t("table.code", lg), "province": t("groups.province", lg),
        "phase": t("groups.phase", lg)})
st.dataframe(groups, hide_index=True, placeholder=NO_VALUE)
table_downloads(groups, t("sources.groups", lg), key="sources.dl.groups")

credits_footer()
