"""The admin-managed roles table and the server's settings (the default datasets, whether guests see household
figures). Every change is checked against the acting user's role and recorded in the audit log in the same
transaction."""
from __future__ import annotations

import json
import os

import pandas as pd

from povmap.core.access import Action, Grant, Role, User, require
from povmap.userdb import audit
from povmap.userdb.db import reading, transaction

GUESTS_SEE_HOUSEHOLDS = "guests_see_households"
USER_PREF = "user"  # + ":<user id>": a signed-in user's own choices (dataset.<kind>, lang) as one JSON object


def grants(db: str | os.PathLike) -> list[Grant]:
    with reading(db) as conn:
        rows = conn.execute("SELECT user_id, role, provinces FROM role_grant ORDER BY user_id").fetchall()
    return [Grant(uid, Role(role), frozenset(provinces.split())) for uid, role, provinces in rows]


def grants_table(db: str | os.PathLike) -> pd.DataFrame:
    cols = ["user_id", "role", "provinces", "granted_by", "granted_at"]
    with reading(db) as conn:
        rows = conn.execute(f"SELECT {', '.join(cols)} FROM role_grant ORDER BY user_id").fetchall()
    return pd.DataFrame(rows, columns=cols, dtype=str)


def grant(db: str | os.PathLike, user_id: str, role: Role, provinces=frozenset(), *, by: User,
          address: str = "") -> None:
    """Give ``user_id`` (an e-mail address) a role; replaces the grant the user had."""
    require(by, Action.MANAGE_ROLES)
    uid = user_id.strip().lower()
    if not uid:
        raise ValueError("user id is blank")
    role = Role(role)
    provs = " ".join(sorted(provinces)) if role == Role.STEWARD else ""
    with transaction(db) as conn:
        conn.execute("INSERT OR REPLACE INTO role_grant VALUES (?, ?, ?, ?, ?)",
                     (uid, str(role), provs, by.id, audit.now()))
        audit.record(conn, by, "role_grant", uid, {"role": str(role), "provinces": provs}, address=address)


def revoke(db: str | os.PathLike, user_id: str, *, by: User, address: str = "") -> bool:
    require(by, Action.MANAGE_ROLES)
    uid = user_id.strip().lower()
    with transaction(db) as conn:
        gone = conn.execute("DELETE FROM role_grant WHERE user_id = ?", (uid,)).rowcount == 1
        if gone:
            audit.record(conn, by, "role_revoke", uid, address=address)
    return gone


def setting(db: str | os.PathLike, key: str, default=None):
    with reading(db) as conn:
        row = conn.execute("SELECT value FROM setting WHERE key = ?", (key,)).fetchone()
    return default if row is None else json.loads(row[0])


def user_prefs(db: str | os.PathLike, user: User) -> dict[str, object]:
    """A signed-in user's own choices (``dataset.<kind>``, ``lang``), kept across reloads, tabs and sign-ins."""
    if not user.signed_in:
        return {}
    with reading(db) as conn:
        row = conn.execute("SELECT value FROM setting WHERE key = ?", (_prefs_key(user),)).fetchone()
    return {} if row is None else json.loads(row[0])


def user_datasets(db: str | os.PathLike, user: User) -> dict[str, str]:
    """The datasets a signed-in user chose, per kind."""
    return {k.removeprefix("dataset."): v for k, v in user_prefs(db, user).items() if k.startswith("dataset.")}


def set_user_pref(db: str | os.PathLike, user: User, name: str, value) -> None:
    """Remember a signed-in user's own choice (their own setting: no role needed, changes nobody else's view)."""
    if not user.signed_in:
        return
    with transaction(db) as conn:
        row = conn.execute("SELECT value FROM setting WHERE key = ?", (_prefs_key(user),)).fetchone()
        prefs = ({} if row is None else json.loads(row[0])) | {name: value}
        conn.execute("INSERT OR REPLACE INTO setting VALUES (?, ?, ?, ?)",
                     (_prefs_key(user), json.dumps(prefs, ensure_ascii=False), user.id, audit.now()))


def set_user_dataset(db: str | os.PathLike, user: User, kind: str, dataset_id: str) -> None:
    set_user_pref(db, user, f"dataset.{kind}", dataset_id)


def _prefs_key(user: User) -> str:
    return f"{USER_PREF}:{user.id}"


def set_setting(db: str | os.PathLike, key: str, value, *, by: User, action: str = "setting",
                address: str = "") -> None:
    require(by, Action.SET_DEFAULTS)
    with transaction(db) as conn:
        conn.execute("INSERT OR REPLACE INTO setting VALUES (?, ?, ?, ?)",
                     (key, json.dumps(value, ensure_ascii=False), by.id, audit.now()))
        audit.record(conn, by, action, key, {"value": value}, address=address)
