"""The user database: saved scenarios, Area Managers, roles, settings and the audit log.

A SQLite file by default (one server, nothing to install); PostgreSQL when ``POVMAP_DATABASE_URL`` is set, so that
several servers share one state. Both get the same schema from the same Alembic migrations
(``povmap/userdb/migrations``). Every change is one transaction, and on both only one writer at a time: SQLite's
``BEGIN IMMEDIATE``, PostgreSQL's transaction advisory lock. That keeps "read, check, write" (a scenario's version, the
Area Manager table's) exact without per-table locking rules.

``db`` everywhere is a file path or a database URL (:func:`povmap.core.config.user_database`).
"""
from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from povmap.core.config import (DEFAULT_USER_DB, is_database_url, user_database,  # noqa: F401 - re-exported
                                user_db_path)
from povmap.core.errors import PovmapError

SCHEMA_VERSION = 2  # Alembic revisions 0001 .. 000N; a SQLite file also carries it as PRAGMA user_version
HEAD = f"{SCHEMA_VERSION:04d}"
MIGRATIONS = Path(__file__).with_name("migrations")
BUSY_TIMEOUT_MS = 30_000  # other sessions hold the write lock only for a single save
# How long an operation waits for an unreachable PostgreSQL to come back before it says so: a save waits out a
# restart or a fail-over; a page's reads (who is this user?) give up sooner, so the page says so and goes on.
SAVE_WAIT_S, READ_WAIT_S = 15.0, 2.0
WRITE_LOCK = 0x706F766D  # "povm": the advisory lock key of PostgreSQL write transactions

_engines: dict[str, sa.Engine] = {}
_ready: set[str] = set()  # PostgreSQL URLs whose schema is at HEAD (a file can be replaced: it is checked each time)
_guard = threading.Lock()


class UserDBError(PovmapError):
    """The user database cannot be opened, reached or is damaged; the message names it and the way out."""

    def __init__(self, path: Path | str, key: str, **params):
        self.path = str(path)
        super().__init__(key, **params)

    def message(self, lang: str) -> str:
        return f"{self.path}: {super().message(lang)}" if self.path else super().message(lang)



def insert_sql(table: str, columns, returning: str = "") -> sa.TextClause:
    """An INSERT of one row, a named parameter per column (``:column``), optionally RETURNING ``returning``."""
    cols = list(columns)
    sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)})"
    return sa.text(sql + (f" RETURNING {returning}" if returning else ""))


def shown(db) -> str:
    """The database as the user may see it: the file, or the URL without its password."""
    return sa.make_url(db).render_as_string(hide_password=True) if is_database_url(db) else str(db)


def engine(db) -> sa.Engine:
    """The process's engine for ``db`` (SQLAlchemy pools and engines are thread-safe)."""
    key = str(db)
    with _guard:
        if key not in _engines:
            _engines[key] = _postgres_engine(db) if is_database_url(db) else _sqlite_engine(Path(db))
        return _engines[key]


def dispose(db) -> None:
    """Close this process's connections to ``db`` (a test's throw-away database; a server that stops)."""
    with _guard:
        eng = _engines.pop(str(db), None)
        _ready.discard(str(db))
    if eng is not None:
        eng.dispose()


def _sqlite_engine(path: Path) -> sa.Engine:
    # A fresh connection per operation, as before: cheap for a file, and nothing to go stale when it is replaced.
    eng = sa.create_engine(f"sqlite:///{path}", poolclass=sa.pool.NullPool)

    @sa.event.listens_for(eng, "connect")
    def _setup(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # transactions are begun below, so a write can take its lock up front
        dbapi_conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        dbapi_conn.execute("PRAGMA foreign_keys = ON")
        _use_wal(dbapi_conn)
        dbapi_conn.execute("PRAGMA synchronous = FULL")  # saves are rare and precious: survive power loss too

    @sa.event.listens_for(eng, "begin")
    def _begin(conn):
        # BEGIN IMMEDIATE takes the write lock at once, so reads made inside (is this name taken?) still hold at
        # the write, and waiting writers use the busy timeout. Reads get one snapshot.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")

    return eng


def _postgres_engine(url: str) -> sa.Engine:
    return sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10, pool_timeout=30,
                            connect_args={"connect_timeout": 5, "application_name": "povmap"})


def connect(db, wait: float | None = None) -> sa.Connection:
    """A new connection to a database whose schema is current (the caller closes it)."""
    eng = engine(db)
    with translate_errors(db):
        conn = _open(eng, db, READ_WAIT_S if wait is None else wait)
        try:
            _migrate(conn, db)
        except BaseException:
            conn.close()
            raise
    return conn


@contextmanager
def transaction(db) -> Iterator[sa.Connection]:
    """One write transaction on a fresh connection: all of it is committed, or none of it.

    Writers take one lock first (see the module's docstring) and readers go on meanwhile.
    """
    with translate_errors(db):
        conn = connect(db, SAVE_WAIT_S).execution_options(write=True)
        try:
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": WRITE_LOCK})
                yield conn
        finally:
            conn.close()


@contextmanager
def reading(db) -> Iterator[sa.Connection]:
    """A fresh connection for reads, in one transaction (one committed state)."""
    with translate_errors(db):
        conn = connect(db)
        try:
            yield conn
        finally:
            conn.close()


