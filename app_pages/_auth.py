"""Who is using this session: Streamlit's own sign-in (``st.login``, OpenID Connect) turned into a povmap user.

Without an ``[auth]`` section in ``.streamlit/secrets.toml`` the app runs for one person on their own machine
(local mode): that person is an admin, and a connection from another address is a guest (``make run`` listens on
127.0.0.1 only). The roles and what each may do are in :mod:`povmap.core.access`.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import replace

import streamlit as st

from povmap.core import config
from povmap.core.access import LOCAL_USER, Action, Role, User, guest, user_from_claims
from povmap.core.i18n import t
from povmap.userdb import audit, roles
from povmap.userdb.db import UserDBError, user_database


def auth_configured() -> bool:
    """Whether sign-in is set up (an ``[auth]`` section in the secrets)."""
    try:
        return st.secrets.load_if_toml_exists() and "auth" in st.secrets
    except Exception:  # noqa: BLE001 - a secrets file that does not parse: local mode (Streamlit logs why)
        return False


def _remote() -> bool:
    """Whether the connection comes from another machine (Streamlit reports this machine as None)."""
    ip = st.context.ip_address
    return isinstance(ip, str) and ip != ""


def address() -> str:
    """The client's address for the audit log ("" on this machine)."""
    return st.context.ip_address if _remote() else ""


USER_KEY = "auth.user"  # the user of this run: read once per run by app.py (refresh_user), then reused
DB_DOWN_KEY = "auth.db_down"  # this run could not read the roles table: the user is a guest until it can


def refresh_user() -> User:
    """Read who this session's user is and what they may do, once per run (an admin's change of roles holds
    from the next run on); :func:`current_user` returns it for the rest of the run."""
    try:
        user = _read_user()
        st.session_state.pop(DB_DOWN_KEY, None)
    except UserDBError as exc:  # PostgreSQL restarting or failing over: public maps go on, nothing else
        logging.getLogger("povmap").warning("user database unavailable: %s", exc.message("en"))
        user, st.session_state[DB_DOWN_KEY] = guest(), True
    st.session_state[USER_KEY] = user
    return user


def current_user() -> User:
    """The user of this run (read by :func:`refresh_user` at the start of the run; a page run on its own, as in
    a test, reads it here)."""
    return st.session_state.get(USER_KEY) or refresh_user()


def _read_user() -> User:
    db = user_database()
    if not auth_configured():
        return guest() if _remote() else LOCAL_USER
    if not st.user.is_logged_in:
        return guest(households=bool(roles.setting(db, roles.GUESTS_SEE_HOUSEHOLDS, False)))
    claims = st.user.to_dict()
    user = user_from_claims(claims, roles.grants(db), claim=config.role_claim(), admins=config.admins())
    if user.role == Role.GUEST:  # signed in without a role: what the admin lets guests see
        user = replace(user, guests_see_households=bool(roles.setting(db, roles.GUESTS_SEE_HOUSEHOLDS, False)))
    _record_sign_in(db, user, claims)
    return user


def _record_sign_in(db, user: User, claims: dict) -> None:
    """One audit row per sign-in. The ID token's nonce (else its issue time) tells a new sign-in from another
    tab or a reload of the same one; the row names it by a short hash."""
    key = "auth.recorded"
    signed = hashlib.sha256(f"{user.id}|{claims.get('nonce') or claims.get('iat', '')}".encode()).hexdigest()[:12]
    if st.session_state.get(key) == signed:
        return
    if not audit.seen(db, user.id, "sign_in", signed):
        audit.record(db, user, "sign_in", signed, {"role": str(user.role), "provinces": sorted(user.provinces)},
                     address=address())
    st.session_state[key] = signed


def database_down() -> bool:
    """Whether this run could not read the user database (the user is a guest until it can)."""
    return bool(st.session_state.get(DB_DOWN_KEY))


def may(action: Action, provinces=None) -> bool:
    return current_user().can(action, provinces)


def sign_in_box(lang: str) -> None:
    """The sidebar's sign-in line: who is signed in, their role, and the button to sign in or out."""
    user = current_user()
    if not auth_configured():
        st.caption(t("auth.local", lang))
        return
    if database_down():  # no sign-in button that cannot work; the page itself says why (app.py)
        st.caption(t("auth.guest", lang))
        return
    if user.signed_in:
        role = t(f"role.{user.role}", lang)
        where = f" · {', '.join(sorted(user.provinces))}" if user.role == Role.STEWARD and user.provinces else ""
        st.caption(t("auth.signed_in_as", lang, name=user.label, role=role + where))
        if user.role == Role.GUEST:
            st.caption(t("auth.no_role", lang))
        st.button(t("auth.sign_out", lang), on_click=st.logout, key="auth.sign_out", icon=":material/logout:")
    else:
        st.caption(t("auth.guest", lang))
        st.button(t("auth.sign_in", lang), on_click=st.login, key="auth.sign_in", icon=":material/login:",
                  type="primary")
