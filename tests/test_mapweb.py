"""The map's web folder: component files and deck.gl copied in, geometry written once and atomically."""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from povmap.core.config import web_dir
from povmap.present.explorer import map_chunk_bytes
from povmap.web.geometry import unpack
from povmap.web.maplayer import GeoChunk
from povmap.web.mapweb import DECK_BUNDLE, MapWeb, install_assets, store_key

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

    def data():
        calls.append(1)
        return map_chunk_bytes(engine, chunk)

    threads = [threading.Thread(target=web.ensure, args=(chunk, data)) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    rel = web.ensure(chunk, data)
    assert rel == f"geo/{store_key('build-1')}/district-overview-TH.bin" and len(calls) == 1
    assert len(unpack((tmp_path / rel).read_bytes()).codes) == 928
    (tmp_path / rel).unlink()  # removed under a running server: written again on the next rerun
    web.ensure(chunk, data)
    assert (tmp_path / rel).exists() and len(calls) == 2


def test_geometry_of_old_store_builds_is_dropped_after_a_day(tmp_path):
    old = tmp_path / "geo" / store_key("old-build")
    recent = tmp_path / "geo" / store_key("other-build")
    for d in (old, recent):
        d.mkdir(parents=True)
        (d / "x.bin").write_bytes(b"PVG1")
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
    rel = web.ensure(chunk, lambda: map_chunk_bytes(engine, chunk))
    shutil.rmtree(tmp_path / "web")
    web.ensure_assets()
    web.ensure(chunk, lambda: map_chunk_bytes(engine, chunk))
    assert all((tmp_path / "web" / f).exists() for f in ("index.html", "map.js", "deck.js", rel))


# ---- deck.gl, bundled at install (issue 12, slimmed in issue 16) ----------------------------------------------

def test_deck_bundle_is_built_and_holds_what_the_map_uses():
    """make bundle builds web/build/deck.js from web/deck-entry.js: every deck.<name> that map.js uses is exported,
    and the bundle stays a fraction of the whole deck.gl (4.2 MB), which every new browser session parses."""
    import re

    from povmap.web.mapweb import check_deck_bundle

    assert check_deck_bundle() == DECK_BUNDLE
    used = set(re.findall(r"\bdeck\.([A-Z][A-Za-z]+)", (COMPONENT_DIR / "map.js").read_text(encoding="utf-8")))
    entry = (DECK_BUNDLE.parents[1] / "deck-entry.js").read_text(encoding="utf-8")
    exported = set(re.findall(r"\b([A-Z][A-Za-z]+)\b", entry.split("export", 1)[1]))
    assert used and used <= exported, f"map.js uses deck.{sorted(used - exported)}, which web/deck-entry.js does not export"
    text = DECK_BUNDLE.read_text(encoding="utf-8", errors="replace")
    assert text.startswith(("var deck=", '"use strict";var deck=')), text[:80]  # esbuild's IIFE: the global deck
    assert 200_000 < DECK_BUNDLE.stat().st_size < 1_500_000


def test_missing_deck_bundle_fails_loudly_naming_the_file(tmp_path, monkeypatch):
    import pytest

    from povmap.web import mapweb

    gone = tmp_path / "web" / "build" / "deck.js"
    monkeypatch.setattr(mapweb, "DECK_BUNDLE", gone)
    with pytest.raises(mapweb.MapWebError) as info:
        mapweb.open_web(tmp_path / "web", "build-1", COMPONENT_DIR)
    for lang in ("en", "th"):
        assert str(gone) in info.value.message(lang)
    assert "deck.gl" in info.value.message("th") and "ไม่พบ" in info.value.message("th")
    assert not (tmp_path / "web" / "deck.js").exists()


def test_unwritable_web_folder_goes_to_the_users_cache_folder_not_a_temporary_one(tmp_path, monkeypatch):
    import pytest

    from povmap.web import mapweb

    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    monkeypatch.setattr(mapweb, "FALLBACK_DIR", tmp_path / "cache" / "web")
    web = mapweb.open_web(blocked / "web", "build-1", COMPONENT_DIR)
    assert web.root == tmp_path / "cache" / "web" and (web.root / "deck.js").exists()
    again = mapweb.open_web(blocked / "web", "build-1", COMPONENT_DIR)  # the next process reuses the same one
    assert again.root == web.root and again.revision == 0
    monkeypatch.setattr(mapweb, "FALLBACK_DIR", blocked / "cache")
    with pytest.raises(mapweb.MapWebError) as info:
        mapweb.open_web(blocked / "web", "build-1", COMPONENT_DIR)
    assert "POVMAP_WEB" in info.value.message("th") and str(blocked / "web") in info.value.message("en")


def test_revision_counts_the_files_written_so_a_healed_folder_reaches_the_browser(tmp_path, engine):
    """The map passes ``revision`` to the browser: it must change on the rerun that rewrites a removed file (and
    only then), so the browser gets a render and fetches again what failed."""
    from povmap.web.mapweb import open_web

    web = open_web(tmp_path / "web", "build-1", COMPONENT_DIR)
    chunk = GeoChunk("province", "overview")
    rel = web.ensure(chunk, lambda: map_chunk_bytes(engine, chunk))
    before = web.revision
    web.ensure_assets()
    web.ensure(chunk, lambda: map_chunk_bytes(engine, chunk))
    assert web.revision == before  # nothing missing, nothing written
    (tmp_path / "web" / rel).unlink()
    web.ensure(chunk, lambda: map_chunk_bytes(engine, chunk))
    assert web.revision == before + 1
    (tmp_path / "web" / "index.html").unlink()  # any of the component's files, not only deck.js
    web.ensure_assets()
    assert (tmp_path / "web" / "index.html").exists() and web.revision == before + 2


def test_importing_the_map_module_writes_nothing(tmp_path):
    """The web folder is written when the first map is drawn, not when a page imports the module, and no
    temporary folder is made per process."""
    import subprocess
    import sys

    repo = COMPONENT_DIR.parent.parent
    env = {**os.environ, "POVMAP_WEB": str(tmp_path / "web"), "HOME": str(tmp_path / "home"),
           "TMPDIR": str(tmp_path / "tmp")}
    (tmp_path / "tmp").mkdir()
    subprocess.run([sys.executable, "-c", "import app_pages._map"], cwd=repo, env=env, check=True, timeout=120)
    assert not (tmp_path / "web").exists() and not (tmp_path / "home").exists()
    assert not list((tmp_path / "tmp").iterdir())
