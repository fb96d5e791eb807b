"""API secret keys at rest: sealed with the server key, opened only to sign or to hand out.

A secret key signs requests as its user, so a copy of the database (or of SQLite's file) must
not be enough to sign as anyone. ``user.secret_key`` holds ``cs1:`` and the URL-safe base64 of
a 12-byte nonce and the AES-256-GCM ciphertext of the key (``cryptography``'s AESGCM); the
256-bit server key lives apart from the database (DIR/server.key, or a file the operator names:
``cirrostack.datadir``). Every server on one database needs the same server key.

The composition root builds one ``Vault`` and hands it to ``db.engine.make_sessionmaker``
(``Vault.session_info``); services reach it through the session (``of``), so that the
dispatcher, the job runner and the seed all seal and open with the same key without it being
global. At start ``seal_clear_keys`` checks that the key opens what is stored and seals the
clear keys an older cirrostack left.

    SecretsError
     ├── ServerKeyUnusable   the key file is missing, unreadable, or not a 32-byte key
     ├── WrongServerKey      the key does not open the secret keys stored in this database
     └── SecretUnreadable    one stored value does not open (another key, or altered)
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Mapping

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.orm import Session

from cirrostack.db.models import accounts as models

KEY_BYTES = 32
"""The server key: 256 bits for AES-256-GCM."""

PREFIX = "cs1:"
"""Marks a sealed value (version 1). Plain keys use only ``A-Z a-z 0-9 - _``: never a colon."""

_NONCE_BYTES = 12
#: Bound into every ciphertext, so a sealed secret key cannot pass for another sealed field.
_PURPOSE = b"cirrostack user.secret_key v1"
#: The purpose of a host agent's secret (host detail ``agent.secret``).
HOST_SECRET = b"cirrostack host agent secret v1"
_INFO_KEY = "cirrostack.vault"


class SecretsError(Exception):
    """Root of the errors about the server key and sealed secrets."""


class ServerKeyUnusable(SecretsError):
    """The server key file is missing, unreadable, or does not hold a 32-byte key."""


class WrongServerKey(SecretsError):
    """The server key does not open the secret keys this database holds."""


class SecretUnreadable(SecretsError):
    """A stored value does not open with the server key (another key, or altered)."""


def new_key() -> bytes:
    """A fresh random server key (from the OS CSPRNG)."""
    return secrets.token_bytes(KEY_BYTES)


def is_sealed(stored: str) -> bool:
    """Whether ``stored`` is a sealed value rather than a clear key."""
    return stored.startswith(PREFIX)


class Vault:
    """Seals and opens secret keys with one server key; its repr shows nothing of the key."""

    def __init__(self, key: bytes) -> None:
        """Raise ServerKeyUnusable unless ``key`` has exactly 32 bytes."""
        if len(key) != KEY_BYTES:
            raise ServerKeyUnusable(f"a server key has {KEY_BYTES} bytes, not {len(key)}")
        self._cipher = AESGCM(key)

    def __repr__(self) -> str:
        return "Vault(<server key>)"

    def seal(self, plain: str, purpose: bytes = _PURPOSE) -> str:
        """``plain`` encrypted under a fresh nonce, as stored in ``user.secret_key``.

        ``purpose`` is bound into the ciphertext: a value sealed for one purpose (a host
        agent's secret, ``HOST_SECRET``) does not open as another (a user's secret key).
        """
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = self._cipher.encrypt(nonce, plain.encode(), purpose)
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def open(self, stored: str, purpose: bytes = _PURPOSE) -> str:
        """The plain key ``stored`` seals (for ``purpose``); raises SecretUnreadable if it
        does not open."""
        if not is_sealed(stored):
            raise SecretUnreadable("the stored value is not sealed")
        try:
            raw = base64.urlsafe_b64decode(stored[len(PREFIX) :].encode("ascii"))
            plain = self._cipher.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], purpose)
        except (InvalidTag, ValueError, binascii.Error) as exc:
            raise SecretUnreadable("the stored value does not open with the server key") from exc
        return plain.decode()

    def session_info(self) -> Mapping[str, object]:
        """What ``db.engine.make_sessionmaker(info=...)`` takes to give sessions this vault."""
        return {_INFO_KEY: self}


def of(session: Session) -> Vault:
    """The vault of the session's factory; raises ServerKeyUnusable when it was given none.

    A session without a vault is a wiring mistake of a composition root: failing loudly keeps
    a secret key from ever being written in clear.
    """
    found = session.info.get(_INFO_KEY)
    if not isinstance(found, Vault):
        raise ServerKeyUnusable("this session factory was built without the server key")
    return found


def opened(session: Session, stored: str | None) -> str | None:
    """The plain secret key of a ``user.secret_key`` value; None when absent or unreadable.

    Called on the signature path: an unreadable row authenticates nobody (a 401, as for an
    unknown key) rather than failing the request.
    """
    if stored is None:
        return None
    try:
        return of(session).open(stored)
    except SecretUnreadable:
        return None


def seal_clear_keys(session: Session, vault: Vault) -> int:
    """At start: check ``vault`` opens the stored keys, seal the clear ones; how many it sealed.

    Raises WrongServerKey when a sealed key of this database does not open (a second server
    started with a key of its own). Each clear key is replaced by one conditional UPDATE, so
    servers starting together on one database never seal a value twice.
    """
    user = models.User
    sample = session.scalar(
        sa.select(user.secret_key).where(user.secret_key.startswith(PREFIX)).limit(1)
    )
    if sample is not None:
        try:
            vault.open(sample)
        except SecretUnreadable as exc:
            raise WrongServerKey(
                "the server key does not open the API secret keys stored in this database: "
                "every server on one database needs the same key file"
            ) from exc
    clear = session.execute(
        sa.select(user.id, user.secret_key).where(
            user.secret_key.is_not(None), ~user.secret_key.startswith(PREFIX)
        )
    ).all()
    sealed = 0
    for ident, plain in clear:
        result = session.execute(
            sa.update(user)
            .where(user.id == ident, user.secret_key == plain)
            .values(secret_key=vault.seal(str(plain)))
        )
        sealed += int(result.rowcount)  # type: ignore[attr-defined]
    return sealed
