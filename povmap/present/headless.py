"""One headless Chromium per process, kept open, that turns HTML into PNG screenshots and PDF prints.

Used by the static exports (:mod:`povmap.present.mapimage`, :mod:`povmap.present.brief`). Chromium shapes Thai correctly with
the system fonts, offline. It is driven over the DevTools protocol with ``choreographer`` (the client kaleido
itself uses); starting ``chromium`` per export took ~3 s, a kept browser renders in a fraction of a second.
"""
from __future__ import annotations

import asyncio
import atexit
import base64
import json
import logging
import os
import shutil
import tempfile
import threading
from pathlib import Path

from povmap.core.config import browser_path
from povmap.core.errors import PovmapError

RENDER_TIMEOUT_S = 90
# The page the browser renders into, and Chromium's profile, live in a temporary folder per process, named with
# the process id. A normal
# exit removes it (close() at exit, and TemporaryDirectory's own finaliser); a process killed outright (SIGKILL, an
# unhandled SIGTERM) cannot, so the next browser any povmap process opens removes those of dead processes.
DIR_PREFIX = "povmap-render-"


class ExportError(PovmapError):
    """A static export could not be rendered (no browser, or the browser failed)."""


# Nothing leaves the machine: content is inline, fonts are system fonts, scripts are local files (plotly's own
# bundle and the render function below). No inline script may run, so markup in the content can never execute.
_BASE_PAGE = """<!doctype html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src file: 'unsafe-eval';
 style-src 'unsafe-inline'; img-src data:; font-src file: data:">
<script src="{plotly}"></script><script src="{render}"></script></head><body></body></html>"""
_RENDER_JS = """
window.povmapRender = async function (html, figs) {
  document.querySelectorAll('.js-plotly-plot').forEach(el => Plotly.purge(el));
  document.body.innerHTML = html;
  for (const [id, fig] of figs) {
    await Plotly.newPlot(document.getElementById(id), fig.data, fig.layout, {staticPlot: true});
  }
  await document.fonts.ready;
  // A block taller than its data-fit-px (e.g. one printed page) is zoomed out to fit, so a brief never spills over.
  for (const el of document.querySelectorAll('[data-fit-px]')) {
    const h = el.getBoundingClientRect().height, limit = Number(el.dataset.fitPx);
    if (h > limit) el.style.zoom = (limit / h).toFixed(4);
  }
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  return document.body.childElementCount;
};
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def sweep_dead_dirs(parent: str | os.PathLike | None = None) -> list[Path]:
    """Remove render folders (``povmap-render-<pid>-…``) of this user whose process has ended; returns them."""
    removed = []
    for p in Path(parent or tempfile.gettempdir()).glob(f"{DIR_PREFIX}*-*"):
        pid = p.name[len(DIR_PREFIX):].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid() or _alive(int(pid)):
            continue
        try:
            if not p.is_dir() or p.is_symlink() or p.stat().st_uid != os.getuid():
                continue
        except OSError:
            continue
        shutil.rmtree(p, ignore_errors=True)
        removed.append(p)
    return removed


class _Chromium:
    """One headless Chromium with one tab, opened on first use and kept for the process.

    The browser lives on its own asyncio loop in a daemon thread, so callers (Streamlit script threads, tests)
    stay synchronous; a lock serialises renders. After a failure the browser is discarded and the next call
    starts a fresh one.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._browser = None
        self._tab = None
        self._dir: tempfile.TemporaryDirectory | None = None

    # every coroutine below runs on self._loop
    async def _open(self):
        import choreographer as choreo
        import plotly

        path = browser_path()
        if path is None:
            raise ExportError("error.export.no_browser")
        sweep_dead_dirs()
        self._dir = tempfile.TemporaryDirectory(prefix=f"{DIR_PREFIX}{os.getpid()}-")
        base, render = Path(self._dir.name) / "base.html", Path(self._dir.name) / "render.js"
        render.write_text(_RENDER_JS, encoding="utf-8")
        plotly_js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
        base.write_text(_BASE_PAGE.format(plotly=plotly_js.as_uri(), render=render.as_uri()), encoding="utf-8")
        # Chromium's profile goes inside that folder too, so a killed process's profile is swept with it
        self._browser = choreo.Browser(path=path, headless=True, tmp_dir=self._dir.name)
        await self._browser.open()
        tab = self._browser.get_tab() or await self._browser.create_tab()
        self._check(await tab.send_command("Page.enable"))
        loaded = tab.subscribe_once("Page.loadEventFired")
        self._check(await tab.send_command("Page.navigate", params={"url": base.as_uri()}))
        await loaded
        self._tab = tab

    @staticmethod
    def _check(response: dict) -> dict:
        if "error" in response:
            raise RuntimeError(f"DevTools error: {response['error']}")
        return response.get("result", {})

    async def _render(self, page: str, figures: list[tuple[str, str]]) -> None:
        figs = "[" + ",".join(f"[{json.dumps(i)},{fig}]" for i, fig in figures) + "]"
        res = self._check(await self._tab.send_command("Runtime.evaluate", params={
            "expression": f"povmapRender({json.dumps(page)}, {figs})", "awaitPromise": True, "returnByValue": True}))
        if "exceptionDetails" in res:
            raise RuntimeError(f"render script failed: {res['exceptionDetails']}")

    async def _png(self, page: str, width: int, height: int, scale: float) -> bytes:
        if self._tab is None:
            await self._open()
        self._check(await self._tab.send_command("Emulation.setDeviceMetricsOverride", params={
            "width": width, "height": height, "deviceScaleFactor": scale, "mobile": False}))
        await self._render(page, [])
        shot = self._check(await self._tab.send_command("Page.captureScreenshot", params={
            "format": "png", "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}}))
        return base64.b64decode(shot["data"])

    async def _pdf(self, page: str, figures: list[tuple[str, str]], footer: str) -> bytes:
        if self._tab is None:
            await self._open()
        self._check(await self._tab.send_command("Emulation.clearDeviceMetricsOverride"))
        await self._render(page, figures)
        pdf = self._check(await self._tab.send_command("Page.printToPDF", params={
            "printBackground": True, "preferCSSPageSize": True, "displayHeaderFooter": bool(footer),
            "headerTemplate": "<span></span>", "footerTemplate": footer or "<span></span>"}))
        return base64.b64decode(pdf["data"])

    async def _close(self):
        browser, self._browser, self._tab = self._browser, None, None
        try:
            if browser is not None:
                await asyncio.wait_for(browser.close(), 10)
        finally:
            if self._dir is not None:
                self._dir.cleanup()
                self._dir = None

    def _run(self, make):
        """Run ``make()`` (a coroutine factory) on the browser's loop; a dead browser is replaced and tried once more."""
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                threading.Thread(target=self._loop.run_forever, name="povmap-chromium", daemon=True).start()
                atexit.register(self.close)
            for attempt in (1, 2):
                future = asyncio.run_coroutine_threadsafe(make(), self._loop)
                try:
                    return future.result(RENDER_TIMEOUT_S)
                except ExportError:
                    raise
                except Exception as exc:  # noqa: BLE001 - any browser failure: start afresh
                    future.cancel()
                    self._discard()
                    if attempt == 2 or isinstance(exc, TimeoutError):
                        # the user is told to try again; the cause goes to the server log
                        logging.getLogger("povmap").warning("export failed", exc_info=exc)
                        raise ExportError("error.export.failed") from exc

    def _discard(self):
        try:
            asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(15)
        except Exception:  # noqa: BLE001 - a dead browser cannot be closed more cleanly; the next call restarts
            pass

    def png(self, page: str, size: tuple[int, int], scale: float = 1) -> bytes:
        return self._run(lambda: self._png(page, int(size[0]), int(size[1]), float(scale)))

    def pdf(self, page: str, figures: list[tuple[str, str]] = (), footer: str = "") -> bytes:
        """``figures``: (element id, plotly figure JSON) drawn into the page before printing."""
        return self._run(lambda: self._pdf(page, list(figures), footer))

    def start(self) -> None:
        """Open the browser now (e.g. at app start), so the first export does not pay Chromium's start-up."""
        async def opened():
            if self._tab is None:
                await self._open()
        self._run(opened)

    def close(self) -> None:
        """Close the browser (also at interpreter exit); a later render opens a new one."""
        if self._loop is not None and self._browser is not None:
            self._discard()


CHROMIUM = _Chromium()
