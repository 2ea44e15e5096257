"""Shared fixtures: the installed store (built once if missing) and the source folder."""
from __future__ import annotations

import pytest

from povmap.core.config import source_dir, store_dir
from povmap.core.engine import Engine
from povmap.data.datasource import open_engine
from povmap.data.install import install
from povmap.data.secrets import SECRET_FILE
from povmap.data.store import Store, StoreError


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
           "POVMAP_PRIVACY_K": None}
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
