"""How povmap's server differs from ``streamlit run`` (``serve.py``; the bench scripts start povmap the same way).

1. **No Nagle delay.** Streamlit 1.67 binds its listening socket itself (``starlette_server._bind_socket``) with
   protocol number 0, and asyncio sets ``TCP_NODELAY`` only on sockets whose protocol is ``IPPROTO_TCP``. Every
   connection was then left with Nagle's algorithm on: a response written in two parts (headers, then body) waited
   for the browser's delayed acknowledgement, ~40 ms for each request after the first on a kept-alive connection,
   and each websocket message written just after another waited the same. A new visitor's browser fetches ~140
   script files from Streamlit before the map can start (issue 16). ``TCP_NODELAY`` set on the listening socket is
   inherited by every connection it accepts.
2. **Streamlit's own script, style and font files from memory.** A new visitor's browser fetches ~140 of them
   (4.8 MB) before the map can start, over the same event loop that sends the page: Streamlit's static route takes
   each through its middleware, a file lookup and reads in worker threads. Their names carry their content's hash and
   never change while a server runs, so :class:`FrontendFiles` answers them from memory, with Streamlit's own headers,
   before that stack, and compressed once (gzip) for a browser that accepts it: Streamlit sends them uncompressed,
   4.8 MB that a phone on a mobile network waits for. Everything else (the page itself, components, media, the
   websocket) goes to Streamlit.
3. **The start-up warm-up** (``app_pages/_startup.py``) runs in a background thread while Streamlit starts.
"""
from __future__ import annotations

import asyncio
import gzip
import logging
import mimetypes
import socket
import threading
from pathlib import Path


def _wrap_streamlit(name: str, wrap, what: str) -> bool:
    """Replace ``name`` of Streamlit's server module by ``wrap(original)``, once; False (and a warning naming
    ``what`` is lost) if this Streamlit has no such name, when the server runs as before."""
    try:
        from streamlit.web.server.starlette import starlette_server as server
    except ImportError:
        server = None
    original = getattr(server, name, None)
    if original is None:
        logging.getLogger("povmap").warning("Streamlit's %s has changed: %s", name, what)
        return False
    if getattr(original, "povmap_wrapped", False):
        return True
    wrapped = wrap(original)
    wrapped.povmap_wrapped = True
    setattr(server, name, wrapped)
    return True


def no_delay() -> bool:
    """Make every connection the server accepts send without Nagle's delay (see the module's docstring)."""
    def wrap(bind):
        def bind_no_delay(address: str, port: int, backlog: int) -> socket.socket:
            sock = bind(address, port, backlog)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return sock
        return bind_no_delay

    return _wrap_streamlit("_bind_socket", wrap, "TCP_NODELAY not set")


IMMUTABLE = "public, immutable, max-age=31536000"  # as Streamlit's static route sends hashed files
# The types Streamlit's static route sends (the system's table differs between machines: text/javascript on some)
TYPES = {".js": "application/javascript", ".css": "text/css", ".woff2": "font/woff2", ".woff": "font/woff",
         ".ttf": "font/ttf", ".svg": "image/svg+xml", ".png": "image/png", ".json": "application/json"}
FRONTEND_DIRS = ("js", "css", "media")  # under Streamlit's static folder: only files with hashed names
COMPRESSIBLE = {".js", ".css", ".svg", ".json"}  # fonts and images are compressed already
GZIP_MIN_BYTES, GZIP_LEVEL = 1000, 6


class FrontendFiles:
    """ASGI middleware: ``GET``/``HEAD`` of ``<base>/static/{js,css,media}/<file>`` answered from memory (each file
    read, and compressed if text, once, on its first request, in a worker thread); every other request passes to
    ``app``. Written by hand: an ASGI static-file library (Starlette's own among them) reads the disk in worker
    threads on every request, which is what this avoids."""

    def __init__(self, app, static_dir: str | Path, base_url: str = "") -> None:
        self.app = app
        self.root = Path(static_dir).resolve() / "static"
        base = "/" + base_url.strip("/") if base_url.strip("/") else ""
        self.folders = {f"{base}/static/{d}/": self.root / d for d in FRONTEND_DIRS}  # URL prefix -> folder
        self.prefixes = tuple(self.folders)
        self.cache: dict[str, dict] = {}  # URL path -> {"plain" | "gzip": (body, headers)}

    def _load(self, path: str) -> dict | None:
        """The file at ``path`` as it is sent: plain, and gzip-compressed where that pays (text)."""
        prefix = next(p for p in self.prefixes if path.startswith(p))
        name = path[len(prefix):]
        if not name or "/" in name or "\\" in name or name.startswith("."):
            return None
        file = self.folders[prefix] / name
        try:
            body = file.read_bytes()
        except OSError:
            return None
        kind = TYPES.get(file.suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
        common = [(b"content-type", kind.encode()), (b"cache-control", IMMUTABLE.encode())]
        out = {"plain": (body, [*common, (b"content-length", str(len(body)).encode())])}
        if file.suffix in COMPRESSIBLE and len(body) >= GZIP_MIN_BYTES:
            packed = gzip.compress(body, GZIP_LEVEL, mtime=0)
            out["gzip"] = (packed, [*common, (b"content-encoding", b"gzip"), (b"vary", b"Accept-Encoding"),
                                    (b"content-length", str(len(packed)).encode())])
            out["plain"][1].append((b"vary", b"Accept-Encoding"))
        return out

    async def __call__(self, scope, receive, send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or scope.get("method") not in ("GET", "HEAD") or not path.startswith(self.prefixes):
            return await self.app(scope, receive, send)
        hit = self.cache.get(path)
        if hit is None:
            hit = await asyncio.to_thread(self._load, path)  # read and compress off the event loop
            if hit is None:  # unknown or odd name, never kept (any number of them): Streamlit answers
                return await self.app(scope, receive, send)
            self.cache[path] = hit  # at most the files of Streamlit's static folder
        accepts = dict(scope.get("headers") or ()).get(b"accept-encoding", b"")
        body, headers = hit["gzip"] if "gzip" in hit and b"gzip" in accepts else hit["plain"]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})


def frontend_from_memory() -> bool:
    """Put :class:`FrontendFiles` in front of the app Streamlit builds."""
    def wrap(build):
        def build_with_memory(runtime):
            from streamlit import config, file_util

            app = build(runtime)
            app.add_middleware(FrontendFiles, static_dir=file_util.get_static_dir(),
                               base_url=config.get_option("server.baseUrlPath") or "")
            return app
        return build_with_memory

    return _wrap_streamlit("create_starlette_app", wrap, "frontend files served as before")


def prepare() -> None:
    """What ``serve.py`` does before it hands over to Streamlit's command line, in the same process."""
    from app_pages._startup import warm_up

    no_delay()
    frontend_from_memory()
    threading.Thread(target=warm_up, name="povmap-start-up", daemon=True).start()
