"""The map's web folder: component files and deck.gl copied in, geometry written once and atomically."""
from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

from povmap.config import web_dir
from povmap.explorer import map_chunk_text
from povmap.maplayer import GeoChunk
from povmap.mapweb import DECK_BUNDLE, MapWeb, install_assets, store_key

COMPONENT_DIR = Path(__file__).resolve().parent.parent / "app_pages" / "map_component"


def test_web_dir_sits_beside_the_store_unless_set(monkeypatch, tmp_path):
    monkeypatch.delenv("POVMAP_WEB", raising=False)
    assert web_dir(tmp_path / "store") == tmp_path / "store.web"
    monkeypatch.setenv("POVMAP_WEB", str(tmp_path / "w"))
    assert web_dir(tmp_path / "store") == tmp_path / "w"


def test_assets_are_copied_and_refreshed(tmp_path):
    install_assets(tmp_path, COMPONENT_DIR)
    assert (tmp_path / "index.html").read_bytes() == (COMPONENT_DIR / "index.html").read_bytes()
    assert (tmp_path / "deck.js").stat().st_size == DECK_BUNDLE.stat().st_size
    (tmp_path / "map.js").write_text("stale", encoding="utf-8")  # an older version of the component
    install_assets(tmp_path, COMPONENT_DIR)
    assert (tmp_path / "map.js").read_bytes() == (COMPONENT_DIR / "map.js").read_bytes()
    assert not list(tmp_path.glob(".*.tmp"))


def test_geometry_is_written_once_and_whole(tmp_path, engine):
    web = MapWeb(tmp_path, "build-1", COMPONENT_DIR)
    chunk = GeoChunk("district", "overview")
    calls = []

    def text():
        calls.append(1)
        return map_chunk_text(engine, chunk)

    threads = [threading.Thread(target=web.ensure, args=(chunk, text)) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    rel = web.ensure(chunk, text)
    assert rel == f"geo/{store_key('build-1')}/district-overview-TH.json" and len(calls) == 1
    assert len(json.loads((tmp_path / rel).read_text(encoding="utf-8"))["features"]) == 928
    (tmp_path / rel).unlink()  # removed under a running server: written again on the next rerun
    web.ensure(chunk, text)
    assert (tmp_path / rel).exists() and len(calls) == 2


def test_geometry_of_old_store_builds_is_dropped_after_a_day(tmp_path):
    old = tmp_path / "geo" / store_key("old-build")
    recent = tmp_path / "geo" / store_key("other-build")
    for d in (old, recent):
        d.mkdir(parents=True)
        (d / "x.json").write_text("{}", encoding="utf-8")
    day_ago = time.time() - 2 * 24 * 3600
    os.utime(old, (day_ago, day_ago))
    web = MapWeb(tmp_path, "new-build", COMPONENT_DIR)
    web.drop_stale_geometry()
    assert not old.exists() and recent.exists()



def test_removed_folder_is_rebuilt(tmp_path, engine):
    """The folder is derived: deleting it under a running app costs a rewrite, not a broken map."""
    import shutil

    web = MapWeb(tmp_path / "web", "build-1", COMPONENT_DIR)
    web.ensure_assets()
    chunk = GeoChunk("province", "overview")
    rel = web.ensure(chunk, lambda: map_chunk_text(engine, chunk))
    shutil.rmtree(tmp_path / "web")
    web.ensure_assets()
    web.ensure(chunk, lambda: map_chunk_text(engine, chunk))
    assert all((tmp_path / "web" / f).exists() for f in ("index.html", "map.js", "deck.js", rel))
