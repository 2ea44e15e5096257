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
3. **The map's own files from memory** (:class:`MapFiles`): deck.js, map.js and the geometry files of the map's web
   folder (``povmap.web.mapweb``). Streamlit's component route reads each from disk and compresses it again for every
   request (0.65 MB of deck.js, 1.3 MB of subdistricts for every new visitor), and sends no validator, so a
   returning browser fetches them all again. They are kept compressed, checked against the file on every request,
   and revalidated by ETag.
4. **The data grid's script starts with the page** (:class:`EarlyModules`). Streamlit loads an element's script the
   first time a run shows one, and React reveals the elements that waited for their scripts together: the map's
   frame was made only once the data grid's 0.5 MB module (the ranking table) had loaded and run, ~0.15 s after the
   rest of the page (issue 16). The page Streamlit sends now imports that module as soon as it is parsed, and
   preloads the files it needs, while the browser waits for the first run.
5. **The start-up warm-up** (``app_pages/_startup.py``) runs in a background thread while Streamlit starts.
"""
from __future__ import annotations

import asyncio
import gzip
import json
import logging
import mimetypes
import os
import re
import socket
import stat
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


def url_base(base_url: str) -> str:
    """Streamlit's ``server.baseUrlPath`` as the start of a request's path: "" or "/name"."""
    return "/" + base_url.strip("/") if base_url.strip("/") else ""


def as_sent(body: bytes, kind: str, headers: list, compress: bool) -> dict:
    """``{"plain" | "gzip": (body, headers)}``: a file as it is sent, compressed once where that pays."""
    common = [(b"content-type", kind.encode()), *headers]
    out = {"plain": (body, [*common, (b"content-length", str(len(body)).encode())])}
    if compress and len(body) >= GZIP_MIN_BYTES:
        packed = gzip.compress(body, GZIP_LEVEL, mtime=0)
        out["gzip"] = (packed, [*common, (b"content-encoding", b"gzip"), (b"vary", b"Accept-Encoding"),
                                (b"content-length", str(len(packed)).encode())])
        out["plain"][1].append((b"vary", b"Accept-Encoding"))
    return out


def request_header(scope, name: bytes) -> bytes:
    """The request's header ``name`` (lower case), or b"" (ASGI gives headers as a list of byte pairs)."""
    return dict(scope.get("headers") or ()).get(name, b"")


async def send_file(scope, send, hit: dict) -> None:
    """Answer with the cached file ``hit`` (:func:`as_sent`), compressed if the browser accepts it."""
    accepts = request_header(scope, b"accept-encoding")
    body, headers = hit["gzip"] if "gzip" in hit and b"gzip" in accepts else hit["plain"]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})


class FrontendFiles:
    """ASGI middleware: ``GET``/``HEAD`` of ``<base>/static/{js,css,media}/<file>`` answered from memory (each file
    read, and compressed if text, once, on its first request, in a worker thread); every other request passes to
    ``app``. Written by hand: an ASGI static-file library (Starlette's own among them) reads the disk in worker
    threads on every request, which is what this avoids."""

    def __init__(self, app, static_dir: str | Path, base_url: str = "") -> None:
        self.app = app
        self.root = Path(static_dir).resolve() / "static"
        base = url_base(base_url)
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
        return as_sent(body, kind, [(b"cache-control", IMMUTABLE.encode())], file.suffix in COMPRESSIBLE)

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
        await send_file(scope, send, hit)


MAP_COMPONENTS = ("app_pages._map.area_map",)  # Streamlit's name for the map's component (app_pages/_map.py)
MAP_FILE_MAX_BYTES = 16 * 2**20  # larger files (none today: subdistricts are 1.3 MB) are left to Streamlit
MAP_CACHE_BYTES = 96 * 2**20  # every geometry file of a store build, plain and compressed, is ~25 MB
MAP_COMPRESSIBLE = {".js", ".html", ".json", ".bin"}  # the geometry's float32 points compress to ~30 %


def registered_root(name: str) -> str | None:
    """The folder Streamlit serves the component ``name`` from, if it has been declared (``app_pages._map``)."""
    from streamlit.runtime import Runtime

    return Runtime.instance().component_registry.get_component_path(name) if Runtime.exists() else None


