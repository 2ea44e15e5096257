"""Shared fixtures: the installed store (built once if missing), the source folder, and the user database on
SQLite and on a PostgreSQL server of the tests' own."""
from __future__ import annotations

import secrets
import sys
from pathlib import Path

import pytest

from povmap.core.config import source_dir, store_dir
from povmap.core.engine import Engine
from povmap.data.datasource import open_engine
from povmap.data.install import install
from povmap.data.secrets import SECRET_FILE
from povmap.data.store import Store, StoreError
from povmap.userdb import db as userdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # deploy/: the tests start the deployment's parts


@pytest.fixture(scope="session")
def src():
    path = source_dir()
    if not path.is_dir():
        pytest.fail(f"source folder {path} not found; set POVMAP_SOURCE")
    return path


@pytest.fixture(scope="session")
def store(src) -> Store:
    try:
        return Store(store_dir())
    except StoreError:
        install(src, store_dir(), log=None)
        return Store(store_dir())


@pytest.fixture(scope="session")
def engine(store, user_db) -> Engine:
    """The engine every face uses, on the built-in datasets (no imported dataset is in use in tests)."""
    return open_engine(store=store)


@pytest.fixture(scope="session", autouse=True)
def user_db(tmp_path_factory):
    """Tests never touch the user's own files: a throw-away scenario/Area Manager DB and imported-datasets
    folder per run, and the default privacy threshold (whatever the developer's shell sets)."""
    import os

    path = tmp_path_factory.mktemp("userdb") / "povmap.sqlite"
    user_data = tmp_path_factory.mktemp("user_datasets")
    # A fixed record-key secret, so the protected household figures are the same run after run (tests that make a
    # folder of their own get a new secret and must hold for any).
    (user_data / SECRET_FILE).write_bytes(b"povmap test record-key secret 32")
    env = {"POVMAP_USER_DB": str(path), "POVMAP_USER_DATA": str(user_data),
           "POVMAP_PRIVACY_K": None, "POVMAP_DATABASE_URL": None}
    old = {k: os.environ.get(k) for k in env}
    for k, v in env.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    yield path
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server of the tests' own (Debian ``postgresql``), started once per run when a test asks."""
    from deploy.cluster import Postgres

    pg = Postgres().init().start()
    yield pg
    pg.remove()


@pytest.fixture
def pg_url(postgres):
    """A new, empty schema in that server, as the database URL a server would be given."""
    schema = f"t_{secrets.token_hex(6)}"
    postgres.psql(f"CREATE SCHEMA {schema}")
    url = f"{postgres.url}?options=-csearch_path%3D{schema}"
    yield url
    userdb.dispose(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    """The user database on each backend: a new SQLite file, and a new PostgreSQL schema."""
    return tmp_path / "user.sqlite" if request.param == "sqlite" else request.getfixturevalue("pg_url")


@pytest.fixture
def db_file(tmp_path) -> Path:
    """A new SQLite user database, for what only a file has: damage, a busy lock, PRAGMAs."""
    return tmp_path / "user.sqlite"
