"""The area map on every page: ``povmap.maplayer``'s spec drawn by the deck.gl component in ``map_component/``.

The component's folder is the map's web folder (``povmap.mapweb``): its page and script, deck.gl and the
geometry files, all fetched once by the browser and kept, so a rerun sends colours and values only.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st
import streamlit.components.v1 as components

from povmap.config import store_dir, web_dir
from povmap.explorer import map_chunk_text
from povmap.maplayer import MapSpec, selected_code
from povmap.mapweb import MapWeb, install_assets

from povmap.datasource import store_version

COMPONENT_DIR = Path(__file__).with_name("map_component")
MAP_BOX_PAD_PX = 2


def _root() -> Path:
    root = web_dir()
    try:
        install_assets(root, COMPONENT_DIR)
    except OSError:  # a read-only install: a private folder for this server
        root = Path(tempfile.mkdtemp(prefix="povmap-web-"))
        install_assets(root, COMPONENT_DIR)
    return root


ROOT = _root()
_component = components.declare_component("area_map", path=str(ROOT))


@st.cache_resource(show_spinner=False, max_entries=2)
def _web(version: str) -> MapWeb:
    web = MapWeb(ROOT, version, COMPONENT_DIR)
    web.drop_stale_geometry()
    return web


def area_map(spec: MapSpec, engine, *, key: str, height: int, lang: str) -> str | None:
    """Draw the map; returns the code of the area the user clicked (kept until the key changes)."""
    web = _web(store_version(store_dir()))
    web.ensure_assets()
    for chunk in spec.chunks:
        web.ensure(chunk, lambda c=chunk: map_chunk_text(engine, c))
    # A frame's height is 0 until its script has loaded and says otherwise; a box of the final height keeps
    # the page from jumping under the user's pointer meanwhile.
    with st.container(height=height + MAP_BOX_PAD_PX, border=False, key=f"{key}.box"):
        value = _component(map={**spec.args, "geoBase": f"geo/{web.key}/", "height": height, "lang": lang},
                           key=key, default=None)
    return selected_code(value)
