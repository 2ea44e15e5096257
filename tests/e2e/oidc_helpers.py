"""The browser tests' users of the demo OpenID Connect provider (django-oauth-toolkit, ``deploy/demo_idp/``, started
by :class:`deploy.idp.OidcProvider`), an app server configured to sign in through it, and signing in as a test user
in Chromium."""
from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import Page, expect
from server_helpers import LoopbackServer, free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))
from deploy.idp import User, write_auth_secrets  # noqa: E402
from deploy.idp import OidcProvider as _Provider  # noqa: E402

TEST_USERS = {u.username: u for u in (
    User("ana", "ana-pass-4711", "Ana Analyst", ("povmap-analyst",)),
    User("stew", "stew-pass-4711", "Somchai Steward", ("povmap-steward-46",)),  # Kalasin's data steward
    User("adm", "adm-pass-4711", "Adam Admin", ("povmap-admin",)),
    User("nobody", "nobody-pass-4711", "No Role", ()),
)}
__all__ = ["TEST_USERS", "OidcProvider", "write_auth_secrets", "sign_in", "start_app_with_auth"]


def OidcProvider(data_dir: Path, log_path: Path, redirect_uris: list[str]) -> _Provider:  # noqa: N802
    """The provider with the test users, its log at ``log_path``."""
    return _Provider(data_dir, list(TEST_USERS.values()), redirect_uris, log=log_path)


def app_port_and_redirect() -> tuple[int, str]:
    """The app's port, chosen before the provider starts (the provider must know the redirect URI)."""
    port = free_port()
    return port, f"http://localhost:{port}/oauth2callback"


def start_app_with_auth(provider: _Provider, port: int, workdir: Path, log_path: Path,
                        env: dict[str, str]) -> LoopbackServer:
    """``streamlit run app.py`` with sign-in through ``provider``: its ``.streamlit/secrets.toml`` is in
    ``workdir`` (the server's working folder), never in the repository."""
    write_auth_secrets(workdir, provider, f"http://localhost:{port}")
    server = LoopbackServer([sys.executable, str(REPO_ROOT / "serve.py"), "run", str(REPO_ROOT / "app.py")], log_path,
                            cwd=workdir, env=env, port=port)
    server.url = f"http://localhost:{port}"  # the host of the redirect URI, so the sign-in cookie comes back
    return server


def sign_in(page: Page, app_url: str, user: User, timeout: float = 90_000) -> None:
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