class MapFiles:
    """ASGI middleware: ``GET``/``HEAD`` of ``<base>/component/<map>/<file>`` answered from memory. Each file is read
    and compressed once per version (its size and modification time, checked on every request: the folder is
    rewritten by an upgrade or healed under a running server). Paths are checked by Streamlit's own
    ``build_safe_abspath``; anything else, or anything unreadable, goes to Streamlit's component route. Written by
    hand for the reason :class:`FrontendFiles` is."""

    def __init__(self, app, base_url: str = "", root_of=registered_root) -> None:
        self.app = app
        base = url_base(base_url)
        self.prefixes = {f"{base}/component/{name}/": name for name in MAP_COMPONENTS}
        self.root_of = root_of
        self.cache: dict[str, tuple[tuple[int, int], dict]] = {}  # file -> (size and mtime, as_sent)
        self.kept = 0  # bytes in the cache

    @staticmethod
    def _load(file: str) -> tuple[tuple[int, int], dict] | None:
        """The file's version (mtime, size) and the file as it is sent, read from one open file."""
        from streamlit.web.server.component_file_utils import guess_content_type

        try:
            with open(file, "rb") as f:
                st = os.fstat(f.fileno())
                body = f.read(MAP_FILE_MAX_BYTES + 1)
        except OSError:
            return None
        if len(body) != st.st_size or len(body) > MAP_FILE_MAX_BYTES:  # rewritten while read, or too large
            return None
        stamp = (st.st_mtime_ns, st.st_size)
        # Weak: the plain and the compressed file share it. Revalidated rather than immutable, geometry included:
        # its folder is named by the store build, but a new povmap may write it differently.
        cache = [(b"cache-control", b"no-cache"), (b"etag", f'W/"{stamp[0]:x}-{stamp[1]:x}"'.encode())]
        return stamp, as_sent(body, guess_content_type(file), cache, os.path.splitext(file)[1] in MAP_COMPRESSIBLE)

    def _keep(self, file: str, stamp: tuple[int, int], hit: dict) -> None:
        def size(entry: dict) -> int:
            return sum(len(body) for body, _ in entry.values())

        old = self.cache.pop(file, None)
        self.kept -= size(old[1]) if old else 0
        while self.cache and self.kept + size(hit) > MAP_CACHE_BYTES:  # the oldest go first
            self.kept -= size(self.cache.pop(next(iter(self.cache)))[1])
        self.cache[file] = (stamp, hit)
        self.kept += size(hit)

    async def __call__(self, scope, receive, send) -> None:
        from streamlit.web.server.component_file_utils import build_safe_abspath

        path = scope.get("path", "")
        prefix = next((p for p in self.prefixes if path.startswith(p)), None) if scope["type"] == "http" else None
        root = self.root_of(self.prefixes[prefix]) if prefix and scope.get("method") in ("GET", "HEAD") else None
        rel = path[len(prefix):] if root else ""
        file = build_safe_abspath(root, rel) if rel else None
        try:
            st = os.stat(file) if file else None
        except OSError:
            st = None
        if st is None or not stat.S_ISREG(st.st_mode) or st.st_size > MAP_FILE_MAX_BYTES:
            return await self.app(scope, receive, send)
        hit = self.cache.get(file)
        if hit is None or hit[0] != (st.st_mtime_ns, st.st_size):
            hit = await asyncio.to_thread(self._load, file)  # two first requests at once may both read: harmless
            if hit is None:
                return await self.app(scope, receive, send)
            self._keep(file, *hit)
        etag = dict(hit[1]["plain"][1])[b"etag"]
        asked = request_header(scope, b"if-none-match")
        tags = {t.strip().removeprefix(b"W/") for t in asked.split(b",")}  # a weak comparison, as for a GET
        if b"*" in tags or etag.removeprefix(b"W/") in tags:
            await send({"type": "http.response.start", "status": 304, "headers": [
                (b"etag", etag), (b"cache-control", b"no-cache"), (b"vary", b"Accept-Encoding")]})
            return await send({"type": "http.response.body", "body": b""})
        await send_file(scope, send, hit[1])


EARLY_MODULES = ("DataFrame",)  # Streamlit's element modules every first screen with a ranking table needs


