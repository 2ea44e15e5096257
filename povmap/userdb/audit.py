"""The audit log: who did what, when and from which address. Append-only: SQLite triggers refuse any UPDATE or
DELETE of its rows (SQLite and PostgreSQL triggers), so no page, command or hand-made request can edit it.

Actions (``ACTIONS``): sign-in, dataset import/delete/publish, default-dataset and setting changes, role changes,
Area Manager edits, scenario changes, and every export of household-based figures.
"""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone

import pandas as pd
import sqlalchemy as sa

from povmap.core.access import Action, User, require
from povmap.userdb.db import insert_sql, reading, transaction

ACTIONS = ("sign_in", "dataset_import", "dataset_delete", "dataset_publish", "dataset_unpublish", "default_dataset",
           "setting", "role_grant", "role_revoke", "area_managers", "scenario_save", "scenario_overwrite",
           "scenario_rename", "scenario_delete", "export_households")
COLUMNS = ["id", "at", "user_id", "user_name", "role", "action", "target", "detail", "address"]


def record(conn_or_db, user: User, action: str, target: str = "", detail: dict | None = None, *,
           address: str = "") -> None:
    """Append one row. Pass the open connection of the change it records, so both are one transaction."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    row = dict(at=now(), user_id=user.id, user_name=user.name, role=str(user.role), action=action,
               target=str(target), address=address or "",
               detail=json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, default=str))
    sql = insert_sql("audit", row)
    if isinstance(conn_or_db, str | os.PathLike):
        with transaction(conn_or_db) as conn:
            conn.execute(sql, row)
    else:
        conn_or_db.execute(sql, row)


def seen(db: str | os.PathLike, user_id: str, action: str, target: str) -> bool:
    """Whether the log already holds this (user, action, target): one sign-in is recorded once."""
    with reading(db) as conn:
        return conn.execute(sa.text("SELECT 1 FROM audit WHERE user_id = :u AND action = :a AND target = :t LIMIT 1"),
                            {"u": user_id, "a": action, "t": target}).first() is not None


def entries(db: str | os.PathLike, *, by: User, limit: int | None = None) -> pd.DataFrame:
    """The log, newest first (admins only)."""
    require(by, Action.READ_AUDIT)
    sql = f"SELECT {', '.join(COLUMNS)} FROM audit ORDER BY id DESC" + (" LIMIT :n" if limit else "")
    with reading(db) as conn:
        rows = [tuple(r) for r in conn.execute(sa.text(sql), {"n": int(limit)} if limit else {})]
    return pd.DataFrame(rows, columns=COLUMNS).astype({c: str for c in COLUMNS if c != "id"})


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")
