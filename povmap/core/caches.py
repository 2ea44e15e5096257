"""Bounded caches of derived indexes and results, each declared by the feature that uses it.

One engine is shared by every session of a server (one per store build and choice of datasets), so whatever
it remembers must be bounded. A feature declares its cache at module level, with its size and why::

    _FIGURES = Cache("profile.figures", maxsize=4, why="one table per level: country, province, district, subdistrict")

and reads through it: ``_FIGURES.get(engine, level, lambda: build(engine, level))``.

- **Bounded.** The entries live on the engine (:meth:`povmap.core.engine.Engine.memo`), so they go when it goes, in a
  :class:`cachetools.LRUCache` of the declared size: past it, the least recently used entry is dropped.
- **Keyed by the data version.** Every entry is stored under ``(version, key)``, the version being the engine's
  data source's ``version`` (store build, datasets in use, privacy threshold), read on every call. An entry is
  never served to another version of the data, even if a source changed under a live engine.
- **Thread-safe.** Streamlit runs sessions in threads. A lock guards each cache's bookkeeping; a lock per
  missing key makes the first caller compute while concurrent callers of the same key wait for its result
  instead of computing it again (the national contiguity graph takes seconds). ``compute`` runs outside the
  cache's lock, so a slow build never blocks hits on other keys. An exception is not cached.

:func:`declared` lists every cache with its bound and reason; :func:`sizes` gives an engine's current sizes.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

from cachetools import LRUCache

T = TypeVar("T")

_DECLARED: dict[str, "Cache"] = {}
_ATTR = "_povmap_caches"  # where an engine keeps its entries, one Entries per declared cache
_CREATE = threading.Lock()  # creating an engine's Entries of a cache (once)


@dataclass(frozen=True, eq=False)
class Cache:
    """A feature's cache: ``name`` (``<feature>.<what>``), ``maxsize`` entries at most, and ``why`` that size."""

    name: str
    maxsize: int
    why: str

    def __post_init__(self):
        if self.maxsize < 1:
            raise ValueError(f"cache {self.name}: maxsize must be at least 1")
        other = _DECLARED.get(self.name)
        if other is not None and (other.maxsize, other.why) != (self.maxsize, self.why):
            raise ValueError(f"cache name {self.name} is declared twice")
        _DECLARED[self.name] = self

    def get(self, engine, key: Hashable, compute: Callable[[], T]) -> T:
        """The entry of ``key`` for the engine's data version, computed by ``compute()`` on a miss."""
        return entries(engine, self).get(engine.data.version, key, compute)

    def entries(self, engine) -> "Entries":
        """This engine's entries of the cache."""
        return entries(engine, self)


class Entries:
    """One engine's entries of a declared :class:`Cache`: an LRU of ``(version, key) -> value``."""

    def __init__(self, cache: Cache):
        self.cache = cache
        self._lru: LRUCache = LRUCache(maxsize=cache.maxsize)
        self._lock = threading.Lock()
        self._building: dict[tuple, threading.Lock] = {}
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._lru)

    def keys(self) -> list[tuple]:
        """The ``(version, key)`` pairs held (in no particular order)."""
        with self._lock:
            return list(self._lru.keys())

    def clear(self) -> None:
        with self._lock:
            self._lru.clear()

    def _lookup(self, full: tuple) -> tuple[bool, Any]:
        """(found, value); the caller holds the lock. A hit refreshes the entry's recency."""
        try:
            value = self._lru[full]
        except KeyError:
            return False, None
        self.hits += 1
        return True, value

    def get(self, version: str, key: Hashable, compute: Callable[[], T]) -> T:
        full = (version, key)
        with self._lock:
            found, value = self._lookup(full)
            if found:
                return value
            building = self._building.setdefault(full, threading.Lock())
        with building:
            with self._lock:  # a caller we waited for may have built it
                found, value = self._lookup(full)
                if found:
                    return value
            try:
                value = compute()
            except BaseException:
                with self._lock:
                    if self._building.get(full) is building:
                        del self._building[full]
                raise
            with self._lock:
                self._lru[full] = value
                self.misses += 1
                if self._building.get(full) is building:
                    del self._building[full]
            return value


def entries(engine, cache: Cache) -> Entries:
    """The engine's :class:`Entries` of ``cache``, created on first use."""
    held = engine.__dict__.get(_ATTR)
    found = held.get(cache) if held is not None else None
    if found is not None:
        return found
    with _CREATE:
        held = engine.__dict__.setdefault(_ATTR, {})
        if cache not in held:
            held[cache] = Entries(cache)
        return held[cache]


def declared() -> dict[str, Cache]:
    """Every declared cache by name (those of the modules imported so far)."""
    return dict(sorted(_DECLARED.items()))


def sizes(engine) -> dict[str, int]:
    """How many entries each declared cache holds on this engine (0 for one it has not used)."""
    held = dict(engine.__dict__.get(_ATTR) or {})
    return {name: (len(held[c]) if c in held else 0) for name, c in declared().items()}


class LazyDict(dict):
    """A dict that builds a missing value with ``factory(key)`` and keeps it."""

    def __init__(self, factory):
        super().__init__()
        self._factory = factory

    def __missing__(self, key):
        value = self[key] = self._factory(key)
        return value
