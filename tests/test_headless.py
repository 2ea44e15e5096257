"""The export browser's temporary folder: removed at a normal exit, and after a kill by the next process."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from povmap.core.config import browser_path
from povmap.present import headless

REPO = Path(__file__).resolve().parent.parent
RENDER = """
import os, signal, sys
from povmap.present import headless
headless.CHROMIUM.png("<html><body>ก</body></html>", (120, 80))
print(headless.CHROMIUM._dir.name, flush=True)
if sys.argv[1] == "kill":
    os.kill(os.getpid(), signal.SIGKILL)
"""


def ours(folder: Path) -> list[str]:
    """What povmap and choreographer leave in ``folder`` (Chromium's own org.chromium.* scratch files aside)."""
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("org.chromium."))


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_sweep_removes_only_dead_processes_folders(tmp_path):
    dead = tmp_path / f"{headless.DIR_PREFIX}{_dead_pid()}-abc123"
    mine = tmp_path / f"{headless.DIR_PREFIX}{os.getpid()}-def456"
    parent = tmp_path / f"{headless.DIR_PREFIX}{os.getppid()}-ghi789"  # alive
    other = tmp_path / f"{headless.DIR_PREFIX}k2j4_x9q"  # not a name povmap writes: left alone
    for d in (dead, mine, parent, other):
        d.mkdir()
        (d / "render.js").write_text("//", encoding="utf-8")
    a_file = tmp_path / f"{headless.DIR_PREFIX}{_dead_pid()}-file"
    a_file.write_text("x", encoding="utf-8")
    assert headless.sweep_dead_dirs(tmp_path) == [dead]
    assert not dead.exists() and mine.exists() and parent.exists() and other.exists() and a_file.exists()


@pytest.mark.skipif(browser_path() is None, reason="no Chromium for exports")
def test_render_folder_gone_after_exit_and_after_a_kill(tmp_path):
    env = {**os.environ, "TMPDIR": str(tmp_path)}

    def render(how: str) -> tuple[subprocess.CompletedProcess, Path]:
        proc = subprocess.run([sys.executable, "-c", RENDER, how], env=env, cwd=REPO, capture_output=True,
                              text=True, timeout=180)
        return proc, Path(proc.stdout.strip().splitlines()[-1])

    killed, left = render("kill")
    assert killed.returncode == -9, killed.stderr
    assert left.parent == tmp_path and left.name.startswith(headless.DIR_PREFIX) and left.is_dir()  # no exit code ran
    assert ours(tmp_path) == [left.name]  # Chromium's profile is inside it
    done, own = render("exit")
    assert done.returncode == 0, done.stderr
    assert not left.exists(), "the next process's browser removes the killed process's folder"
    assert not own.exists(), "a normal exit removes the process's own folder"
    assert ours(tmp_path) == [], "Chromium's profile is inside the render folder, so nothing else is left"
