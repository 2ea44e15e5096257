"""What a server makes before its first visitor arrives (issue 16): ``serve.py`` runs :func:`warm_up` in a
background thread while Streamlit starts, so the first person to open a link after a restart does not wait for the
imports of the first page (~3 s), the store and engine, the map's web folder and the default view's figures.

Everything it makes is what the first run would make itself, in the same process-wide caches (``st.cache_resource``,
the engine's caches, the web folder's files); if it has not finished, the first run waits only for what is left.
"""
from __future__ import annotations

import logging
import time


def warm_up() -> None:
    """Import the first page's modules and build its shared state; never raises (the first run reports errors)."""
    t0 = time.perf_counter()
    log = logging.getLogger("povmap")
    try:
        # The explorer page's imports, and the modules its first run loads.
        import app_pages._downloads  # noqa: F401
        import app_pages._change_view  # noqa: F401
        from app_pages import _map, _ui
        from povmap.core.config import web_dir
        from povmap.core.engine import Query
        from povmap.data import datasource
        from povmap.present.explorer import PAGE_VIEW, shared_view
        from povmap.present.urlstate import DEFAULT

        engine = _ui._engine(datasource.choose())  # the server's default datasets: what a new visitor sees
        view = shared_view(engine, Query(dataset=DEFAULT.dataset, level=DEFAULT.level, metric=DEFAULT.metric),
                           lang="th", **PAGE_VIEW)  # the explorer's first screen, kept for its first visitors
        web = _map._web(str(web_dir()), engine.data.store.version)
        _map.ensure_geometry(web, engine, view.map.chunks)
        log.info("start-up warm-up done in %.1f s", time.perf_counter() - t0)
    except Exception:  # noqa: BLE001 - a broken store is the first page's to explain, with its message
        log.warning("start-up warm-up stopped; the first page will load what it needs", exc_info=True)
