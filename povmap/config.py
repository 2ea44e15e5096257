"""Where the source folder and the data store are (flags beat environment beat defaults)."""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# On the project's machines the shared data sits beside the repository.
DEFAULT_SOURCE = REPO_ROOT.parent / "shared" / "data"
DEFAULT_STORE = REPO_ROOT / "data" / "store"
PROVINCE_GROUPS_FILE = REPO_ROOT / "data" / "province_groups.csv"


def source_dir(override: str | os.PathLike | None = None) -> Path:
    """The source folder: ``--from`` flag, else ``POVMAP_SOURCE``, else ``../shared/data``."""
    return Path(override or os.environ.get("POVMAP_SOURCE") or DEFAULT_SOURCE).resolve()


def store_dir(override: str | os.PathLike | None = None) -> Path:
    """The installed data store: ``--store`` flag, else ``POVMAP_STORE``, else ``data/store``."""
    return Path(os.path.abspath(override or os.environ.get("POVMAP_STORE") or DEFAULT_STORE))


def web_dir(store: str | os.PathLike | None = None) -> Path:
    """Files the browser's map reads (its page, deck.gl, geometry): ``POVMAP_WEB``, else ``<store>.web`` beside
    the store. Derived like the store, so never in the repository."""
    env = os.environ.get("POVMAP_WEB")
    if env:
        return Path(os.path.abspath(env))
    s = store_dir(store)
    return s.with_name(s.name + ".web")
