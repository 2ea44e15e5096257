"""Data sources: what the store holds, how codes matched geothai, licences and credits."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages._downloads import table_downloads
from app_pages._ui import credits_footer, engine, lang
from povmap.core.groups import province_groups
from povmap.core.i18n import t
from povmap.core.thai import fmt_number
from povmap.core.vocab import LEVEL_BY_KEY
from povmap.present.explorer import area_name

eng = engine()
if eng is None:
    st.stop()
lg = lang()
m = eng.data.manifest
count = st.column_config.NumberColumn(format="localized")

st.title(t("nav.sources", lg))
st.markdown(f"**{t('sources.store', lg)}**: `{eng.data.path}` · {m['built_at']} · `{m['fingerprint']}`")

st.subheader(t("sources.coverage", lg))
cov = pd.DataFrame(m["coverage"]).T.reset_index(names="level")
cov["level"] = [LEVEL_BY_KEY[lv].label(lg) for lv in cov["level"]]
cov = cov.rename(columns={c: t(f"cov.{c}", lg) for c in cov.columns})
st.dataframe(cov, hide_index=True, column_config={c: count for c in cov.columns[1:]})
table_downloads(cov, t("sources.coverage", lg), key="sources.dl.coverage")
st.caption(f"{fmt_number(m['coverage']['subdistrict']['unplaced_people'])} {t('unit.people', lg)}: "
           f"{t('reason.not_dopa_code', lg)}")

st.subheader(t("sources.boundary_notes", lg))
notes = eng.data.boundary_notes.assign(
    level=lambda d: [LEVEL_BY_KEY[lv].label(lg) for lv in d["level"]],
    issue=lambda d: [t(f"note.{i}", lg) for i in d["issue"]])
st.dataframe(notes.rename(columns={"level": t("cov.level", lg), "code": t("table.code", lg),
                                   "issue": t("note.issue", lg), "detail": t("note.detail", lg)}), hide_index=True)

st.subheader(t("sources.groups", lg))
groups = province_groups()
groups = groups.assign(province=[area_name(eng, c, lg) for c in groups["province_code"]])[
    ["group", "province_code", "province", "phase", "source_note"]].rename(columns={
        "group": t("groups.group", lg), "province_code": t("table.code", lg), "province": t("groups.province", lg),
        "phase": t("groups.phase", lg), "source_note": t("groups.source_note", lg)})
st.dataframe(groups, hide_index=True)
table_downloads(groups, t("sources.groups", lg), key="sources.dl.groups")

credits_footer()
