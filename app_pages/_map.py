"""The area map on every page: ``povmap.web.maplayer``'s spec drawn by the deck.gl component in ``map_component/``.

The component's folder is the map's web folder (``povmap.web.mapweb``): its page and script, deck.gl and the
geometry files, all fetched once by the browser and kept, so a rerun sends colours and values only. Importing
this module writes nothing: the folder is written when the first map is drawn (``povmap.web.mapweb.open_web``).
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path

import streamlit as st
import streamlit.components.v1 as components

from povmap.core.config import web_dir
from povmap.core.errors import PovmapError
from povmap.present.explorer import map_chunk_bytes
from povmap.web.maplayer import MapSpec, selected_code
from povmap.web.mapweb import MapWeb, open_web

COMPONENT_DIR = Path(__file__).with_name("map_component")
MAP_BOX_PAD_PX = 2

_components: dict[str, object] = {}  # web folder -> the component served from it (declared once per process)
_components_lock = threading.Lock()


@st.cache_resource(show_spinner=False, max_entries=2)
def _web(root: str, version: str) -> MapWeb:
    """The web folder of one store build, written on first use (raises MapWebError when it cannot be)."""
    return open_web(Path(root), version, COMPONENT_DIR)


def _component(root: Path):
    """The component served from ``root``. Streamlit names it after this module (``app_pages._map.area_map``)
    and needs the folder to exist when it is declared, so it is declared here, once the folder is written."""
    with _components_lock:
        if str(root) not in _components:
            _components[str(root)] = components.declare_component("area_map", path=str(root))
        return _components[str(root)]


def ensure_geometry(web: MapWeb, engine, chunks) -> None:
    """Write the geometry files ``chunks`` into the web folder where they are missing (the start-up warm-up too)."""
    for chunk in chunks:
        web.ensure(chunk, lambda c=chunk: map_chunk_bytes(engine, c))


def area_map(spec: MapSpec, engine, *, key: str, height: int, lang: str, once: bool = False) -> str | None:
    """Draw the map; returns the code of the area the user clicked (kept until the key changes).

    ``once``: each click is returned in one run only, so a map can keep its key (and its frame) from view to view.
    A drill-down then redraws in the same frame: no new frame loading deck.gl, no new WebGL context (issue 16)."""
    try:
        web = _web(str(web_dir()), engine.data.store.version)  # the build the engine reads: no second manifest read
        web.ensure_assets()
    except PovmapError as exc:  # deck.gl missing, or no folder may be written: say so where the map would be
        logging.getLogger("povmap").error("map web folder: %s", exc)
        st.error(exc.message(lang))
        return None
    ensure_geometry(web, engine, spec.chunks)
    # A frame's height is 0 until its script has loaded and says otherwise; a box of the final height keeps
    # the page from jumping under the user's pointer meanwhile.
    with st.container(height=height + MAP_BOX_PAD_PX, border=False, key=f"{key}.box"):
        # "revision" changes after a rerun that (re)wrote a file of the folder: the browser then gets a new render
        # and fetches again what failed before the folder healed (map.js).
        # "height" beside "map": Streamlit gives a new frame that height at once. A frame whose height map.js had
        # to set was sent its first arguments a second time (issue 16).
        value = _component(web.root)(map={**spec.args, "geoBase": f"geo/{web.key}/", "height": height, "lang": lang,
                                          "revision": web.revision}, height=height, key=key, default=None)
    return new_click(key) if once else selected_code(value)


def new_click(key: str) -> str | None:
    """The area of the map ``key``'s latest click if no run has taken it yet (then it is taken), else None.

    Streamlit keeps a component's last value from run to run; map.js stamps each click with its time, so a value
    seen before is an old click. Safe to call before the map is drawn in this run (the value of the last run)."""
    value = st.session_state.get(key)
    at = value.get("at") if isinstance(value, dict) else None
    if at is None or st.session_state.get(f"{key}.clicked") == at:
        return None
    st.session_state[f"{key}.clicked"] = at
    return selected_code(value)
