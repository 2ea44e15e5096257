"""Admin (ผู้ดูแลระบบ): roles, what guests may see, and the audit log. In the menu for admins only; the page and
every operation on it check the role again."""
from __future__ import annotations

from datetime import datetime

import streamlit as st

from app_pages._auth import address, current_user
from app_pages._downloads import table_downloads
from app_pages._ui import NO_VALUE, credits_footer, lang
from povmap.core.access import Action, Role, clean_provinces
from povmap.core.errors import PovmapError
from povmap.core.i18n import t
from povmap.core.thai import fmt_datetime
from povmap.present import exports
from povmap.userdb import audit, roles
from povmap.userdb.db import user_database

K = "admin."
AUDIT_SHOWN = 2000  # rows on the page; the downloads hold the whole log
lg = lang()
ss = st.session_state
user = current_user()
db = user_database()
if not user.can(Action.READ_AUDIT):
    st.error(t("error.access.read_audit", lg))
    st.stop()

st.title(t("nav.admin", lg))
if msg := ss.pop(K + "flash", None):
    st.success(msg)

# ---- roles ---------------------------------------------------------------------------------------
st.subheader(t("admin.roles", lg))
st.caption(t("admin.roles_help", lg))
try:
    grants = roles.grants_table(db)
except PovmapError as exc:
    st.error(exc.message(lg))
    st.stop()
role_label = {r.value: t(f"role.{r.value}", lg) for r in Role}
if grants.empty:  # (an empty grid says "empty" in English whatever the language)
    st.caption(t("admin.no_grants", lg))
else:
    st.dataframe(exports.neutralise(grants.assign(
        role=grants["role"].map(role_label),
        granted_at=[fmt_datetime(datetime.fromisoformat(x), lg) for x in grants["granted_at"]],
    ).rename(columns={"user_id": t("admin.col.user", lg), "role": t("admin.col.role", lg),
                      "provinces": t("admin.col.provinces", lg), "granted_by": t("admin.col.granted_by", lg),
                      "granted_at": t("admin.col.granted_at", lg)})), hide_index=True, placeholder=NO_VALUE)
with st.form(f"{K}grant", border=True):
    c1, c2, c3 = st.columns([3, 2, 2])
    who = c1.text_input(t("admin.col.user", lg), placeholder="name@example.org", max_chars=200)
    role = c2.selectbox(t("admin.col.role", lg), [r.value for r in Role if r != Role.GUEST], format_func=role_label.get)
    provinces = c3.text_input(t("admin.col.provinces", lg), placeholder="46, 49", help=t("admin.provinces_help", lg))
    if st.form_submit_button(t("admin.grant", lg), type="primary"):
        try:
            codes = clean_provinces(provinces)
            if not who.strip() or (role == Role.STEWARD and not codes):
                raise ValueError(who)
            roles.grant(db, who, Role(role), codes, by=user, address=address())
        except ValueError:
            st.error(t("admin.grant_invalid", lg))
        except PovmapError as exc:
            st.error(exc.message(lg))
        else:
            ss[K + "flash"] = t("admin.granted", lg, user=who.strip().lower(), role=role_label[role])
            st.rerun()
if len(grants):
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    gone = c1.selectbox(t("admin.revoke_who", lg), grants["user_id"].tolist(), key=f"{K}revoke_who")
    if c2.button(t("admin.revoke", lg), key=f"{K}revoke"):
        roles.revoke(db, gone, by=user, address=address())
        ss[K + "flash"] = t("admin.revoked", lg, user=gone)
        st.rerun()

# ---- what guests see -------------------------------------------------------------------------------
st.subheader(t("admin.guests", lg))
allowed = bool(roles.setting(db, roles.GUESTS_SEE_HOUSEHOLDS, False))
want = st.toggle(t("admin.guests_households", lg), value=allowed, key=f"{K}guests", help=t("admin.guests_help", lg))
if want != allowed:
    roles.set_setting(db, roles.GUESTS_SEE_HOUSEHOLDS, want, by=user, address=address())
    ss[K + "flash"] = t("admin.saved", lg)
    st.rerun()
st.page_link("app_pages/data.py", label=t("admin.defaults_on_data", lg), icon=":material/database:")

# ---- the audit log --------------------------------------------------------------------------------
st.subheader(t("admin.audit", lg))
st.caption(t("admin.audit_help", lg))
log = audit.entries(db, by=user)
actions = sorted(log["action"].unique())
c1, c2 = st.columns(2)
only = c1.multiselect(t("admin.audit_actions", lg), actions, format_func=lambda a: t(f"audit.{a}", lg),
                      key=f"{K}actions")
person = c2.text_input(t("admin.audit_user", lg), key=f"{K}person", max_chars=200)
shown = log
if only:
    shown = shown[shown["action"].isin(only)]
if person.strip():
    shown = shown[shown["user_id"].str.contains(person.strip().lower(), regex=False)]
labels = {"id": "#", "at": t("admin.col.at", lg), "user_id": t("admin.col.user", lg),
          "user_name": t("admin.col.name", lg), "role": t("admin.col.role", lg), "action": t("admin.col.action", lg),
          "target": t("admin.col.target", lg), "detail": t("admin.col.detail", lg),
          "address": t("admin.col.address", lg)}
table = shown.assign(at=[fmt_datetime(datetime.fromisoformat(x), lg) for x in shown["at"]],
                     action=[t(f"audit.{a}", lg) for a in shown["action"]],
                     role=shown["role"].map(role_label)).rename(columns=labels)
st.caption(t("admin.audit_count", lg, count=len(shown), total=len(log)))
if len(table):
    st.dataframe(exports.neutralise(table.head(AUDIT_SHOWN)), hide_index=True, placeholder=NO_VALUE)
    table_downloads(table, t("admin.audit", lg), key=f"{K}dl.audit")
credits_footer()
