"""The map's web folder: the files the browser fetches once and caches (see ``povmap.web.maplayer``).

Layout: ``index.html`` and ``map.js`` (the component, copied from ``app_pages/map_component``),
``deck.js`` (the deck.gl modules the map uses, bundled from the npm registry's packages at install by
``make bundle`` into ``web/build/deck.js``: no CDN at run time) and ``geo/<store key>/<chunk>.bin``
(geometry, written on first use). Streamlit serves the
folder as a component; it refuses symlinks leading out of it, so files are copied. Every write is
atomic (temporary file, then rename), so concurrent sessions and servers sharing the folder never
see half a file.

Nothing is written when a module is imported: :func:`open_web` writes the folder on first use. Where the
folder's own place cannot be written (a read-only install), it goes to the user's :data:`FALLBACK_DIR`, one
folder reused by every process, so none is left behind per process. A missing deck.gl bundle (``make bundle`` not
run) is a :class:`MapWebError` naming the file, never a map that silently stays blank.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

from povmap.core.errors import PovmapError
from povmap.web.maplayer import GeoChunk

# Built by `make bundle` (web/package.json, web/deck-entry.js); derived, so git ignores it. A missing file stops the
# map loudly, naming the command that builds it.
DECK_BUNDLE = Path(__file__).resolve().parents[2] / "web" / "build" / "deck.js"
DECK_NAME = "deck.js"
STALE_GEO_S = 24 * 3600  # geometry of other store builds is removed after a day
# The web folder of a read-only install: the user's cache folder, one for every process (never a temporary folder
# per process, which a killed server would leave behind).
FALLBACK_DIR = Path(os.path.expanduser("~")) / ".cache" / "povmap" / "web"


class MapWebError(PovmapError):
    """The map's web folder cannot be made (deck.gl missing, or no writable place for the folder)."""


def check_deck_bundle(bundle: Path | None = None) -> Path:
    """The deck.gl bundle the map loads, or a :class:`MapWebError` naming the file that is missing."""
    bundle = Path(DECK_BUNDLE if bundle is None else bundle)
    if not bundle.is_file():
        raise MapWebError("error.mapweb.no_deck", bundle=bundle)
    return bundle


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def store_key(version: str) -> str:
    """A short, URL-safe name for one store build (its geometry never changes)."""
    return hashlib.sha1(version.encode("utf-8")).hexdigest()[:12]


def install_assets(root: Path, component_dir: Path) -> int:
    """Copy the component's files and deck.gl's bundle into ``root``, where they differ; the number of files written.

    Raises :class:`MapWebError` when the deck.gl bundle is missing, :class:`OSError` when ``root`` cannot be written."""
    bundle = check_deck_bundle()
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    written = 0
    for src in [*sorted(p for p in Path(component_dir).iterdir() if p.is_file()), bundle]:
        dst = root / (DECK_NAME if src == bundle else src.name)
        try:
            same = dst.stat().st_size == src.stat().st_size and dst.read_bytes() == src.read_bytes()
        except OSError:
            same = False
        if not same:
            _write_atomic(dst, src.read_bytes())
            written += 1
    return written


def open_web(root: Path, version: str, component_dir: Path) -> "MapWeb":
    """The web folder for the store build ``version``, its files installed now (first use, never at import).

    ``root`` is the configured folder (``POVMAP_WEB`` or ``<store>.web``); where it cannot be written, the folder
    is :data:`FALLBACK_DIR`. Raises :class:`MapWebError` when deck.gl is missing or neither place can be written."""
    failures = []
    for place in dict.fromkeys(p for p in (Path(root), FALLBACK_DIR) if p.is_absolute()):  # "~" unknown: no fallback
        web = MapWeb(place, version, component_dir)
        try:
            web.install()
        except OSError as exc:
            failures.append(f"{place} ({exc.strerror or exc})")
            continue
        web.drop_stale_geometry()
        return web
    tried = "; ".join(failures)
    raise MapWebError("error.mapweb.cannot_write", tried=tried)


class MapWeb:
    """The web folder at ``root`` for the store build ``version``, with the component's files from ``component_dir``."""

    def __init__(self, root: Path, version: str, component_dir: Path):
        self.root = Path(root)
        self.key = store_key(version)
        self.component_dir = Path(component_dir)
        self._lock = threading.Lock()
        self._assets = (DECK_NAME, *sorted(p.name for p in self.component_dir.iterdir() if p.is_file()))
        # Counts the files this object has (re)written. The map passes it to the browser with every rerun: after a
        # rerun that healed the folder the component's arguments differ, so Streamlit hands it a new render and
        # the browser fetches again what failed before (it sends identical arguments to a component only once).
        self.revision = 0

    def install(self) -> None:
        """Copy the component's files and deck.gl in, where they differ (an upgrade brings a new ``map.js``)."""
        with self._lock:
            self.revision += install_assets(self.root, self.component_dir)

    def ensure_assets(self) -> None:
        """Put the component's files back if the folder was removed under a running server (it is derived)."""
        if not all((self.root / name).exists() for name in self._assets):
            self.install()

    def drop_stale_geometry(self) -> None:
        """Remove the geometry of other store builds, once untouched for a day (a server may still use it)."""
        geo = self.root / "geo"
        if not geo.is_dir():
            return
        for d in geo.iterdir():
            try:
                if d.name != self.key and time.time() - d.stat().st_mtime > STALE_GEO_S:
                    shutil.rmtree(d, ignore_errors=True)
            except OSError:
                pass

    def ensure(self, chunk: GeoChunk, data: Callable[[], bytes]) -> str:
        """The URL path (relative to the folder) of ``chunk``'s file, written from ``data()`` if missing."""
        rel = f"geo/{self.key}/{chunk.name}"
        path = self.root / rel
        if not path.exists():  # a stat per file and rerun: a folder removed under a running server heals
            with self._lock:
                if not path.exists():
                    path.parent.mkdir(parents=True, exist_ok=True)
                    _write_atomic(path, data())
                    self.revision += 1
        return rel
