"""The map's web folder: the files the browser fetches once and caches (see ``povmap.maplayer``).

Layout: ``index.html`` and ``map.js`` (the component, copied from ``app_pages/map_component``),
``deck.js`` (deck.gl, the bundle the ``pydeck`` package ships: no CDN, no second copy to keep
current) and ``geo/<store key>/<chunk>.json`` (geometry, written on first use). Streamlit serves the
folder as a component; it refuses symlinks leading out of it, so files are copied. Every write is
atomic (temporary file, then rename), so concurrent sessions and servers sharing the folder never
see half a file.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pydeck

from .maplayer import GeoChunk

DECK_BUNDLE = Path(pydeck.__file__).resolve().parent / "nbextension" / "static" / "index.js"
STALE_GEO_S = 24 * 3600  # geometry of other store builds is removed after a day


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def store_key(version: str) -> str:
    """A short, URL-safe name for one store build (its geometry never changes)."""
    return hashlib.sha1(version.encode("utf-8")).hexdigest()[:12]


def install_assets(root: Path, component_dir: Path) -> None:
    """Copy the component's files and deck.gl's bundle into ``root``, where they differ."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    for src in [*sorted(Path(component_dir).iterdir()), DECK_BUNDLE]:
        if not src.is_file():
            continue
        dst = root / ("deck.js" if src == DECK_BUNDLE else src.name)
        try:  # deck.js: its size is its version; our own small files: compare contents
            same = dst.stat().st_size == src.stat().st_size and (src == DECK_BUNDLE or dst.read_bytes() == src.read_bytes())
        except OSError:
            same = False
        if not same:
            _write_atomic(dst, src.read_bytes())


class MapWeb:
    """The web folder at ``root`` for the store build ``version``, with the component's files from ``component_dir``."""

    def __init__(self, root: Path, version: str, component_dir: Path):
        self.root = Path(root)
        self.key = store_key(version)
        self.component_dir = Path(component_dir)
        self._lock = threading.Lock()

    def ensure_assets(self) -> None:
        """Put the component's files back if the folder was removed under a running server (it is derived)."""
        if not (self.root / "deck.js").exists():
            with self._lock:
                install_assets(self.root, self.component_dir)

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

    def ensure(self, chunk: GeoChunk, text: Callable[[], str]) -> str:
        """The URL path (relative to the folder) of ``chunk``'s file, written from ``text()`` if missing."""
        rel = f"geo/{self.key}/{chunk.name}"
        path = self.root / rel
        if not path.exists():  # a stat per file and rerun: a folder removed under a running server heals
            with self._lock:
                if not path.exists():
                    path.parent.mkdir(parents=True, exist_ok=True)
                    _write_atomic(path, text().encode("utf-8"))
        return rel
