"""The server's settings: one object, read from flags, then the environment, then the defaults.

Every environment variable povmap reads is named in :data:`ENV` (and the shell's locale, :func:`locale_lang`) and
read here only, so the app, the command line and the benches agree on where the data is and which privacy
threshold holds.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
# On the project's machines the shared data sits beside the repository.
DEFAULT_SOURCE = REPO_ROOT.parent / "shared" / "data"
DEFAULT_STORE = REPO_ROOT / "data" / "store"
DEFAULT_USER_DATA = REPO_ROOT / "data" / "user_datasets"
DEFAULT_USER_DB = REPO_ROOT / "data" / "povmap.sqlite"
PROVINCE_GROUPS_FILE = REPO_ROOT / "data" / "province_groups.csv"
DEFAULT_PRIVACY_K = 5
MIN_PRIVACY_K = 2  # k = 1 would hide nothing; 2 is the least that protects a single household

ENV = {
    "source": "POVMAP_SOURCE",  # the read-only source folder (../shared/data)
    "store": "POVMAP_STORE",  # the installed data store
    "web": "POVMAP_WEB",  # the map's web folder (derived)
    "user_data": "POVMAP_USER_DATA",  # imported datasets
    "user_db": "POVMAP_USER_DB",  # scenarios, Area Managers, roles, audit log: the SQLite file
    "database_url": "POVMAP_DATABASE_URL",  # the same in PostgreSQL, shared by several servers (wins over user_db)
    "privacy_k": "POVMAP_PRIVACY_K",  # smallest number of households a shown figure may rest on
    "admins": "POVMAP_ADMINS",  # e-mail addresses that are admins whatever the provider says (a new server's first)
    "role_claim": "POVMAP_ROLE_CLAIM",  # the provider's claim that lists a user's groups (default "groups")
    "browser": "BROWSER_PATH",  # Chromium for PNG/PDF exports (kaleido's and choreographer's convention)
}


def _env(name: str) -> str | None:
    return os.environ.get(ENV[name]) or None


def source_dir(override: str | os.PathLike | None = None) -> Path:
    """The source folder: ``--from`` flag, else ``POVMAP_SOURCE``, else ``../shared/data``."""
    return Path(override or _env("source") or DEFAULT_SOURCE).resolve()


def store_dir(override: str | os.PathLike | None = None) -> Path:
    """The installed data store: ``--store`` flag, else ``POVMAP_STORE``, else ``data/store``."""
    return Path(os.path.abspath(override or _env("store") or DEFAULT_STORE))


def web_dir(store: str | os.PathLike | None = None) -> Path:
    """Files the browser's map reads (its page, deck.gl, geometry): ``POVMAP_WEB``, else ``<store>.web`` beside
    the store. Derived like the store, so never in the repository."""
    env = _env("web")
    if env:
        return Path(os.path.abspath(env))
    s = store_dir(store)
    return s.with_name(s.name + ".web")


def user_data_dir(override: str | os.PathLike | None = None) -> Path:
    """Imported datasets: ``override``, else ``POVMAP_USER_DATA``, else ``data/user_datasets``."""
    return Path(os.path.abspath(override or _env("user_data") or DEFAULT_USER_DATA))


def user_db_path(override: str | os.PathLike | None = None) -> Path:
    """The SQLite user database: ``--user-db`` flag, else ``POVMAP_USER_DB``, else ``data/povmap.sqlite``."""
    return Path(os.path.abspath(override or _env("user_db") or DEFAULT_USER_DB))


def is_database_url(value) -> bool:
    """Whether a user database setting names a database server (a URL), not a SQLite file."""
    return isinstance(value, str) and "://" in value


def user_database(override: str | os.PathLike | None = None) -> Path | str:
    """The user database: ``override`` (a file or a database URL), else ``POVMAP_DATABASE_URL`` (PostgreSQL,
    ``postgresql+psycopg://user:password@host/name``), else the SQLite file of :func:`user_db_path`."""
    chosen = str(override) if override else _env("database_url")
    return chosen if is_database_url(chosen) else user_db_path(chosen)


def privacy_k(value: str | int | None = None) -> int:
    """The smallest number of households a shown figure may rest on: ``POVMAP_PRIVACY_K``, default 5.

    A server setting, not a page control: whoever views the app must not be able to lower it. A value that is
    no number gives the default; a value below 2 gives 2."""
    raw = str(value if value is not None else _env("privacy_k") or "").strip()
    try:
        k = int(raw) if raw else DEFAULT_PRIVACY_K
    except ValueError:
        return DEFAULT_PRIVACY_K
    return max(k, MIN_PRIVACY_K)


def admins() -> tuple[str, ...]:
    """Bootstrap admins: ``POVMAP_ADMINS``, e-mail addresses separated by commas or spaces."""
    return tuple(a.lower() for a in (_env("admins") or "").replace(",", " ").split())


def role_claim() -> str:
    """The identity provider's claim listing a user's groups: ``POVMAP_ROLE_CLAIM``, default ``groups``."""
    return _env("role_claim") or "groups"


def browser_path() -> str | None:
    """Chromium for exports: ``BROWSER_PATH`` if executable, else Debian's ``chromium`` on PATH."""
    env = _env("browser")
    if env and os.access(env, os.X_OK):
        return env
    return next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)


def locale_lang() -> str:
    """The command line's language: Thai when the shell's locale is Thai (``LC_ALL``, ``LC_MESSAGES`` or ``LANG``
    = th_…), else English."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name)
        if value:
            return "th" if value.lower().startswith("th") else "en"
    return "en"


@dataclass(frozen=True)
class Settings:
    """Where everything is and the privacy threshold, as one value (see :func:`load`)."""

    source: Path
    store: Path
    web: Path
    user_data: Path
    user_db: Path | str  # a SQLite file, or a PostgreSQL URL
    privacy_k: int


def load(*, source=None, store=None, user_data=None, user_db=None, privacy_k_value=None) -> Settings:
    """The settings now in force; each keyword overrides its environment variable (a command-line flag)."""
    return Settings(source=source_dir(source), store=store_dir(store), web=web_dir(store),
                    user_data=user_data_dir(user_data), user_db=user_database(user_db),
                    privacy_k=privacy_k(privacy_k_value))
