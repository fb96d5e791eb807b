"""Password hashing for user logins.

Called when a user is created or changes password (:func:`hash_password`, or :func:`prepare`
before the transaction and :func:`stored_form` inside it) and at ``login`` (:func:`verify_password`,
or :func:`verify_or_waste` when the user may not exist, with no transaction open). The stored form
is ``pbkdf2_sha256$<iterations>$<salt>$<hash>`` (PBKDF2-HMAC-SHA256, 16-byte random salt, 32-byte
hash, both URL-safe base64 without padding), so the cost can be raised later: :func:`needs_rehash`
tells the login path when to re-hash.

Cost: :data:`ITERATIONS` = 200,000 took 62 ms per hash on the development machine (best of 15;
median 72 ms with other test runs sharing its 2 vCPUs; Python 3.11.7 / OpenSSL), inside the
50-100 ms budget that keeps logins and tests fast.
OWASP's 2023 figure for PBKDF2-SHA256 is 600,000 (about 190 ms here); raise it when the budget
allows, old hashes keep verifying.

Guarantees: hashes are compared with :func:`hmac.compare_digest`; an empty password is never
hashed (:class:`EmptyPassword`) and never verifies (CVE-2014-7807: an empty password passed on
became an unauthenticated LDAP bind); :func:`verify_password` returns False, never raises, for a
stored value it cannot read (unknown scheme, corrupt fields, absurd iteration counts).
:func:`verify_or_waste` costs one full PBKDF2 derivation whether or not there is a stored hash,
so an unknown username answers as slowly as a known one (no user enumeration by timing).

Exceptions::

    PasswordError
    └── EmptyPassword   hash_password("")
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

SCHEME = "pbkdf2_sha256"
ITERATIONS = 200_000
SALT_BYTES = 16
HASH_BYTES = 32
MAX_ITERATIONS = 10_000_000
"""Stored values asking for more are refused, so a corrupt row cannot stall a login."""


class PasswordError(Exception):
    """A password cannot be used."""


class EmptyPassword(PasswordError):
    """The password is empty."""

    def __init__(self) -> None:
        super().__init__("the password must not be empty")


@dataclass(frozen=True)
class _Stored:
    iterations: int
    salt: bytes
    digest: bytes


def hash_password(plain: str) -> str:
    """The stored form of ``plain`` with a fresh salt; raises EmptyPassword for ``""``."""
    if not plain:
        raise EmptyPassword()
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _derive(plain, salt, ITERATIONS)
    return "$".join((SCHEME, str(ITERATIONS), _b64(salt), _b64(digest)))


@dataclass(frozen=True)
class Prepared:
    """A password hashed before the transaction that stores it (no lock held while hashing).

    Called by the API's ``before`` steps; services store ``stored`` and may still check the
    plain text against a password policy.
    """

    plain: str = field(repr=False)
    stored: str = field(repr=False)


def prepare(plain: str) -> Prepared:
    """Hash ``plain`` now; raises EmptyPassword for ``""``."""
    return Prepared(plain, hash_password(plain))


def stored_form(password: str | Prepared) -> str:
    """What the ``user.password`` column keeps: a prepared hash, or ``password`` hashed now."""
    return password.stored if isinstance(password, Prepared) else hash_password(password)


def plain_text(password: str | Prepared) -> str:
    """The plain text of ``password`` (for a password policy), prepared or not."""
    return password.plain if isinstance(password, Prepared) else password


@dataclass(frozen=True)
class Verified:
    """A current password checked before the transaction that needs the answer (no lock held
    while hashing): whether it matched ``stored``, the hash it was checked against. The
    transaction trusts ``matches`` only while the user's hash is still ``stored``."""

    stored: str = field(repr=False)
    matches: bool

    def holds_for(self, current: str) -> bool:
        """True if the password matched and ``current`` is still the hash it matched."""
        return self.matches and hmac.compare_digest(self.stored, current)


def verify_ahead(plain: str, stored: str | None) -> Verified:
    """Check ``plain`` against ``stored`` now (slow: call with no transaction open); with no
    stored hash (no such user) it costs the same derivation and never matches."""
    return Verified(stored or "", verify_or_waste(plain, stored))


def verify_password(plain: str, stored: str) -> bool:
    """True if ``plain`` is the password ``stored`` was made from; False for "" or unreadable."""
    parsed = _parse(stored)
    if not plain or parsed is None:
        return False
    candidate = _derive(plain, parsed.salt, parsed.iterations)
    return hmac.compare_digest(candidate, parsed.digest)


#: What an unknown user's password is checked against: today's cost, matching nothing.
_NOTHING = _Stored(ITERATIONS, b"\0" * SALT_BYTES, b"\0" * HASH_BYTES)


def verify_or_waste(plain: str, stored: str | None) -> bool:
    """:func:`verify_password` when there is a ``stored`` hash; otherwise False, after deriving
    a hash of ``plain`` at today's cost, as long as verifying a real user's password takes.

    Called by login for every attempt, so that known and unknown usernames cost the same.
    """
    if stored is not None or not plain:  # "" is refused at once either way
        return verify_password(plain, stored or "")
    candidate = _derive(plain, _NOTHING.salt, _NOTHING.iterations)
    hmac.compare_digest(candidate, _NOTHING.digest)
    return False


def needs_rehash(stored: str) -> bool:
    """True if ``stored`` is unreadable or weaker than today's parameters."""
    parsed = _parse(stored)
    return parsed is None or parsed.iterations < ITERATIONS


def _derive(plain: str, salt: bytes, iterations: int) -> bytes:
    secret = plain.encode("utf-8", "surrogatepass")
    return hashlib.pbkdf2_hmac("sha256", secret, salt, iterations, HASH_BYTES)


def _parse(stored: str) -> _Stored | None:
    parts = stored.split("$")
    if len(parts) != 4 or parts[0] != SCHEME:
        return None
    try:
        parsed = _Stored(_iterations(parts[1]), _unb64(parts[2]), _unb64(parts[3]))
    except (ValueError, binascii.Error):
        return None
    if not parsed.salt or len(parsed.digest) != HASH_BYTES:
        return None
    return parsed


def _iterations(text: str) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= len(str(MAX_ITERATIONS))):
        raise ValueError("not an iteration count")
    iterations = int(text)
    if not 0 < iterations <= MAX_ITERATIONS:
        raise ValueError("iteration count out of range")
    return iterations


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not text.isascii():
        raise ValueError("not base64")
    padded = text + "=" * (-len(text) % 4)
    return base64.b64decode(padded, altchars=b"-_", validate=True)