def _open(eng: sa.Engine, db, wait: float) -> sa.Connection:
    """Connect; while PostgreSQL is unreachable (restarting, failing over) try again for ``wait`` seconds."""
    if not is_database_url(db):
        try:
            Path(db).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _cannot_open(db, exc) from exc
        return eng.connect()
    deadline, pause = time.monotonic() + wait, 0.1
    while True:
        try:
            return eng.connect()
        except sa.exc.DBAPIError as exc:
            if not unavailable(exc) or time.monotonic() + pause > deadline:
                raise
            time.sleep(pause)  # a bounded back-off between attempts, not a wait for a signal
            pause = min(pause * 2, 1.0)


def unavailable(exc: BaseException) -> bool:
    """Whether a PostgreSQL error means the server cannot be reached now (not that a statement is wrong)."""
    if getattr(exc, "connection_invalidated", False):
        return True
    orig = getattr(exc, "orig", exc)
    state = getattr(orig, "sqlstate", None) or ""
    if state:  # 08: connection exception; 57P01-03: shutting down, crashed, not accepting connections yet
        return state.startswith(("08", "57P"))
    # No SQLSTATE: the client could not connect or lost the connection (psycopg's own errors).
    return type(orig).__module__.startswith("psycopg") and type(orig).__name__ in ("OperationalError",
                                                                                  "InterfaceError")


@contextmanager
def translate_errors(db) -> Iterator[None]:
    """Turn what the database says about itself (damaged, unopenable, busy, full, unreachable) into a
    :class:`UserDBError` the user can act on; errors in our SQL stay as they are."""
    try:
        yield
    except sa.exc.DBAPIError as exc:
        mapped = _translated(db, exc)
        if mapped is None:
            raise
        raise mapped from exc


def _translated(db, exc: sa.exc.DBAPIError) -> UserDBError | None:
    orig = exc.orig
    if is_database_url(db):
        # Without the address: the user cannot act on it; the server's log has it (and never the password).
        return UserDBError("", "error.userdb.unavailable") if unavailable(exc) else None
    if not isinstance(orig, sqlite3.DatabaseError):
        return None
    name = getattr(orig, "sqlite_errorname", "")
    if name in ("SQLITE_NOTADB", "SQLITE_CORRUPT") or "malformed" in str(orig) or "not a database" in str(orig):
        return _damaged(db, orig)
    if name == "SQLITE_CANTOPEN":
        return _cannot_open(db, orig)
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return UserDBError(db, "error.userdb.busy")
    if name.startswith(("SQLITE_FULL", "SQLITE_READONLY", "SQLITE_IOERR", "SQLITE_PERM")):
        return UserDBError(db, "error.userdb.cannot_write", exc=orig)
    return None


def _use_wal(dbapi_conn: sqlite3.Connection) -> None:
    """Switch to WAL, so readers (other sessions listing scenarios) go on while one session saves.

    SQLite answers this pragma with SQLITE_BUSY at once, without its busy handler, while another
    connection is opening the same new file; so wait here the way the busy timeout would.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            dbapi_conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if not getattr(exc, "sqlite_errorname", "").startswith("SQLITE_BUSY") or time.monotonic() > deadline:
                raise
            time.sleep(0.005)


# ---- the schema ---------------------------------------------------------------------------------------------------

def _migrate(conn: sa.Connection, db) -> None:
    """Bring the schema to HEAD, once, whoever gets there first (other sessions and servers wait on the lock)."""
    if _current(conn, db):
        return
    with conn.execution_options(write=True).begin():
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": WRITE_LOCK})
        revision = _revision(conn)  # again: another process may have migrated while we waited for the lock
        if revision != HEAD:
            _upgrade(conn, db, revision)
    conn.execution_options(write=False)
    if conn.dialect.name == "postgresql":
        _ready.add(str(db))


def _current(conn: sa.Connection, db) -> bool:
    if conn.dialect.name == "sqlite":
        version = conn.exec_driver_sql("PRAGMA user_version").scalar()
        conn.rollback()
        if version > SCHEMA_VERSION:
            raise UserDBError(db, "error.userdb.newer", version=version, known=SCHEMA_VERSION)
        return version == SCHEMA_VERSION
    return str(db) in _ready


def _revision(conn: sa.Connection) -> str | None:
    """The schema's Alembic revision; a SQLite file from before Alembic has only its PRAGMA user_version."""
    if sa.inspect(conn).has_table("alembic_version"):
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    if conn.dialect.name == "sqlite":
        version = conn.exec_driver_sql("PRAGMA user_version").scalar()
        return f"{version:04d}" if version else None
    return None


def _upgrade(conn: sa.Connection, db, revision: str | None) -> None:
    from alembic import command  # only when a schema changes: a new database, or a new povmap
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    known = {s.revision for s in ScriptDirectory.from_config(cfg).walk_revisions()}
    if revision is not None and revision not in known:
        raise UserDBError(shown(db), "error.userdb.newer", version=revision, known=HEAD)
    if revision is not None and not sa.inspect(conn).has_table("alembic_version"):
        command.stamp(cfg, revision)  # the file's tables are that revision's, made by povmap before Alembic
    command.upgrade(cfg, "head")
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _damaged(path, exc: Exception) -> UserDBError:
    # Never delete or rebuild it ourselves: it holds the user's saved work.
    aside = f"{Path(path).name}.damaged"
    return UserDBError(path, "error.userdb.damaged", exc=exc, aside=aside)


def _cannot_open(path, exc: Exception) -> UserDBError:
    return UserDBError(path, "error.userdb.cannot_open", exc=exc)
