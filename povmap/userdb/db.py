"""The user's own SQLite database: saved scenarios and Area Manager coverage.

Unlike the data store it is written by the app and must survive restarts, so every change is one
transaction. Open a fresh connection per operation: sqlite3 connections must not cross threads, and
Streamlit runs each session in its own thread.
"""
from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from povmap.core.config import DEFAULT_USER_DB, user_db_path  # noqa: F401 - the path is a setting; re-exported for pages
from povmap.core.errors import PovmapError

SCHEMA_VERSION = 2
BUSY_TIMEOUT_MS = 30_000  # other sessions hold the write lock only for a single save

# Each entry upgrades the schema from version i to i + 1; append, never edit a released one.
_MIGRATIONS = [
    """
    CREATE TABLE scenario (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        name_key TEXT NOT NULL UNIQUE,          -- casefolded name: names are unique ignoring case
        frame TEXT NOT NULL,                    -- JSON
        settings TEXT NOT NULL,                 -- JSON
        result BLOB NOT NULL,                   -- parquet bytes of the shortlist
        result_object_columns TEXT NOT NULL,    -- JSON: what was dtype object (parquet reads it back as str)
        n_areas INTEGER NOT NULL,
        level TEXT NOT NULL,
        scope TEXT NOT NULL,
        store_version TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE area_manager (
        manager TEXT NOT NULL CHECK (manager <> ''),
        code TEXT NOT NULL CHECK (length(code) IN (2, 4, 6)),
        note TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (manager, code)
    );
    CREATE INDEX area_manager_code ON area_manager(code);
    """,
    # 2: many users (issue 14): owners and versions, roles, the admin's settings, the audit log.
    """
    ALTER TABLE scenario ADD COLUMN owner TEXT NOT NULL DEFAULT '';        -- user id; '' = saved before sign-in
    ALTER TABLE scenario ADD COLUMN owner_name TEXT NOT NULL DEFAULT '';
    ALTER TABLE scenario ADD COLUMN version INTEGER NOT NULL DEFAULT 1;    -- +1 on every change
    ALTER TABLE scenario ADD COLUMN changed_by TEXT NOT NULL DEFAULT '';
    CREATE TABLE area_manager_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        version INTEGER NOT NULL,               -- +1 on every change of the table
        changed_by TEXT NOT NULL,
        changed_at TEXT NOT NULL
    );
    INSERT INTO area_manager_state VALUES (1, 1, '', '');
    CREATE TABLE role_grant (
        user_id TEXT PRIMARY KEY CHECK (user_id <> ''),
        role TEXT NOT NULL CHECK (role IN ('guest', 'analyst', 'steward', 'admin')),
        provinces TEXT NOT NULL DEFAULT '',     -- a steward's province codes, space-separated
        granted_by TEXT NOT NULL,
        granted_at TEXT NOT NULL
    );
    CREATE TABLE setting (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,                    -- JSON
        changed_by TEXT NOT NULL,
        changed_at TEXT NOT NULL
    );
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,                       -- UTC, ISO 8601
        user_id TEXT NOT NULL,
        user_name TEXT NOT NULL,
        role TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL DEFAULT '',
        detail TEXT NOT NULL DEFAULT '{}',      -- JSON
        address TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX audit_at ON audit(at);
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    """,
]


def check_migrations(migrations: list[str], version: int) -> None:
    """One migration per schema version, so migrating from 0 reaches ``version`` (RuntimeError otherwise)."""
    if len(migrations) != version:
        raise RuntimeError(f"userdb has {len(migrations)} migrations for SCHEMA_VERSION {version}: "
                           "add the migration with the version, one per step")


check_migrations(_MIGRATIONS, SCHEMA_VERSION)


class UserDBError(PovmapError):
    """The user database cannot be opened or is damaged; the message names the file and the way out."""

    def __init__(self, path: Path | str, key: str, **params):
        self.path = str(path)
        super().__init__(key, **params)

    def message(self, lang: str) -> str:
        return f"{self.path}: {super().message(lang)}"




