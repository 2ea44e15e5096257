"""A demo OpenID Connect provider (django-oauth-toolkit, ``deploy/demo_idp/``) on a loopback port.

It signs users in for ``cluster.py --demo-sign-in``, so that sign-in and roles can be tried on one machine, and the
browser tests sign in through it. It is not for production: its users come from a JSON file, and its database and
signing key are made afresh at each start. Behind a real deployment sits your organisation's provider
(deploy/README.md).
"""
from __future__ import annotations

import json
import os
import secrets
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from deploy.cluster import Process, free_port

PROVIDER = Path(__file__).resolve().parent / "demo_idp" / "serve.py"


@dataclass(frozen=True)
class User:
    username: str
    password: str
    name: str
    groups: tuple[str, ...]  # povmap's roles come from these (main README, "Sign-in and roles")

    @property
    def email(self) -> str:
        return f"{self.username}@example.org"


def demo_users() -> list[User]:
    """An admin, an analyst and Kalasin's data steward, each with a new random password."""
    return [User("admin", secrets.token_urlsafe(9), "Demo Admin", ("povmap-admin",)),
            User("analyst", secrets.token_urlsafe(9), "Demo Analyst", ("povmap-analyst",)),
            User("steward", secrets.token_urlsafe(9), "Demo Steward (Kalasin)", ("povmap-steward-46",))]


class OidcProvider(Process):
    """The provider as a context manager: ``metadata_url``, ``client_id``, ``client_secret``. The app's redirect
    URIs must be known before it starts."""

    def __init__(self, folder: Path, users: list[User], redirect_uris: list[str], log: Path | None = None):
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}/o"
        self.metadata_url = f"{self.issuer}/.well-known/openid-configuration"
        self.client_id, self.client_secret = "povmap", secrets.token_hex(16)
        folder.mkdir(parents=True, exist_ok=True)
        config = folder / "config.json"
        config.write_text(json.dumps({
            "users": [{"username": u.username, "password": u.password, "email": u.email, "name": u.name,
                       "groups": list(u.groups)} for u in users],
            "client": {"client_id": self.client_id, "client_secret": self.client_secret,
                       "redirect_uris": redirect_uris}}), encoding="utf-8")
        super().__init__([sys.executable, str(PROVIDER), "--port", str(self.port), "--data-dir", str(folder / "data"),
                          "--config", str(config)], log or folder / "provider.log",
                         env={**os.environ, "PYTHONUNBUFFERED": "1"})

    def __enter__(self) -> OidcProvider:
        self.wait_until(self._answers, "the OpenID Connect provider")
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.metadata_url, timeout=2) as r:
                return json.load(r).get("issuer") == self.issuer
        except (urllib.error.URLError, OSError, ValueError):
            return False


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
