"""A real OpenID Connect provider for the browser tests (django-oauth-toolkit, ``tests/oidc_provider/``) on a free
loopback port, an app server configured to sign in through it, and signing in as a test user in Chromium."""
from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page, expect
from server_helpers import LoopbackServer, ServerError, free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
PROVIDER = REPO_ROOT / "tests" / "oidc_provider" / "serve.py"
START_DEADLINE_S = 60


@dataclass(frozen=True)
class TestUser:
    username: str
    password: str
    name: str
    groups: tuple[str, ...]

    @property
    def email(self) -> str:
        return f"{self.username}@example.org"


TEST_USERS = {u.username: u for u in (
    TestUser("ana", "ana-pass-4711", "Ana Analyst", ("povmap-analyst",)),
    TestUser("stew", "stew-pass-4711", "Somchai Steward", ("povmap-steward-46",)),  # Kalasin's data steward
    TestUser("adm", "adm-pass-4711", "Adam Admin", ("povmap-admin",)),
    TestUser("nobody", "nobody-pass-4711", "No Role", ()),
)}


class OidcProvider:
    """The provider as a context manager: ``metadata_url``, ``client_id``, ``client_secret``; the app's
    ``redirect_uris`` must be known before it starts."""

    def __init__(self, data_dir: Path, log_path: Path, redirect_uris: list[str]):
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}/o"
        self.metadata_url = f"{self.issuer}/.well-known/openid-configuration"
        self.client_id, self.client_secret = "povmap-test", secrets.token_hex(16)
        data_dir.mkdir(parents=True, exist_ok=True)
        config = data_dir / "config.json"
        config.write_text(json.dumps({
            "users": [{"username": u.username, "password": u.password, "email": u.email, "name": u.name,
                       "groups": list(u.groups)} for u in TEST_USERS.values()],
            "client": {"client_id": self.client_id, "client_secret": self.client_secret,
                       "redirect_uris": redirect_uris}}), encoding="utf-8")
        self.log_path = log_path
        self._log = open(log_path, "w", encoding="utf-8")
        self.proc = subprocess.Popen(
            [sys.executable, str(PROVIDER), "--port", str(self.port), "--data-dir", str(data_dir / "data"),
             "--config", str(config)], stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True)

    def __enter__(self) -> OidcProvider:
        deadline = time.monotonic() + START_DEADLINE_S
        while not self._answers():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise ServerError(f"the OpenID provider did not start:\n{self.log_path.read_text()[-3000:]}")
            time.sleep(0.2)  # poll interval of the bounded wait for the discovery document
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.metadata_url, timeout=2) as r:
                return json.load(r).get("issuer") == self.issuer
        except (urllib.error.URLError, OSError, ValueError):
            return False

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=15)
        self._log.close()


def app_port_and_redirect() -> tuple[int, str]:
    """The app's port, chosen before the provider starts (the provider must know the redirect URI)."""
    port = free_port()
    return port, f"http://localhost:{port}/oauth2callback"


def write_auth_secrets(workdir: Path, provider: OidcProvider, site: str) -> None:
    """``<workdir>/.streamlit/secrets.toml``: sign-in through ``provider`` for the app at ``site``. Servers that
    share it (behind a balancer) share the cookie secret, so a user signed in on one is signed in on all."""
    (workdir / ".streamlit").mkdir(parents=True, exist_ok=True)
    (workdir / ".streamlit" / "secrets.toml").write_text(f"""
[auth]
redirect_uri = "{site}/oauth2callback"
cookie_secret = "{secrets.token_hex(32)}"
client_id = "{provider.client_id}"
client_secret = "{provider.client_secret}"
server_metadata_url = "{provider.metadata_url}"
""", encoding="utf-8")


def start_app_with_auth(provider: OidcProvider, port: int, workdir: Path, log_path: Path,
                        env: dict[str, str]) -> LoopbackServer:
    """``streamlit run app.py`` with sign-in through ``provider``: its ``.streamlit/secrets.toml`` is in
    ``workdir`` (the server's working folder), never in the repository."""
    write_auth_secrets(workdir, provider, f"http://localhost:{port}")
    server = LoopbackServer([sys.executable, str(REPO_ROOT / "serve.py"), "run", str(REPO_ROOT / "app.py")], log_path,
                            cwd=workdir, env=env, port=port)
    server.url = f"http://localhost:{port}"  # the host of the redirect URI, so the sign-in cookie comes back
    return server


def sign_in(page: Page, app_url: str, user: TestUser, timeout: float = 90_000) -> None:
    """Sign in through the app's button and the provider's form; returns when the app shows the user."""
    from browser_helpers import wait_script_done

    page.goto(f"{app_url}/?lang=en")
    wait_script_done(page, timeout)
    page.get_by_role("button", name="Sign in").click()
    page.locator("#username").fill(user.username)
    page.locator("#password").fill(user.password)
    page.locator("#submit").click()
    # Back on the app (a new session, in the default language): the sidebar names the user.
    expect(page.get_by_test_id("stSidebar").get_by_text(user.name)).to_be_visible(timeout=timeout)
    wait_script_done(page, timeout)
