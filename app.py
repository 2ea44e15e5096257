"""povmap: the Streamlit entry point. Routes to the pages; the domain lives in ``povmap/``."""
from __future__ import annotations

import streamlit as st

from pages._ui import LANG_KEY, lang
from povmap.i18n import DEFAULT_LANG, LANGS, t

st.set_page_config(page_title="povmap", page_icon="🗺️", layout="wide")

if LANG_KEY not in st.session_state:
    st.session_state[LANG_KEY] = DEFAULT_LANG

pages = [
    st.Page("pages/explorer.py", title=t("nav.explorer", lang()), url_path="map", icon="🗺️", default=True),
    st.Page("pages/sources.py", title=t("nav.sources", lang()), url_path="sources", icon="📚"),
]
page = st.navigation(pages, position="sidebar")
# Widgets are created after st.navigation: before it, the very first run of a new server gives
# them another identity (the pages/ folder is probed), and a first click on them was lost.
with st.sidebar:
    st.segmented_control(
        t("app.language", lang()), options=list(LANGS), key=LANG_KEY,
        format_func=lambda code: {"th": "ไทย", "en": "English"}[code], selection_mode="single",
    )
page.run()
