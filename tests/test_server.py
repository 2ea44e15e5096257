"""povmap's server (serve.py, app_pages/_server.py): connections without Nagle's delay, Streamlit's frontend files
from memory, and a first page that leaves to later what only later pages need (issue 16)."""
from __future__ import annotations

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
