"""povmap's server (serve.py, app_pages/_server.py): connections without Nagle's delay, Streamlit's frontend files
from memory, and a first page that leaves to later what only later pages need (issue 16)."""
from __future__ import annotations

import gzip
import os
import socket
import subprocess
import sys
import warnings
from pathlib import Path

from app_pages import _server

REPO = Path(__file__).resolve().parent.parent


def test_every_connection_the_server_accepts_sends_without_nagles_delay():
    from streamlit.web.server.starlette import starlette_server

    assert _server.no_delay() and _server.no_delay()  # patched once, however often it is asked
    listener = starlette_server._bind_socket("127.0.0.1", 0, 8)  # as Streamlit binds its own
    try:
        client = socket.create_connection(listener.getsockname()[:2])
        listener.setblocking(True)
        accepted, _ = listener.accept()
        assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        accepted.close()
        client.close()
    finally:
        listener.close()


def test_the_first_page_starts_no_export_browser_and_imports_no_spatial_library():
    """The export browser, libpysal and scikit-learn start after the first page (``_ui.warm_up_later``): begun with
    it, they took the CPU from the first visitor's browser while it loaded the map."""
    code = ("import sys; sys.path.insert(0, 'tests'); from apptest import open_page; open_page(); "
            "from povmap.present.headless import CHROMIUM; "
            "print(*(m in sys.modules for m in ('libpysal', 'sklearn', 'esda')), CHROMIUM._browser is not None)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env=os.environ,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-4:] == ["False", "False", "False", "False"]


def test_streamlits_frontend_files_come_from_memory_with_its_headers_and_nothing_else_does(tmp_path):
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    with warnings.catch_warnings():  # starlette's TestClient asks for httpx2; httpx is what is installed
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    (tmp_path / "static" / "js").mkdir(parents=True)
    script = tmp_path / "static" / "js" / "index.Ab12.js"
    script.write_text("console.log('ก')" * 400, encoding="utf-8")
    (tmp_path / "secret.txt").write_text("no", encoding="utf-8")
    seen = []

    async def streamlit(request):
        seen.append(request.url.path)
        return PlainTextResponse("streamlit", status_code=404)

    app = Starlette(routes=[Route("/{path:path}", streamlit, methods=["GET", "HEAD", "POST"])])
    app.add_middleware(_server.FrontendFiles, static_dir=tmp_path, base_url="/povmap/")
    client = TestClient(app)
    r = client.get("/povmap/static/js/index.Ab12.js", headers={"Accept-Encoding": "identity"})
    assert r.status_code == 200 and r.content == script.read_bytes() and seen == []
    assert r.headers["content-type"] == "application/javascript" and "content-encoding" not in r.headers
    assert r.headers["cache-control"] == "public, immutable, max-age=31536000"
    packed = client.get("/povmap/static/js/index.Ab12.js", headers={"Accept-Encoding": "gzip, br"})
    assert packed.headers["content-encoding"] == "gzip" and packed.headers["vary"] == "Accept-Encoding"
    assert int(packed.headers["content-length"]) < len(script.read_bytes()) / 10
    assert packed.content == script.read_bytes()  # the client decompressed it
    script.write_text("changed", encoding="utf-8")  # read once: a running server's files never change
    assert client.get("/povmap/static/js/index.Ab12.js").text == "console.log('ก')" * 400
    assert client.head("/povmap/static/js/index.Ab12.js").content == b""
    for path in ("/povmap/static/js/missing.js", "/povmap/static/js/%2E%2E%2F%2E%2E%2Fsecret.txt",
                 "/povmap/static/js/sub/x.js", "/povmap/", "/static/js/index.Ab12.js"):
        assert client.get(path).text == "streamlit", path
    assert client.post("/povmap/static/js/index.Ab12.js").text == "streamlit"
    assert len(seen) == 6
    assert client.app.middleware_stack.app.cache.keys() == {"/povmap/static/js/index.Ab12.js"}  # no miss is kept


def test_the_server_puts_the_frontend_files_in_front_of_streamlits_app():
    from streamlit.web.server.starlette import starlette_server

    assert _server.frontend_from_memory() and _server.frontend_from_memory()
    assert starlette_server.create_starlette_app.__name__ == "build_with_memory"  # wrapped once: povmap_wrapped
    assert starlette_server.create_starlette_app.povmap_wrapped


def test_the_maps_files_come_from_memory_and_follow_the_folder(tmp_path):
    """deck.js, map.js and geometry: compressed once per version of the file and revalidated by ETag; a file
    rewritten under the server is served anew; anything else goes to Streamlit."""
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    root = tmp_path / "web"
    (root / "geo" / "k1").mkdir(parents=True)
    (root / "deck.js").write_text("var deck = 1;" * 500, encoding="utf-8")
    geo = root / "geo" / "k1" / "province-overview-TH.bin"
    geo.write_bytes(bytes(range(256)) * 40)
    (tmp_path / "secret.txt").write_text("no", encoding="utf-8")
    (root / "link.js").symlink_to(tmp_path / "secret.txt")
    seen = []

    async def streamlit(request):
        seen.append(request.url.path)
        return PlainTextResponse("streamlit", status_code=404)

    app = Starlette(routes=[Route("/{path:path}", streamlit, methods=["GET", "HEAD", "POST"])])
    roots = {"app_pages._map.area_map": str(root)}
    app.add_middleware(_server.MapFiles, base_url="povmap", root_of=roots.get)
    client = TestClient(app)
    base = "/povmap/component/app_pages._map.area_map/"

    r = client.get(base + "deck.js", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.text == "var deck = 1;" * 500 and r.headers["content-encoding"] == "gzip"
    from streamlit.web.server.component_file_utils import guess_content_type
    assert r.headers["cache-control"] == "no-cache"
    assert r.headers["content-type"] == guess_content_type(str(root / "deck.js"))  # as Streamlit's own route
    for asked in (r.headers["etag"], r.headers["etag"].removeprefix("W/"), f'"x", {r.headers["etag"]}', "*"):
        again = client.get(base + "deck.js", headers={"If-None-Match": asked})
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == r.headers["etag"]
    assert client.get(base + "deck.js", headers={"If-None-Match": '"other"'}).status_code == 200
    g = client.get(base + "geo/k1/province-overview-TH.bin", headers={"Accept-Encoding": "identity"})
    assert g.content == geo.read_bytes() and "content-encoding" not in g.headers
    assert g.headers["etag"] != r.headers["etag"] and g.headers["cache-control"] == "no-cache"
    assert seen == []

    # rewritten (an upgrade, a healed folder): served anew, new ETag
    (root / "deck.js").write_text("var deck = 2;", encoding="utf-8")
    fresh = client.get(base + "deck.js", headers={"If-None-Match": r.headers["etag"]})
    assert fresh.status_code == 200 and fresh.text == "var deck = 2;" and fresh.headers["etag"] != r.headers["etag"]
    assert len(client.app.middleware_stack.app.cache) == 2  # one version of each file is kept

    for path in (base + "missing.js", base + "link.js", base + "%2E%2E/secret.txt", base + "geo",
                 "/povmap/component/other.component/deck.js", "/component/app_pages._map.area_map/deck.js"):
        assert client.get(path).text == "streamlit", path
    assert client.post(base + "deck.js").text == "streamlit"
    assert len(seen) == 7
    roots.clear()  # not declared yet (no map drawn since the server started): Streamlit answers
    assert client.get(base + "deck.js").text == "streamlit"


def test_the_map_component_served_from_memory_is_the_one_the_pages_declare(tmp_path):
    """``MapFiles`` names the map's component as Streamlit does (after ``app_pages/_map.py``), not from a copy."""
    from app_pages import _map

    assert _map._component(tmp_path).name in _server.MAP_COMPONENTS


def test_a_page_opened_in_a_browser_imports_the_data_grid_as_soon_as_it_is_parsed(tmp_path):
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    from streamlit import file_util
    from streamlit.web.server.starlette.starlette_gzip_middleware import SelectiveGZipMiddleware
    from streamlit.web.server.starlette.starlette_static_routes import create_streamlit_static_assets_routes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    # Streamlit's own page route and its compression, with the installed Streamlit's files
    original, changed = _server.early_page(file_util.get_static_dir())
    other = b"<html>" + b"y" * (len(original) - 6)  # an HTML answer as long as the page, not the page

    async def not_the_page(request):
        return PlainTextResponse(other, media_type="text/html")

    app = Starlette(routes=[Route("/other", not_the_page), *create_streamlit_static_assets_routes("")],
                    middleware=[Middleware(SelectiveGZipMiddleware, minimum_size=500, compresslevel=5, base_url="")])
    app.add_middleware(_server.EarlyModules, static_dir=file_util.get_static_dir())
    client = TestClient(app)
    page = {"Accept": "text/html,application/xhtml+xml"}
    for path in ("/", "/profile?area=10", "/compare"):  # Streamlit compresses some of these and not others
        r = client.get(path, headers={**page, "Accept-Encoding": "identity"})
        assert r.status_code == 200 and r.content == changed, path
        assert int(r.headers["content-length"]) == len(changed) and "content-encoding" not in r.headers
        assert "etag" not in r.headers and "last-modified" not in r.headers and r.headers["cache-control"] == "no-cache"
        with client.stream("GET", path, headers={**page, "Accept-Encoding": "gzip"}) as packed:
            raw = b"".join(packed.iter_raw())
            assert packed.headers["content-encoding"] == "gzip" and "Accept-Encoding" in packed.headers["vary"]
            assert gzip.decompress(raw) == changed and int(packed.headers["content-length"]) == len(raw)
        head = client.head(path, headers={**page, "Accept-Encoding": "identity"})
        assert head.content == b"" and head.headers["content-length"] == str(len(changed))
    assert b'<script type="module">import("./static/js/DataFrame.' in changed
    assert changed.count(b'rel="modulepreload"') > original.count(b'rel="modulepreload"')
    # What is not a browser opening Streamlit's page passes as it came
    assert client.get("/", headers={"Accept": "*/*", "Accept-Encoding": "identity"}).content == original
    assert "etag" in client.get("/", headers={"Accept": "*/*"}).headers
    assert client.get("/other", headers=page).content == other
    assert client.get("/static/js/nothing.js", headers=page).status_code in (200, 404)  # Streamlit's own answer


def test_streamlits_page_is_read_for_the_data_grids_module_and_its_files(tmp_path):
    (tmp_path / "static" / "js").mkdir(parents=True)
    page = '<html><head><script type="module" crossorigin src="./static/js/index.Q1w-2.js"></script></head></html>'
    (tmp_path / "index.html").write_text(page, encoding="utf-8")
    (tmp_path / "static" / "js" / "index.Q1w-2.js").write_text(  # Vite's shape: one list of files, indexes per import
        'const __vite__mapDeps=(i,m=__vite__mapDeps,d=(m.f||(m.f=["./DataFrame.-f9-1zS0.js","./grid.Zx9.js",'
        '"./index.Q1w-2.js","../css/DataFrame.Ab.css","./Button.K2.js","./x\\"><b>.js"])))=>i.map(i=>d[i]);'
        'const a=lazy(()=>H(()=>import(`./DataFrame.-f9-1zS0.js`).then(e=>e.n),__vite__mapDeps([0,1,2,3,5]),import.meta.url)),'
        'b=lazy(()=>H(()=>import(`./Button.K2.js`),__vite__mapDeps([4]),import.meta.url));', encoding="utf-8")
    original, changed = _server.early_page(tmp_path)
    # the module's files preloaded (not the page's own script, not its style sheet, no odd name), then the import
    assert changed.decode() == page.replace("</head>", (
        '<link rel="modulepreload" crossorigin href="./static/js/DataFrame.-f9-1zS0.js">'
        '<link rel="modulepreload" crossorigin href="./static/js/grid.Zx9.js">'
        '<script type="module">import("./static/js/DataFrame.-f9-1zS0.js").catch(() => {});</script></head>'))
    # A Streamlit whose main script names no such module, or no page: sent as it is
    (tmp_path / "static" / "js" / "index.Q1w-2.js").write_text("const a=1", encoding="utf-8")
    assert _server.early_page(tmp_path) is None
    (tmp_path / "index.html").unlink()
    assert _server.early_page(tmp_path) is None


def test_the_installed_streamlits_page_gets_the_data_grids_module():
    from streamlit import file_util

    pages = _server.early_page(file_util.get_static_dir())
    assert pages is not None, "this Streamlit's page or main script changed: the data grid is no longer imported early"
    name = pages[1].split(b'import("./static/js/')[1].split(b'"')[0].decode()
    assert (Path(file_util.get_static_dir()) / "static" / "js" / name).is_file()
