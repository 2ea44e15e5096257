"""Data (ข้อมูล): the datasets this session uses, switching, publishing and deleting them, and importing a file
after a check. Each control is drawn only for a role that may use it (:mod:`povmap.core.access`).

The page only shows what ``povmap.data.uploads`` decides: the check's report, then the import the user accepts.
Until "Import" is pressed nothing is written and the data in use stays as it is.
"""
from __future__ import annotations

import hashlib

import streamlit as st

from app_pages._auth import address, current_user
from app_pages._downloads import table_downloads
from app_pages._ui import NO_VALUE, SESSION_DATASETS, button_row, credits_footer, page_start, uploader_in
from povmap.core.access import Action
from povmap.core.errors import PovmapError
from povmap.core.i18n import t
from povmap.present.changeview import round_label
from povmap.core.privacy import privacy_text
from povmap.core.thai import fmt_number
from povmap.core.vocab import LEVEL_BY_KEY, LEVEL_KEYS
from povmap.data import uploads as U
from povmap.data.uploads.listing import datasets_table
from povmap.data.uploads.places import label as place_label
from povmap.data.uploads.visibility import can_manage, visible
from povmap.present import exports
from povmap.present.text import md_text
from povmap.userdb import dataops, roles
from povmap.userdb.db import user_database

K = "data."
MAX_QUESTIONS = 30  # distinct ambiguous names asked at once; the rest stay in the report
eng, lg, ps = page_start(K)
ss = st.session_state
store = eng.data.store
k = eng.privacy_k
db = user_database()
KIND_LABEL = {U.KIND_COUNTS: t("data.kind.tpmap", lg), U.KIND_HOUSEHOLDS: t("data.kind.households", lg)}

st.title(t("nav.data", lg))
st.info(privacy_text(k, lg), icon=":material/lock:")
if ss.get(K + "flash"):
    st.success(ss.pop(K + "flash"))

# ---- what is loaded, what is in use ------------------------------------------------------------
user = current_user()
st.caption(t("data.local_mode" if user.local else "data.session_note", lg))
chosen = ss.setdefault(SESSION_DATASETS, {})
in_use = {U.KIND_COUNTS: eng.data.counts_info.id, U.KIND_HOUSEHOLDS: eng.data.households_info.id}
for kind in U.KINDS:
    infos = visible(U.list_datasets(kind, store=store), user)
    if not infos:  # a guest and household files: nothing to list, nothing to pick
        continue
    active, default = in_use[kind], U.active_id(kind)
    st.subheader(KIND_LABEL[kind])
    st.dataframe(exports.neutralise(datasets_table(infos, active, lg, default)), hide_index=True,
                 placeholder=NO_VALUE)  # grid's own CSV
    broken = {d.id for d in infos if d.damaged}  # listed so it can be deleted; it cannot be used
    for d in infos:
        if d.damaged:
            st.warning(d.damage(lg), icon=":material/warning:")
    names = {d.id: round_label(d, lg) + (f" · {t('data.synthetic', lg)}" if d.synthetic else "") for d in infos}
    by_id = {d.id: d for d in infos}
    c1 = st.container()
    c2 = c3 = c4 = button_row()
    # The picker shows the dataset in use on the first visit and after an import or a delete (a widget's
    # value can only be set before the widget is drawn, hence the "set" note left by those actions).
    if ss.get(f"{K}use.{kind}") not in names or ss.pop(f"{K}set.{kind}", False):
        ss[f"{K}use.{kind}"] = active
    choice = c1.selectbox(t("data.use", lg), list(names), format_func=names.get, key=f"{K}use.{kind}")
    if c2.button(t("data.use_button", lg), key=f"{K}use_button.{kind}", disabled=choice in (active, *broken),
                 type="primary"):
        chosen[kind] = choice  # this session, and this signed-in user's next ones; nobody else's
        roles.set_user_dataset(db, user, kind, choice)
        if user.local:  # one person on their own machine: their choice is the server's, as the command line reads
            dataops.set_default_as(kind, choice, by=user, db=db, address=address())
        ss[K + "flash"] = t("data.now_using", lg, name=md_text(names[choice]), kind=KIND_LABEL[kind])
        st.rerun()
    if user.can(Action.SET_DEFAULTS) and not user.local:
        if c3.button(t("data.make_default", lg), key=f"{K}default.{kind}", disabled=choice in (default, *broken),
                     help=t("data.make_default_help", lg)):
            try:
                dataops.set_default_as(kind, choice, by=user, db=db, store=store, address=address())
                ss[K + "flash"] = t("data.default_set", lg, name=md_text(names[choice]), kind=KIND_LABEL[kind])
            except PovmapError as exc:
                ss[K + "flash"] = exc.message(lg)
            st.rerun()
    picked = by_id[choice]
    if can_manage(user, picked):  # only for the datasets this user may manage: absent otherwise
        if not picked.damaged:
            publish = not picked.published
            if c4.button(t("data.publish" if publish else "data.unpublish", lg), key=f"{K}publish.{kind}",
                         help=t("data.publish_help", lg)):
                try:
                    dataops.publish_as(picked.id, publish, by=user, db=db, address=address())
                    ss[K + "flash"] = t("data.published" if publish else "data.unpublished", lg,
                                        name=md_text(names[picked.id]))
                except PovmapError as exc:
                    ss[K + "flash"] = exc.message(lg)
                st.rerun()
        if st.button(t("data.delete", lg), key=f"{K}delete.{kind}", help=t("data.delete_help", lg)):
            ss[K + "confirm"] = choice
        if ss.get(K + "confirm") == picked.id:
            with st.container(border=True):
                st.warning(t("data.delete_confirm", lg, name=md_text(names[picked.id])))
                y, n, _ = st.columns([1.4, 1, 4])
                if y.button(t("data.delete_yes", lg), key=f"{K}delete_yes.{kind}", type="primary"):
                    try:
                        dataops.delete_as(picked.id, by=user, db=db, address=address())
                        ss[K + "flash"] = t("data.deleted", lg, name=md_text(names[picked.id]))
                    except PovmapError as exc:
                        ss[K + "flash"] = exc.message(lg)
                    ss.pop(K + "confirm", None)
                    chosen.pop(kind, None)
                    ss[f"{K}set.{kind}"] = True
                    st.rerun()
                if n.button(t("data.cancel", lg), key=f"{K}delete_no.{kind}"):
                    ss.pop(K + "confirm", None)
                    st.rerun()