def early_page(static_dir: str | Path, modules=EARLY_MODULES) -> tuple[bytes, bytes] | None:
    """(Streamlit's page, the page importing ``modules`` once parsed), or None if this Streamlit's page or main script
    names none of them (the page is then sent as it is). The modules' file names carry a hash of their content, so
    they are read from the main script's own lazy imports, with the files each needs (Vite's list of them): these are
    preloaded with the page, so the browser fetches them at once rather than level by level as it reads each."""
    folder = Path(static_dir)
    try:
        page = (folder / "index.html").read_bytes()
        main = re.search(rb'<script type="module"[^>]*src="\./static/js/(index\.[\w-]+\.js)"', page)
        script = (folder / "static" / "js" / main.group(1).decode()).read_text(encoding="utf-8") if main else ""
    except OSError:
        return None
    files = re.search(r"m\.f=(\[[^\]]*\])", script)
    try:
        listed = json.loads(files.group(1)) if files else []
    except ValueError:
        listed = []
    names, needs = [], []
    for name in modules:  # its import, then the list of files of that same call (never the next import's)
        m = re.search(rf"import\(`\./({re.escape(name)}\.[\w-]+\.js)`\)(?:(?!import\()[^;])*?"
                      rf"__vite__mapDeps\(\[([\d,]+)\]\)", script)
        if m:
            names.append(m.group(1))
            needs += [listed[int(i)][2:] for i in m.group(2).split(",")
                      if int(i) < len(listed) and re.fullmatch(r"\./[\w.-]+\.js", listed[int(i)])]
    if not names or b"</head>" not in page:
        return None
    preload = "".join(f'<link rel="modulepreload" crossorigin href="./static/js/{n}">' for n in dict.fromkeys(needs)
                      if f"./static/js/{n}".encode() not in page)
    # A module script runs after the page's own (in document order), so the app has started when these load.
    imports = "".join(f'import("./static/js/{n}").catch(() => {{}});' for n in names)
    return page, page.replace(b"</head>", f'{preload}<script type="module">{imports}</script></head>'.encode(), 1)


class EarlyModules:
    """ASGI middleware: a browser opening any page gets Streamlit's page with :func:`early_page`'s additions (see the
    module's docstring), compressed here if it accepts that. Streamlit compresses its page for some paths and not for
    others, so the request goes on without ``Accept-Encoding`` and Streamlit's answer is seen as the file itself. Only
    an answer that is exactly Streamlit's page file is replaced; it then carries no validator (Streamlit's ETag names
    the file, not what is sent), so a browser always fetches it (3 KB compressed). Every other answer passes as it
    came (uncompressed, for a page request), and every other request untouched."""

    def __init__(self, app, static_dir: str | Path) -> None:
        self.app = app
        pages = early_page(static_dir)
        self.original, self.page = (pages[0], as_sent(pages[1], "text/html; charset=utf-8", [
            (b"cache-control", b"no-cache"), (b"vary", b"Accept")], True)) if pages else (None, None)

    async def __call__(self, scope, receive, send) -> None:
        if (self.page is None or scope["type"] != "http" or scope.get("method") not in ("GET", "HEAD")
                or b"text/html" not in request_header(scope, b"accept")):
            return await self.app(scope, receive, send)
        plain = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k != b"accept-encoding"],
                 "extensions": {k: v for k, v in (scope.get("extensions") or {}).items()
                                if k != "http.response.pathsend"}}  # the body comes as body messages, to compare
        held: list[dict] = []
        replaced = False

        async def send_page(message) -> None:
            nonlocal replaced
            if replaced:  # the changed page is sent and complete: nothing of the original follows it
                return
            kind = message["type"]
            if kind == "http.response.start":
                h = dict(message.get("headers") or ())
                if (message["status"] == 200 and h.get(b"content-type", b"").startswith(b"text/html")
                        and b"content-encoding" not in h and h.get(b"content-length") == str(len(self.original)).encode()):
                    held.append(message)  # perhaps Streamlit's page: decided when its body is complete
                    return
            elif held and kind == "http.response.body":
                held.append(message)
                if message.get("more_body"):
                    return
                body = b"".join(m.get("body", b"") for m in held[1:])
                if body == self.original or (scope["method"] == "HEAD" and not body):  # HEAD: the page's headers
                    replaced = True
                    return await send_file(scope, send, self.page)
            # Not the page, or a message other than its body: what was held goes first, as it came.
            flushed = [*held] if held and held[-1] is message else [*held, message]
            held.clear()
            for m in flushed:
                await send(m)

        await self.app(plain, receive, send_page)


def frontend_from_memory() -> bool:
    """Put :class:`FrontendFiles`, :class:`MapFiles` and :class:`EarlyModules` in front of the app Streamlit builds."""
    def wrap(build):
        def build_with_memory(runtime):
            from streamlit import config, file_util

            app = build(runtime)
            base_url = config.get_option("server.baseUrlPath") or ""
            app.add_middleware(FrontendFiles, static_dir=file_util.get_static_dir(), base_url=base_url)
            app.add_middleware(MapFiles, base_url=base_url)
            app.add_middleware(EarlyModules, static_dir=file_util.get_static_dir())
            return app
        return build_with_memory

    return _wrap_streamlit("create_starlette_app", wrap, "frontend files served as before")


def prepare() -> None:
    """What ``serve.py`` does before it hands over to Streamlit's command line, in the same process."""
    from app_pages._startup import warm_up

    no_delay()
    frontend_from_memory()
    threading.Thread(target=warm_up, name="povmap-start-up", daemon=True).start()
