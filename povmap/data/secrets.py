"""The server's record-key secret: what makes each household's record key (povmap.core.cellkey) unguessable.

One file per installation, beside the imported datasets, created on first use with owner-only permissions. It must
stay the same for as long as figures are published (a new secret gives every cell new noise, and two sets of
noise on the same cells could be averaged); every server of one installation reads the same file.
"""
from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

SECRET_FILE = "record-key.secret"
SECRET_BYTES = 32


def record_key_secret(folder: str | os.PathLike) -> bytes:
    """The secret in ``folder``, created if absent (race-free: written to a temporary file, then linked into
    place, so a concurrent reader never sees a partial secret and exactly one creator wins)."""
    path = Path(folder) / SECRET_FILE
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".secret-")
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, secrets.token_bytes(SECRET_BYTES))
        os.fsync(fd)
        os.close(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process created it first: use theirs
    finally:
        os.unlink(tmp)
    return _read(path)


def _read(path: Path) -> bytes:
    data = path.read_bytes()
    if len(data) < 16:
        raise ValueError(f"{path}: the record-key secret is damaged (too short)")
    return data
