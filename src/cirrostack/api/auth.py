"""Who sent a request: a signed API key, or a login session.

Called by the dispatcher for every command except ``login``. Any failure is the same 401 with
CloudStack's text: the client learns nothing about which part was wrong.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from cirrostack.accounts import sessions, users
from cirrostack.api import errors, signing


@dataclass(frozen=True)
class Request:
    """A request as the transport received it: method, ordered raw pairs, cookies."""

    method: str
    pairs: tuple[tuple[str, str], ...]
    cookies: Mapping[str, str]

    def first(self, name: str) -> str | None:
        """The first value of parameter ``name`` (case-insensitive), or None."""
        wanted = name.lower()
        return next((value for key, value in self.pairs if key.lower() == wanted), None)


def authenticate(session: Session, request: Request, now: datetime.datetime) -> users.Owner:
    """The owner of a valid key signature or session; raises ApiError 401 otherwise."""
    session_key = _session_key(request)
    if session_key is not None:
        owner = sessions.resume(session, session_key, request.cookies.get("JSESSIONID"), now=now)
    else:
        owner = _by_signature(session, request.pairs, request.first("apikey"), now)
    if owner is None or not _active(owner):
        raise errors.unauthenticated()
    return owner


def _session_key(request: Request) -> str | None:
    parameter, cookie = request.first("sessionkey"), request.cookies.get("sessionkey")
    if parameter and cookie and parameter != cookie:
        raise errors.unauthenticated()
    return parameter or cookie or None


def _by_signature(
    session: Session,
    pairs: Sequence[tuple[str, str]],
    api_key: str | None,
    now: datetime.datetime,
) -> users.Owner | None:
    if not api_key:
        return None
    owner = users.owner_by_api_key(session, api_key)
    if owner is None or owner.user.secret_key is None:
        return None
    try:
        # Stored times are naive UTC; the signature module compares aware datetimes.
        signing.verify(pairs, owner.user.secret_key, now=now.replace(tzinfo=datetime.UTC))
    except signing.SignatureError:
        return None
    return owner


def _active(owner: users.Owner) -> bool:
    return owner.user.state == "enabled" and owner.account.state == "enabled"
