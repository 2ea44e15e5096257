"""Shared fixtures: the installed store (built once if missing) and the source folder."""
from __future__ import annotations

import pytest

from povmap.config import source_dir, store_dir
from povmap.install import install
from povmap.metrics import Engine
from povmap.store import Store, StoreError


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
def engine(store) -> Engine:
    return Engine(store)


@pytest.fixture(scope="session", autouse=True)
def user_db(tmp_path_factory):
    """Tests never touch the user's saved scenarios and Area Managers: one throw-away DB per run."""
    import os

    path = tmp_path_factory.mktemp("userdb") / "povmap.sqlite"
    old = os.environ.get("POVMAP_USER_DB")
    os.environ["POVMAP_USER_DB"] = str(path)
    yield path
    if old is None:
        os.environ.pop("POVMAP_USER_DB", None)
    else:
        os.environ["POVMAP_USER_DB"] = old
