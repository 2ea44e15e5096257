"""Browser end-to-end fixtures: a real ``streamlit run`` server and headless Debian Chromium.

The server is started once per session on a free port and torn down (whole process group)
at the end. Readiness is awaited on ``/_stcore/health``, never with a fixed sleep.
Every test that uses ``app_page`` leaves a screenshot in ``test-artifacts/e2e/<test>.png``;
the terminal summary lists them.
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
from server_helpers import LoopbackServer, ServerError

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts" / "e2e"
SERVER_LOG = ARTIFACTS / "streamlit-server.log"
HEALTH_DEADLINE_S = 90
VIEWPORT = {"width": 1500, "height": 1100}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"]

_screenshots: list[Path] = []


@pytest.fixture(scope="session")
def app_url(user_db):
    """Base URL of a fresh ``python serve.py run app.py`` (this checkout, this Python), as ``make run`` starts it."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    server = LoopbackServer([sys.executable, "serve.py", "run", "app.py"], SERVER_LOG, cwd=REPO_ROOT,
                            env=dict(os.environ))
    try:
        try:
            server.wait_healthy(HEALTH_DEADLINE_S)
        except ServerError as exc:
            pytest.fail(str(exc))
        yield server.url
    finally:
        server.stop()


def _chromium_path() -> str | None:
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    return shutil.which("chromium")


@pytest.fixture(scope="session")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')")
    exe = _chromium_path()
    if exe is None:
        pytest.skip("no Chromium found (/usr/bin/chromium or `chromium` on PATH); `apt-get install chromium`")
    pw = sync_api.sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()
    finally:
        pw.stop()


@pytest.fixture
def app_page(request, browser, app_url):
    """A fresh browser context on the app; its screenshot is saved when the test ends (pass or fail)."""
    context = browser.new_context(viewport=VIEWPORT, locale="th-TH")
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.app_url = app_url  # type: ignore[attr-defined]
    try:
        yield page
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{request.node.name}.png"
        try:
            page.screenshot(path=str(path))
            _screenshots.append(path)
        except Exception as exc:  # noqa: BLE001 - a screenshot must never mask the test's own result
            print(f"screenshot for {request.node.name} failed: {exc}", file=sys.stderr)
        context.close()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not _screenshots:
        return
    terminalreporter.section("e2e screenshots")
    for path in _screenshots:
        try:
            shown = path.relative_to(Path.cwd())
        except ValueError:
            shown = path
        terminalreporter.write_line(str(shown))
