"""Start the tests' OpenID Connect provider (django-oauth-toolkit) on 127.0.0.1.

    python serve.py --port P --data-dir DIR --config users.json

``users.json``: {"users": [{"username", "password", "email", "name", "groups": [...]}, ...],
"client": {"client_id", "client_secret", "redirect_uris": [...]}}. The data folder gets the SQLite database, the
RSA signing key and Django's secret, all made afresh; nothing is kept in the repository.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--config", type=Path, required=True)
    args = ap.parse_args()
    data = args.data_dir
    data.mkdir(parents=True, exist_ok=True)
    _key(data)
    os.environ.update(OIDC_DATA_DIR=str(data), OIDC_ISSUER=f"http://127.0.0.1:{args.port}/o",
                      DJANGO_SETTINGS_MODULE="settings")
    sys.path.insert(0, str(Path(__file__).parent))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    _accounts(json.loads(args.config.read_text(encoding="utf-8")))
    call_command("runserver", f"127.0.0.1:{args.port}", use_reloader=False, use_threading=True,
                 skip_checks=True)


def _key(data: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (data / "oidc.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                      serialization.NoEncryption()))
    (data / "django-secret").write_text(secrets.token_hex(32))


def _accounts(config: dict) -> None:
    from django.contrib.auth.models import Group, User
    from oauth2_provider.models import Application

    for u in config["users"]:
        first, _, last = u["name"].partition(" ")
        user = User.objects.create_user(u["username"], u["email"], u["password"], first_name=first, last_name=last)
        for g in u["groups"]:
            user.groups.add(Group.objects.get_or_create(name=g)[0])
    c = config["client"]
    Application.objects.create(
        name="povmap", client_id=c["client_id"], client_secret=c["client_secret"], hash_client_secret=True,
        client_type=Application.CLIENT_CONFIDENTIAL, authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=" ".join(c["redirect_uris"]), algorithm=Application.RS256_ALGORITHM, skip_authorization=True)


if __name__ == "__main__":
    main()
