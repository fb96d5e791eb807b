"""SSH key pairs: registered public keys, or pairs generated here whose private key is
answered once and never stored.

Names are unique per account regardless of case, and so are fingerprints: the database's
unique keys decide between concurrent requests (``db.unique.refusing``). The fingerprint is
CloudStack's: the MD5 of the decoded key blob in colon hex. Generating an RSA key takes tens
of milliseconds, so ``generate`` runs before the command's transaction.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from cryptography import exceptions
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.accounts import access, locks, scope
from cirrostack.db import query, unique
from cirrostack.db.models import accounts as account_models
from cirrostack.db.models import attachments as models

#: The key types CloudStack accepts (SSHKeysHelper).
KEY_TYPES = frozenset(
    {
        "ssh-rsa",
        "ssh-dss",
        "ssh-ed25519",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
    }
)
_NAME_KEY = "uq_ssh_keypairs_account_id_live_name"
_FINGERPRINT_KEY = "uq_ssh_keypairs_account_id_fingerprint"


@dataclass(frozen=True)
class Generated:
    """A fresh pair: the public key in OpenSSH form and the private key in PEM."""

    public_key: str
    private_key: str


def generate() -> Generated:
    """A new RSA 2048 pair (slow: call with no transaction open)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return Generated(public.decode(), private.decode())


def normalized(public_key: str) -> str:
    """``<type> <base64>`` of an OpenSSH public key line (a comment dropped); raises
    InvalidParameterValue for anything that is not a whole key of an accepted type."""
    parts = public_key.strip().split()
    if len(parts) < 2 or parts[0] not in KEY_TYPES:
        raise _invalid()
    try:
        blob = base64.b64decode(parts[1], validate=True)
        serialization.load_ssh_public_key(f"{parts[0]} {parts[1]}".encode())
    except (binascii.Error, ValueError, exceptions.UnsupportedAlgorithm) as exc:
        raise _invalid() from exc
    if _blob_type(blob) != parts[0]:
        raise _invalid()
    return f"{parts[0]} {parts[1]}"


def _blob_type(blob: bytes) -> str | None:
    """The key type the blob itself names (its first SSH string)."""
    if len(blob) < 4:
        return None
    (length,) = struct.unpack(">I", blob[:4])
    return blob[4 : 4 + length].decode("ascii", "replace")


def _invalid() -> errors.InvalidParameterValue:
    return errors.InvalidParameterValue("Public key is invalid")


def fingerprint(public_key: str) -> str:
    """CloudStack's fingerprint of a normalized key: MD5 of the blob, colon hex."""
    digest = hashlib.md5(base64.b64decode(public_key.split()[1]), usedforsecurity=False)
    return ":".join(f"{byte:02x}" for byte in digest.digest())


def register(
    session: Session, owner: account_models.Account, name: str, public_key: str
) -> models.SshKeyPair:
    """Record ``public_key`` under ``name`` for ``owner``; a name or key the account already
    has (any case) raises InvalidParameterValue, decided by the unique keys."""
    key = normalized(public_key)
    owner = locks.account(session, owner.id)  # a deleteAccount waits, or is waited for
    row = models.SshKeyPair(
        account_id=owner.id,
        domain_id=owner.domain_id,
        keypair_name=name,
        fingerprint=fingerprint(key),
        public_key=key,
    )
    with (
        unique.refusing(session, _NAME_KEY, _exists(name)),
        unique.translating(
            _FINGERPRINT_KEY,
            errors.InvalidParameterValue(
                f"A key pair with key '{key}' already exists for this account."
            ),
        ),
    ):
        session.add(row)
        session.flush()
    return row


def _exists(name: str) -> errors.InvalidParameterValue:
    return errors.InvalidParameterValue(
        f"A key pair with name '{name}' already exists for this account."
    )


def by_name(session: Session, account_id: int, name: str) -> models.SshKeyPair:
    """Account ``account_id``'s key pair ``name`` (any case); InvalidParameterValue when it has
    none, whoever else has one of that name (deployVirtualMachine's ``keypair``)."""
    found = session.scalars(
        sa.select(models.SshKeyPair).where(
            models.SshKeyPair.account_id == account_id,
            models.SshKeyPair.live_name == sa.func.lower(sa.literal(name, sa.String())),
        )
    ).first()
    if found is None:
        raise errors.InvalidParameterValue(f"A key pair with name '{name}' was not found.")
    return found


def delete(session: Session, account_id: int, name: str) -> models.SshKeyPair:
    """Remove the account's key pair ``name``; InvalidParameterValue when it has none."""
    found = by_name(session, account_id, name)
    deleted = session.execute(
        sa.delete(models.SshKeyPair).where(models.SshKeyPair.id == found.id)
    ).rowcount  # type: ignore[attr-defined]
    if deleted != 1:  # a concurrent delete won
        raise errors.InvalidParameterValue(f"A key pair with name '{name}' was not found.")
    return found


@dataclass(frozen=True)
class KeyPairFilter:
    """listSSHKeyPairs' filters."""

    owners: scope.Wanted
    name: str | None = None
    fingerprint: str | None = None
    keyword: str | None = None


def search(
    session: Session, caller: access.Caller, wanted: KeyPairFilter, page: query.Page
) -> tuple[Sequence[models.SshKeyPair], int]:
    """One page of the key pairs the caller may list, and the total."""
    pair = models.SshKeyPair
    statement = sa.select(pair).where(
        scope.condition(session, caller, wanted.owners, pair.account_id),
        *query.named_as_given((pair.keypair_name, wanted.name)),
        *query.equal_to_given((sa.func.lower(pair.fingerprint), _lower(wanted.fingerprint))),
    )
    if wanted.keyword:
        statement = statement.where(query.matches_keyword(pair.keypair_name, wanted.keyword))
    return query.paged(session, statement.order_by(pair.id), page)


def _lower(text: str | None) -> str | None:
    return None if text is None else text.lower()
