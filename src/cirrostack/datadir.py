"""The data directory, private to the server's user, and the server key file.

Called by the CLI (the composition root) before anything is written. ``prepare`` makes the
directory 0700 (creating it, or tightening one an older cirrostack made 0755), sets the
process umask to 077 so that every file the server and SQLite create afterwards (cloud.db,
its -wal and -shm, admin.json, server.key) is 0600, and tightens the files already there.
``server_key`` reads the key that seals API secret keys (``accounts.vault``): DIR/server.key,
created 0600 on first start, or a file the operator names, which must exist.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import stat
from pathlib import Path

from cirrostack.accounts import vault

KEY_FILE_NAME = "server.key"
"""The server key's file in the data directory, when the operator names none."""

DIRECTORY_MODE = 0o700
FILE_MODE = 0o600


def prepare(directory: Path) -> None:
    """Make ``directory`` (and what is in it) private and keep new files private (umask 077).

    Raises OSError when the directory cannot be created or changed.
    """
    os.umask(0o077)
    directory.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
    os.chmod(directory, DIRECTORY_MODE)
    for path in directory.iterdir():
        if path.is_file() and not path.is_symlink():
            _tighten(path)


def _tighten(path: Path) -> None:
    current = stat.S_IMODE(path.stat().st_mode)
    if current & 0o077:
        # A file of another user (a log the operator keeps there) is not ours to change.
        with contextlib.suppress(PermissionError):
            os.chmod(path, current & 0o700)


def server_key(path: Path, *, create: bool) -> bytes:
    """The 32-byte server key in ``path``; with ``create``, a missing file is made 0600.

    The default DIR/server.key is created on first start; a file the operator names
    (``create=False``) must exist. Raises vault.ServerKeyUnusable with the reason otherwise.
    """
    if create and not path.exists():
        _create(path)
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise vault.ServerKeyUnusable(f"the server key file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise vault.ServerKeyUnusable(f"the server key file {path} is unreadable: {exc}") from exc
    key = _decode(text)
    if key is None:
        raise vault.ServerKeyUnusable(
            f"the server key file {path} must hold {vault.KEY_BYTES} random bytes in base64 "
            "(e.g. the output of: openssl rand -base64 32)"
        )
    return key


def encode_key(key: bytes) -> str:
    """The text a key file holds for ``key`` (URL-safe base64)."""
    return base64.urlsafe_b64encode(key).decode("ascii")


def _create(path: Path) -> None:
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return  # another server process created it first; read that one
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(encode_key(vault.new_key()) + "\n")


def _decode(text: str) -> bytes | None:
    """The key in base64 (standard or URL-safe alphabet), or None when it is not 32 bytes."""
    standard = text.replace("-", "+").replace("_", "/")
    try:
        key = base64.b64decode(standard, validate=True)
    except (binascii.Error, ValueError):
        return None
    return key if len(key) == vault.KEY_BYTES else None
