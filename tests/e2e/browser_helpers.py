"""Browser-test helpers shared by the e2e files: wait on Streamlit's own signals and on a painted map,
and start a test's own ``streamlit run`` server (fault tests kill and restart theirs)."""
from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect
from server_helpers import free_port, health  # noqa: F401 - re-exported for the e2e files

SCRIPT_DONE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
MAP_CANVAS = '[data-testid="stDeckGlJsonChart"] canvas'
LOAD_TIMEOUT_MS = 90_000
RERUN_TIMEOUT_MS = 45_000


def wait_script_done(page: Page, timeout: float = RERUN_TIMEOUT_MS) -> None:
    page.locator(SCRIPT_DONE).wait_for(state="attached", timeout=timeout)


def map_canvas(page: Page) -> Locator:
    return page.locator(MAP_CANVAS).first


def canvas_colours(canvas: Locator, min_share: float = 0.001) -> int:
    """Distinct colours covering at least ``min_share`` of the canvas (ignores anti-aliasing and the zoom buttons)."""
    from PIL import Image

    img = Image.open(io.BytesIO(canvas.screenshot())).convert("RGB")
    w, h = img.size
    colours = img.getcolors(w * h) or []
    return sum(1 for count, _ in colours if count >= min_share * w * h)


def wait_map_painted(page: Page, min_colours: int = 5, timeout_s: float = 60) -> int:
    """Wait until the deck.gl canvas exists and shows more than ``min_colours`` colours."""
    canvas = map_canvas(page)
    canvas.wait_for(state="visible", timeout=LOAD_TIMEOUT_MS)
    deadline = time.monotonic() + timeout_s
    n = canvas_colours(canvas)
    while n <= min_colours:
        if time.monotonic() > deadline:
            pytest.fail(f"map canvas still looks blank after {timeout_s:.0f} s ({n} colours)")
        n = canvas_colours(canvas)  # each screenshot takes a while: no extra sleep needed
    return n


def assert_no_exception(page: Page) -> None:
    expect(page.get_by_test_id("stException")).to_have_count(0)


def wait_rendered(page: Page, timeout: float = LOAD_TIMEOUT_MS) -> None:
    """After a finished run: wait until the frontend has drawn every element (no loading skeletons left)."""
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0, timeout=timeout)


def assert_no_traceback(page: Page) -> None:
    """No exception element and no Python traceback text anywhere on the page."""
    assert_no_exception(page)
    expect(page.locator("body")).not_to_contain_text("Traceback")


# ---- a test's own server -----------------------------------------------------------------------
REPO_ROOT = Path(__file__).resolve().parents[2]
SERVER_ARGS = ["--server.headless", "true", "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
               "--server.fileWatcherType", "none"]


def _descendants(pid: int) -> set[int]:
    """The processes below ``pid`` (from /proc): the export Chromium runs in a session of its own."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as f:
                children.setdefault(int(f.read().rsplit(")", 1)[1].split()[1]), []).append(int(entry))
        except (OSError, ValueError, IndexError):
            pass
    out, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.add(child)
            todo.append(child)
    return out


class AppServer:
    """``streamlit run app.py`` of this checkout on a free loopback port, in its own process group,
    with ``env`` added to the environment. ``entry`` replaces ``python -m streamlit`` (e.g. a wrapper
    that runs Streamlit's CLI in a process that also does something else)."""

    def __init__(self, log_path: Path, env: dict[str, str], entry: list[str] | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log = open(log_path, "w", encoding="utf-8")
        cmd = [*(entry or [sys.executable, "-m", "streamlit"]), "run", "app.py", "--server.port", str(self.port),
               *SERVER_ARGS]
        self.proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1", **env})

    def __enter__(self) -> "AppServer":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def wait_healthy(self, timeout_s: float = 90) -> None:
        deadline = time.monotonic() + timeout_s
        while health(self.url) != "ok":
            if self.proc.poll() is not None:
                pytest.fail(f"streamlit exited with {self.proc.returncode} before it was healthy:\n{self.tail()}")
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit not healthy at {self.url} after {timeout_s:.0f} s:\n{self.tail()}")
            time.sleep(0.25)  # poll interval of the bounded health wait

    def tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-n:])
        except OSError:
            return "(no server log)"

    def kill(self) -> None:
        """SIGKILL to the server's process group, as a crash or an OOM kill would: no cleanup runs.
        Its children in other sessions (the export Chromium) are then ended by their process ids."""
        others = _descendants(self.proc.pid)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=15)
        self._end(others)

    def stop(self) -> None:
        if self.proc.poll() is None:
            others = _descendants(self.proc.pid)
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=15)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                self.kill()
            self._end(others)
        self._log.close()

    @staticmethod
    def _end(pids: set[int], timeout_s: float = 10) -> None:
        """Wait for the given processes to go (they follow their parent's pipe); SIGKILL those left."""
        deadline = time.monotonic() + timeout_s
        while (alive := {p for p in pids if os.path.exists(f"/proc/{p}")}) and time.monotonic() < deadline:
            time.sleep(0.1)  # poll interval of the bounded wait for the children to exit
        for p in alive:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