def connect(path: str | os.PathLike) -> sqlite3.Connection:
    """A new connection with WAL, a busy timeout, foreign keys and the current schema."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    except (OSError, sqlite3.Error) as exc:
        raise _cannot_open(path, exc) from exc
    try:
        with translate_errors(path):
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA foreign_keys = ON")
            _use_wal(conn)
            conn.execute("PRAGMA synchronous = FULL")  # saves are rare and precious: survive power loss too
            _migrate(conn, path)
    except BaseException:
        conn.close()
        raise
    # Back to Python's default so that ``with conn:`` starts and commits a transaction.
    conn.isolation_level = "DEFERRED"
    return conn


@contextmanager
def transaction(path: str | os.PathLike) -> Iterator[sqlite3.Connection]:
    """One write transaction on a fresh connection: all of it is committed, or none of it.

    ``BEGIN IMMEDIATE`` takes the write lock up front, so reads made inside (e.g. "is this name
    taken?") still hold when the write happens, and waiting writers use the busy timeout.
    """
    with closing(connect(path)) as conn, translate_errors(path):
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.rollback()
            raise
        conn.commit()


@contextmanager
def reading(path: str | os.PathLike) -> Iterator[sqlite3.Connection]:
    """A fresh connection for reads (each SELECT sees one committed state)."""
    with closing(connect(path)) as conn, translate_errors(path):
        yield conn


@contextmanager
def translate_errors(path: Path | str) -> Iterator[None]:
    """Turn SQLite's errors about the file (damaged, unopenable, locked, disk full, read-only) into
    a :class:`UserDBError` the user can act on; errors in our SQL stay as they are."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        name = getattr(exc, "sqlite_errorname", "")
        if name in ("SQLITE_NOTADB", "SQLITE_CORRUPT") or "malformed" in str(exc) or "not a database" in str(exc):
            raise _damaged(path, exc) from exc
        if name == "SQLITE_CANTOPEN":
            raise _cannot_open(path, exc) from exc
        if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
            raise UserDBError(path, "error.userdb.busy") from exc
        if name.startswith(("SQLITE_FULL", "SQLITE_READONLY", "SQLITE_IOERR", "SQLITE_PERM")):
            raise UserDBError(path, "error.userdb.cannot_write", exc=exc) from exc
        raise


def _use_wal(conn: sqlite3.Connection) -> None:
    """Switch to WAL, so readers (other sessions listing scenarios) go on while one session saves.

    SQLite answers this pragma with SQLITE_BUSY at once, without its busy handler, while another
    connection is opening the same new file; so wait here the way the busy timeout would.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if not getattr(exc, "sqlite_errorname", "").startswith("SQLITE_BUSY") or time.monotonic() > deadline:
                raise
            time.sleep(0.005)


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == SCHEMA_VERSION:
        return
    if version > SCHEMA_VERSION:
        raise UserDBError(path, "error.userdb.newer", version=version, known=SCHEMA_VERSION)
    conn.execute("BEGIN IMMEDIATE")
    try:
        # Another process may have migrated while we waited for the lock.
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        for i in range(version, SCHEMA_VERSION):
            for stmt in _statements(_MIGRATIONS[i]):
                conn.execute(stmt)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except BaseException:
        conn.rollback()
        raise
    conn.commit()


def _statements(script: str) -> Iterator[str]:
    """The statements of a migration, split where SQLite says one is complete (a trigger holds ';' inside)."""
    buf = ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            yield buf
            buf = ""
    if buf.strip():
        yield buf


def _damaged(path: Path | str, exc: Exception) -> UserDBError:
    # Never delete or rebuild it ourselves: it holds the user's saved work.
    aside = f"{Path(path).name}.damaged"
    return UserDBError(path, "error.userdb.damaged", exc=exc, aside=aside)


def _cannot_open(path: Path | str, exc: Exception) -> UserDBError:
    return UserDBError(path, "error.userdb.cannot_open", exc=exc)
