"""Area Managers: which universities or agencies already work where (edit in place, or import a CSV)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages._auth import address, current_user
from app_pages._map import area_map
from app_pages._ui import NO_VALUE, credits_footer, engine, lang, uploader_in
from povmap.core.access import Action
from povmap.core.errors import PovmapError
from povmap.core.i18n import t
from povmap.present import exports
from povmap.present.coverage import coverage_map
from povmap.present.html import legend_html
from povmap.present.profile import search_areas
from povmap.present.text import md_text
from povmap.userdb import areamanagers
from povmap.userdb.db import user_database
from povmap.web.maplayer import MAP_HEIGHT_PX

K = "am."
eng = engine()
if eng is None:
    st.stop()
lg = lang()
ss = st.session_state
db = user_database()
valid = set(eng.names.index)

st.title(t("nav.areamanagers", lg))
st.caption(t("am.intro", lg))
if msg := ss.pop(K + "flash", None):
    st.success(msg)
user = current_user()
editable = user.can(Action.EDIT_AREA_MANAGERS)
try:
    table = areamanagers.list_coverage(db)
    version = areamanagers.state(db)[0]
except PovmapError as exc:
    st.error(exc.message(lg))
    st.stop()

name = "name_th" if lg == "th" else "name_en"
# An empty cell is shown empty, never as "None"
shown = table.fillna("").assign(area=eng.names.reindex(table["code"])[name].fillna("").to_numpy())
labels = {"manager": t("am.manager", lg), "code": t("am.code", lg), "area": t("am.area", lg), "note": t("am.note", lg)}


def coverage_section() -> None:
    """Where the Area Managers work, on a map of the districts (as the saved table has it)."""
    st.subheader(t("am.map.title", lg), anchor=False)
    if table.empty:
        st.caption(t("am.map.empty", lg))
        return
    spec, legend = coverage_map(eng, table, lg)
    m, leg = st.columns([3, 2], gap="medium")
    with m:
        area_map(spec, eng, key=f"{K}map", height=MAP_HEIGHT_PX, lang=lg)
    leg.markdown(f"**{t('am.map.legend', lg)}**")  # categories: no class-range note under them
    leg.markdown(legend_html(legend, lang=lg, style="page"), unsafe_allow_html=True)
    leg.caption(t("am.map.note", lg))


if not editable:  # read-only for every role but admin: no editor, no import, nothing to send back
    st.caption(t("am.read_only", lg))
    st.dataframe(exports.neutralise(shown[["manager", "code", "area", "note"]].rename(columns=labels)), hide_index=True,
                 placeholder=NO_VALUE)
    coverage_section()
    credits_footer()
    st.stop()
# The table and version the editor starts from, kept until a save: a save made by someone else in between is
# refused with what they changed (nothing is lost), instead of one edit silently replacing the other.
base_key = f"{K}base.{ss.get(K + 'version', 0)}"
if base_key not in ss:
    ss[base_key] = (version, table)
base_version, base_table = ss[base_key]
# One editor key per saved version: after a save the editor starts from the stored table again.
# Neutralised for the grid's own "Download as CSV" (formulas), restored exactly before a save.
start = exports.neutralise(shown[["manager", "code", "area", "note"]].rename(columns=labels))
edited = st.data_editor(
    start, num_rows="dynamic",
    hide_index=True,
    key=f"{K}editor.{ss.get(K + 'version', 0)}", width="stretch",
    column_config={labels["code"]: st.column_config.TextColumn(help=t("am.code_help", lg), max_chars=6),
                   labels["area"]: st.column_config.TextColumn(disabled=True)}, placeholder=NO_VALUE)
if st.button(t("am.save", lg), type="primary", key=f"{K}save"):
    new = exports.restore(edited).rename(columns={v: k for k, v in labels.items()})[["manager", "code", "note"]]
    new = new.fillna("").astype(str)
    new = new[(new["manager"].str.strip() != "") | (new["code"].str.strip() != "")]  # blank rows the editor adds
    try:
        areamanagers.replace_all(db, new, valid_codes=valid, by=user, expected_version=base_version,
                                 base=base_table, address=address())
    except areamanagers.AreaManagerConflict as exc:
        ss[K + "conflict"] = exc  # shown below until the user reloads: their edits stay in the editor meanwhile
    except PovmapError as exc:
        st.error(exc.message(lg))
    else:
        ss.pop(K + "conflict", None)
        ss[K + "version"] = ss.get(K + "version", 0) + 1
        ss[K + "flash"] = t("am.saved", lg, count=len(new))
        st.rerun()

# ---- add one row by the area's name (saved at once) ----------------------------------------------
with st.container(border=True):
    st.markdown(f"**{t('am.add_title', lg)}**")
    query = st.text_input(t("am.find_area", lg), key=f"{K}find", max_chars=80)
    hits = dict(search_areas(query, lg, limit=20)) if query.strip() else {}
    if query.strip() and not hits:
        st.caption(t("profile.no_results", lg))
    # shown once something matches: an empty list would show Streamlit's own English "No options to select"
    code = st.selectbox(t("am.area", lg), list(hits), format_func=hits.get, key=f"{K}found") if hits else None
    manager = st.text_input(t("am.manager", lg), key=f"{K}new_manager", max_chars=200)
    note = st.text_input(t("am.note", lg), key=f"{K}new_note", max_chars=500)
    unsaved = not edited.equals(start)  # adding saves at once: it would reset the table's unsaved edits
    if unsaved:
        st.caption(t("am.unsaved_first", lg))
    if st.button(t("am.add", lg), key=f"{K}add", disabled=unsaved or not (code and manager.strip())):
        try:
            new = areamanagers.add(db, manager, code, note, valid_codes=valid, by=user, address=address())
        except PovmapError as exc:
            st.error(exc.message(lg))
        else:
            ss[K + "version"] = ss.get(K + "version", 0) + 1
            ss[K + "flash"] = t("am.added" if new else "am.already", lg, manager=md_text(manager.strip()),
                                    area=hits[code])  # a name typed by the user: shown as text, never markdown
            for k in ("find", "new_manager", "new_note"):
                ss.pop(f"{K}{k}", None)
            st.rerun()

if conflict := ss.get(K + "conflict"):
    st.error(conflict.message(lg))
    st.caption(t("am.conflict_hint", lg))
    if st.button(t("am.reload", lg), key=f"{K}reload", icon=":material/refresh:"):
        ss.pop(K + "conflict", None)
        ss.pop(base_key, None)
        ss[K + "version"] = ss.get(K + "version", 0) + 1
        st.rerun()

st.subheader(t("am.import", lg))
st.caption(t("am.import_help", lg))
uploader_in(lg, ["csv"])
up = st.file_uploader(t("am.import", lg), type=["csv"], key=f"{K}upload.{ss.get(K + 'version', 0)}",
                      label_visibility="collapsed")
if up is not None and st.button(t("am.import_go", lg), key=f"{K}import"):
    try:
        n = areamanagers.import_csv(db, up.getvalue(), valid_codes=valid, file_name=up.name, by=user,
                                    address=address())
    except PovmapError as exc:
        st.error(exc.message(lg))
    else:
        ss[K + "version"] = ss.get(K + "version", 0) + 1
        ss[K + "flash"] = t("am.imported", lg, count=n)
        st.rerun()
st.download_button(t("am.template", lg), data=pd.DataFrame(columns=["manager", "code", "note"]).to_csv(index=False),
                   file_name="area_managers.csv", mime="text/csv", on_click="ignore", key=f"{K}template")
coverage_section()
credits_footer()
