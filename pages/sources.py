"""Data sources: what the store holds, how codes matched geothai, licences and credits."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from pages._ui import credits_footer, engine, lang
from povmap.groups import province_groups
from povmap.i18n import t
from povmap.thai import fmt_number

eng = engine()
if eng is None:
    st.stop()
lg = lang()
m = eng.store.manifest

st.title(t("nav.sources", lg))
st.markdown(f"**{t('sources.store', lg)}**: `{eng.store.path}` · {m['built_at']} · `{m['fingerprint']}`")

st.subheader(t("sources.coverage", lg))
cov = pd.DataFrame(m["coverage"]).T.reset_index(names="level")
st.dataframe(cov, hide_index=True)
st.caption(f"TPMAP → {fmt_number(sum(r['unplaced_people'] for r in m['coverage'].values()))} "
           f"{t('unit.people', lg)} · {t('reason.not_dopa_code', lg)}")

st.subheader(t("sources.boundary_notes", lg))
st.dataframe(eng.store.boundary_notes, hide_index=True)

st.subheader("PPAOS 20 / SRA 7")
st.dataframe(province_groups(), hide_index=True)

credits_footer()
