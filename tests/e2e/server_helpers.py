"""One ``streamlit run`` on a free loopback port: the harness the browser tests, the fault tests and the
bench scripts (``bench/bench_peers.py``, ``bench/bench_load.py``) share. No pytest or browser import, so
conftest and the bench scripts can use it."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

SERVER_ARGS = ["--server.headless", "true", "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
               "--server.fileWatcherType", "none"]


class ServerError(RuntimeError):
    """The server exited or did not become healthy in time; the message ends with its log's tail."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def health(url: str) -> str | None:
    """Streamlit's health answer ("ok"), or None while the server is not up."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            return r.read().decode("utf-8", "replace").strip()
    except (urllib.error.URLError, OSError):
        return None


def descendants(pid: int) -> set[int]:
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


class LoopbackServer:
    """``cmd`` (up to and including ``run <script>``) on a free loopback port (or ``port``, when the caller had to
    know it first), in its own process group, its output in ``log_path``. ``env`` is the whole environment."""

    def __init__(self, cmd: list[str], log_path: Path, *, cwd: Path, env: dict[str, str], name: str = "streamlit",
                 port: int | None = None):
        self.name, self.port = name, port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(log_path)
        self._log = open(self.log_path, "w", encoding="utf-8")
        self.proc = subprocess.Popen([*cmd, "--server.port", str(self.port), *SERVER_ARGS], cwd=cwd,
                                     stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env={**env, "PYTHONUNBUFFERED": "1"}, start_new_session=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def wait_healthy(self, timeout_s: float = 90) -> None:
        deadline = time.monotonic() + timeout_s
        while health(self.url) != "ok":
            if self.proc.poll() is not None:
                raise ServerError(f"{self.name} exited with {self.proc.returncode} before it was healthy:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise ServerError(f"{self.name} not healthy at {self.url} after {timeout_s:.0f} s:\n{self.tail()}")
            time.sleep(0.25)  # poll interval of the bounded health wait

    def tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-n:])
        except OSError:
            return "(no server log)"

    def kill(self) -> None:
        """SIGKILL to the server's process group, as a crash or an OOM kill would: no cleanup runs.
        Its children in other sessions (the export Chromium) are then ended by their process ids."""
        others = descendants(self.proc.pid)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=15)
        self._end(others)

    def stop(self) -> None:
        if self.proc.poll() is None:
            others = descendants(self.proc.pid)
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
