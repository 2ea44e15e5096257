"""Glossary: the terms the pages use, explained in plain words (each has an anchor: /glossary#rate)."""
from __future__ import annotations

import streamlit as st

from app_pages._ui import credits_footer, lang
from povmap.core.i18n import t
from povmap.present.glossary import entries

lg = lang()
st.title(t("nav.glossary", lg))
st.caption(t("glossary.intro", lg))
for key, title, text in entries(lg):
    st.subheader(title, anchor=key)
    st.write(text)
credits_footer()