if not user.can(Action.MANAGE_DATA):  # import and check: data stewards and admins only
    st.info(t("data.import_needs_role", lg), icon=":material/lock:")
    credits_footer()
    st.stop()

# ---- upload → check → accept or cancel ---------------------------------------------------------


def drop_report() -> None:
    """Forget the checked file, and the rows a large file's check staged on disk."""
    held = ss.pop(K + "report", None)
    if held:
        held[1].discard()


st.subheader(t("data.upload", lg))
kind = st.radio(t("data.kind", lg), list(U.KINDS), format_func=KIND_LABEL.get, horizontal=True, key=f"{K}kind")
st.caption(t(f"data.format.{kind}", lg, mb=U.UPLOAD_LIMIT_MB))
uploader_in(lg, ["csv", "txt", "xlsx"])
up = st.file_uploader(t("data.file", lg), type=["csv", "txt", "xlsx"], key=f"{K}file.{kind}")
if up is None:
    drop_report()
else:
    data = up.getvalue()
    sheets = []
    if up.name.lower().endswith(".xlsx"):
        try:
            sheets = U.sheet_names(data)
        except U.UploadProblem:
            sheets = []  # the check below reports what is wrong with the workbook
    a, b, c = st.columns(3)
    sheet = a.selectbox(t("data.sheet", lg), sheets, key=f"{K}sheet") if len(sheets) > 1 else None
    year = level = None
    if kind == U.KIND_COUNTS:
        year = b.number_input(t("data.year", lg), min_value=2000, max_value=2100, value=None, step=1,
                              placeholder=t("data.year_from_file", lg), key=f"{K}year")
        level = c.selectbox(t("data.level", lg), [None, *LEVEL_KEYS], key=f"{K}level",
                            format_func=lambda lv: t("data.level_auto", lg) if lv is None else LEVEL_BY_KEY[lv].label(lg))
    digest = hashlib.sha256(data).hexdigest()[:16]
    ask = (kind, up.name, digest, sheet, year, level)

    def run_check(choices: dict[str, str]) -> None:
        drop_report()
        with st.spinner(t("data.checking", lg)):
            ss[K + "report"] = (ask, U.check_upload(data, up.name, kind=kind, sheet=sheet, year=year, level=level,
                                                    choices=choices))
        ss[K + "choices"] = choices

    if st.button(t("data.check", lg), key=f"{K}check", type="primary", icon=":material/fact_check:"):
        run_check({})
    held = ss.get(K + "report")
    report = held[1] if held and held[0] == ask else None  # a report is for this file and these choices only

    if report is not None:
        ok = report.can_import(U.VALID_ROWS)
        (st.success if report.ok else st.warning if ok else st.error)(report.summary(lg))
        m1, m2, m3, m4 = st.columns(4)
        m1.metric(t("data.rows", lg), fmt_number(report.rows))
        m2.metric(t("data.accepted", lg), fmt_number(report.accepted))
        m3.metric(t("data.rejected", lg), fmt_number(report.rejected))
        m4.metric(t("data.problems", lg), fmt_number(len(report.problems)))
        if len(report.problems):
            st.markdown(f"**{t('data.problem_summary', lg)}**")
            st.dataframe(exports.neutralise(report.problem_summary(lg, codes=False)), hide_index=True,
                         placeholder=NO_VALUE)
            with st.expander(t("data.problem_list", lg, count=len(report.problems))):
                table = report.problem_table(lg)
                st.dataframe(exports.neutralise(table.head(2000)), hide_index=True, placeholder=NO_VALUE)
                table_downloads(table, t("data.problem_list", lg, count=len(table)), key=f"{K}dl.problems")
        questions = report.questions()
        if questions:  # names that fit several places: ask, then check again with the answers
            with st.container(border=True):
                st.markdown(f"**{t('data.ask', lg)}**")
                answers = dict(ss.get(K + "choices", {}))
                for i, (names, codes, n) in enumerate(questions[:MAX_QUESTIONS]):
                    pick = st.selectbox(t("data.ask_one", lg, names=names, count=n), [None, *codes],
                                        format_func=lambda c: t("data.ask_none", lg) if c is None else place_label(c),
                                        key=f"{K}ask.{digest}.{i}")
                    if pick:
                        answers[names] = pick
                if len(questions) > MAX_QUESTIONS:
                    st.caption(t("data.ask_more", lg, count=len(questions) - MAX_QUESTIONS))
                if st.button(t("data.ask_recheck", lg), key=f"{K}recheck", icon=":material/refresh:"):
                    run_check(answers)
                    st.rerun()
        if ok:  # a steward's file reaching past their provinces: said here, refused again on import
            try:
                dataops.check_import(report, by=user)
            except PovmapError as exc:
                st.error(exc.message(lg), icon=":material/lock:")
                ok = False
        if ok:
            with st.form(f"{K}accept"):
                mode = st.radio(t("data.mode", lg), list(U.MODES), key=f"{K}mode",
                                format_func=lambda m: t(f"data.mode.{m}", lg, count=report.rejected))
                f1, f2 = st.columns(2)
                name = f1.text_input(t("data.name", lg), value=up.name.rsplit(".", 1)[0], max_chars=120)
                source = f2.text_input(t("data.source", lg), value=up.name, max_chars=200)
                licence = f1.text_input(t("data.licence", lg), max_chars=300, placeholder=t("data.licence_hint", lg))
                definition = f2.text_input(t("data.definition", lg), max_chars=300,
                                           placeholder=t("data.definition_hint", lg), help=t("data.definition_help", lg))
                synthetic = f1.checkbox(t("data.is_synthetic", lg))
                go, stop = st.columns([1, 5])
                accept = go.form_submit_button(t("data.accept", lg), type="primary")
                cancel = stop.form_submit_button(t("data.cancel", lg))
            if accept:
                try:
                    with st.spinner(t("data.importing", lg)):
                        info = dataops.import_as(report, mode, by=user, db=db, address=address(),
                                                 name=name.strip() or None, source=source.strip() or None,
                                                 licence=licence.strip(), synthetic=synthetic,
                                                 definition=definition)
                except PovmapError as exc:
                    st.error(exc.message(lg))
                except OSError as exc:  # disk full, permissions: nothing was kept (the import is atomic)
                    st.error(t("data.import_failed", lg, error=str(exc)))
                else:
                    drop_report()
                    chosen[info.kind] = info.id  # the importer goes on with their file; nobody else's screen changes
                    roles.set_user_dataset(db, user, info.kind, info.id)
                    ss[f"{K}set.{info.kind}"] = True
                    ss[K + "flash"] = t("data.imported", lg, name=md_text(info.name), count=info.rows_accepted,
                                        kind=KIND_LABEL[info.kind])
                    st.rerun()
            if cancel:
                drop_report()
                st.info(t("data.cancelled", lg))

with st.expander(t("data.columns_help", lg)):
    st.markdown(U.aliases_markdown())
credits_footer()
