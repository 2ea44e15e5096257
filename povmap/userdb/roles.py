"""The admin-managed roles table and the server's settings (the default datasets, whether guests see household
figures). Every change is checked against the acting user's role and recorded in the audit log in the same
transaction."""
from __future__ import annotations

import json
import os

import pandas as pd
import sqlalchemy as sa

from povmap.core.access import Action, Grant, Role, User, require
from povmap.userdb import audit
from povmap.userdb.db import reading, transaction

GUESTS_SEE_HOUSEHOLDS = "guests_see_households"
USER_PREF = "user"  # + ":<user id>": a signed-in user's own choices (dataset.<kind>, lang) as one JSON object


def grants(db: str | os.PathLike) -> list[Grant]:
    with reading(db) as conn:
        rows = conn.execute(sa.text("SELECT user_id, role, provinces FROM role_grant ORDER BY user_id")).all()
    return [Grant(uid, Role(role), frozenset(provinces.split())) for uid, role, provinces in rows]


def grants_table(db: str | os.PathLike) -> pd.DataFrame:
    cols = ["user_id", "role", "provinces", "granted_by", "granted_at"]
    with reading(db) as conn:
        rows = [tuple(r) for r in conn.execute(sa.text(f"SELECT {', '.join(cols)} FROM role_grant ORDER BY user_id"))]
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
        conn.execute(sa.text("INSERT INTO role_grant (user_id, role, provinces, granted_by, granted_at) "
                             "VALUES (:u, :r, :p, :b, :at) ON CONFLICT (user_id) DO UPDATE SET role = excluded.role, "
                             "provinces = excluded.provinces, granted_by = excluded.granted_by, "
                             "granted_at = excluded.granted_at"),
                     {"u": uid, "r": str(role), "p": provs, "b": by.id, "at": audit.now()})
        audit.record(conn, by, "role_grant", uid, {"role": str(role), "provinces": provs}, address=address)


def revoke(db: str | os.PathLike, user_id: str, *, by: User, address: str = "") -> bool:
    require(by, Action.MANAGE_ROLES)
    uid = user_id.strip().lower()
    with transaction(db) as conn:
        gone = conn.execute(sa.text("DELETE FROM role_grant WHERE user_id = :u"), {"u": uid}).rowcount == 1
        if gone:
            audit.record(conn, by, "role_revoke", uid, address=address)
    return gone


def setting(db: str | os.PathLike, key: str, default=None):
    with reading(db) as conn:
        row = conn.execute(_GET, {"k": key}).first()
    return default if row is None else json.loads(row[0])


def user_prefs(db: str | os.PathLike, user: User) -> dict[str, object]:
    """A signed-in user's own choices (``dataset.<kind>``, ``lang``), kept across reloads, tabs and sign-ins."""
    if not user.signed_in:
        return {}
    with reading(db) as conn:
        row = conn.execute(_GET, {"k": _prefs_key(user)}).first()
    return {} if row is None else json.loads(row[0])


def user_datasets(db: str | os.PathLike, user: User) -> dict[str, str]:
    """The datasets a signed-in user chose, per kind."""
    return {k.removeprefix("dataset."): v for k, v in user_prefs(db, user).items() if k.startswith("dataset.")}


def set_user_pref(db: str | os.PathLike, user: User, name: str, value) -> None:
    """Remember a signed-in user's own choice (their own setting: no role needed, changes nobody else's view)."""
    if not user.signed_in:
        return
    with transaction(db) as conn:
        row = conn.execute(_GET, {"k": _prefs_key(user)}).first()
        prefs = ({} if row is None else json.loads(row[0])) | {name: value}
        _put(conn, _prefs_key(user), prefs, user)


def set_user_dataset(db: str | os.PathLike, user: User, kind: str, dataset_id: str) -> None:
    set_user_pref(db, user, f"dataset.{kind}", dataset_id)


def _prefs_key(user: User) -> str:
    return f"{USER_PREF}:{user.id}"


def set_setting(db: str | os.PathLike, key: str, value, *, by: User, action: str = "setting",
                address: str = "") -> None:
    require(by, Action.SET_DEFAULTS)
    with transaction(db) as conn:
        _put(conn, key, value, by)
        audit.record(conn, by, action, key, {"value": value}, address=address)


_GET = sa.text("SELECT value FROM setting WHERE key = :k")


def _put(conn, key: str, value, by: User) -> None:
    conn.execute(sa.text("INSERT INTO setting (key, value, changed_by, changed_at) VALUES (:k, :v, :b, :at) "
                         "ON CONFLICT (key) DO UPDATE SET value = excluded.value, changed_by = excluded.changed_by, "
                         "changed_at = excluded.changed_at"),
                 {"k": key, "v": json.dumps(value, ensure_ascii=False), "b": by.id, "at": audit.now()})
