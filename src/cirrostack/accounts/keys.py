"""Random credentials: API key pairs and session keys.

Called when a user is created or calls ``registerUserKeys`` (:func:`new_key_pair`) and at
``login`` (:func:`new_session_key`). Values come from :mod:`secrets` (the OS CSPRNG; CloudStack's
CVE-2022-26779 was a weak RNG for tokens) and use only the URL-safe base64 alphabet
``A-Z a-z 0-9 - _``: nothing a client must escape in a URL, cookie or signed string (Java's
URLEncoder leaves all of them as they are). Raises nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

KEY_BYTES = 64
"""Random bytes in each API and secret key: 86 characters, as CloudStack's own keys."""

SESSION_KEY_BYTES = 32
"""Random bytes in a session key: 43 characters."""


@dataclass(frozen=True)
class KeyPair:
    """A user's API key (public, identifies the user) and secret key (signs requests)."""

    api_key: str
    secret_key: str = field(repr=False)


def new_key_pair() -> KeyPair:
    """A fresh, independent pair of 86-character URL-safe keys."""
    return KeyPair(secrets.token_urlsafe(KEY_BYTES), secrets.token_urlsafe(KEY_BYTES))


def new_session_key() -> str:
    """A fresh 43-character URL-safe session key (also used for JSESSIONID)."""
    return secrets.token_urlsafe(SESSION_KEY_BYTES)
