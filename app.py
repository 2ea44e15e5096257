"""povmap: the Streamlit entry point. Routes to the pages; the domain lives in ``povmap/``."""
from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st

from app_pages._auth import current_user, database_down, refresh_user, sign_in_box
from app_pages._ui import LANG_KEY, first_run, lang, warm_up_later
from povmap.core.access import Action
from povmap.core.i18n import DEFAULT_LANG, LANGS, t
from povmap.data.store import StoreError
from povmap.userdb import roles
from povmap.userdb.db import UserDBError, user_database

# A local icon: a ":material/…:" page icon is fetched from fonts.gstatic.com, which offline networks block.
st.set_page_config(page_title="povmap", page_icon=str(Path(__file__).parent / "static" / "favicon.png"), layout="wide")

# Less empty space above the title (Streamlit's default is 6rem): on a 768 px screen the map and legend start higher.
st.html("<style>[data-testid='stMainBlockContainer'] { padding-top: 3rem; }</style>")
refresh_user()  # who this run is for, read once (the roles table, the provider's claims)
if LANG_KEY not in st.session_state:  # a shared link may set the language (?lang=en), else the user's last choice
    wanted = st.query_params.get("lang") or roles.user_prefs(user_database(), current_user()).get("lang")
    st.session_state[LANG_KEY] = wanted if wanted in LANGS else DEFAULT_LANG

pages = [
    st.Page("app_pages/explorer.py", title=t("nav.explorer", lang()), icon=":material/map:", default=True),
    st.Page("app_pages/profile.py", title=t("nav.profile", lang()), url_path="profile", icon=":material/location_on:"),
    st.Page("app_pages/compare.py", title=t("nav.compare", lang()), url_path="compare", icon=":material/compare_arrows:"),
    st.Page("app_pages/pilot.py", title=t("nav.pilot", lang()), url_path="pilot", icon=":material/flag:"),
    st.Page("app_pages/areamanagers.py", title=t("nav.areamanagers", lang()), url_path="areamanagers",
            icon=":material/school:"),
    st.Page("app_pages/data.py", title=t("nav.data", lang()), url_path="data", icon=":material/database:"),
    st.Page("app_pages/sources.py", title=t("nav.sources", lang()), url_path="sources", icon=":material/menu_book:"),
    st.Page("app_pages/glossary.py", title=t("nav.glossary", lang()), url_path="glossary", icon=":material/help:"),
]
if current_user().can(Action.READ_AUDIT):  # absent for everyone else: /admin is then no page at all
    pages.append(st.Page("app_pages/admin.py", title=t("nav.admin", lang()), url_path="admin",
                         icon=":material/admin_panel_settings:"))
page = st.navigation(pages, position="sidebar")
# Pages live in app_pages/, not pages/: Streamlit treats a pages/ folder as the legacy page list,
# which ran /profile links without this entry point and lost the first click of a new server.
with st.sidebar:
    st.segmented_control(
        t("app.language", lang()), options=list(LANGS), key=LANG_KEY,
        format_func=lambda code: {"th": "ไทย", "en": "English"}[code], selection_mode="single",
        # kept for a signed-in user: signing in comes back to the app's root, which names no language
        on_change=lambda: roles.set_user_pref(user_database(), current_user(), "lang", lang()),
    )
    sign_in_box(lang())
if database_down():  # above the page, where a phone shows it too (its sidebar is closed)
    st.warning(t("auth.db_unavailable", lang()), icon=":material/cloud_off:")
try:
    page.run()
    warm_up_later()  # once per server, in the background, after a first page is on its way
except StoreError as exc:  # a store file went missing or was damaged while the app runs
    first_run(exc)
except UserDBError as exc:  # the user database is damaged, full or unreachable: its own message, in the user's language
    st.error(exc.message(lang()), icon=":material/error:")
except Exception:  # noqa: BLE001 - the user gets a message, the server log gets the traceback
    logging.getLogger("povmap").exception("page failed")
    st.error(t("error.unexpected", lang()))
