"""Numba-compiled libraries, imported with numba's on-disk cache turned on.

mapclassify decorates its kernels with ``numba.njit`` without ``cache=True``, so every new process compiles them
again: its eager signature costs ~3.5 s at import, which the first visitor after a server start waits for. Importing them while ``numba.njit`` defaults ``cache=True`` stores the machine code in the
package's ``__pycache__`` (or ``NUMBA_CACHE_DIR``) once; later processes load it. Written here because neither
library offers the option; the patch holds only for the duration of the import, under a lock. Not for esda: one of
its kernels takes another as an argument, which numba cannot cache (``povmap.pilot.spatial`` caches the others).
"""
from __future__ import annotations

import importlib
import sys
import threading

_lock = threading.Lock()


def import_cached(name: str):
    """``import name`` with numba kernels defined during the import cached on disk (a no-op without numba, or if
    the module is already imported)."""
    if name in sys.modules:
        return sys.modules[name]
    with _lock:
        try:
            import numba
        except ImportError:
            return importlib.import_module(name)
        plain = numba.njit

        def njit_cached(*args, **kwargs):
            kwargs.setdefault("cache", True)
            return plain(*args, **kwargs)

        numba.njit = njit_cached
        try:
            return importlib.import_module(name)
        finally:
            numba.njit = plain


def warm() -> None:
    """Compile and cache what the first page needs (run at install, so the first visitor does not pay it); esda's
    kernels are compiled (and now cached) by the server's own warm-up on first use."""
    import_cached("mapclassify")
