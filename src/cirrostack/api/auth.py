"""Who sent a request: a signed API key, or a login session.

Called by the dispatcher for every command except ``login``, in three steps so that no lock
is held while a signature is checked::

    identify (short read) ─► check (HMAC, no write transaction open) ─► caller

Any failure is the same 401 with CloudStack's text: the client learns nothing about which part
was wrong.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from cirrostack.accounts import access, sessions, signers, users, vault
from cirrostack.api import errors, signing
from cirrostack.config import keys as config_keys
from cirrostack.config import settings as config_settings


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


@dataclass(frozen=True)
class Identity:
    """Who a request's credentials name, found by ``identify``.

    For a key, the signature is still to be checked (``check``) with the user's secret key;
    a session is already proven (``secret_key`` None).
    """

    user_id: int
    secret_key: str | None = field(default=None, repr=False)
    #: The caller as ``identify`` read it, None when the user or its account is not enabled.
    caller: access.Caller | None = field(default=None, compare=False, repr=False)


def identify(
    session: Session, request: Request, now: datetime.datetime, *, touch: bool = True
) -> Identity:
    """The user a session or API key names; raises ApiError 401 when there is none.

    Called by the dispatcher in a short transaction of its own: a read-only one for a key,
    a writing one for a session (``resume`` refreshes the session's idle timer; see
    ``writes_on_identify``), unless ``touch`` is False (the dispatcher's fallback while the
    disk is full: the session is then read, not refreshed). No slow work here: the signature
    is checked afterwards.
    """
    session_key = _session_key(session, request)
    if session_key is not None:
        cookie = request.cookies.get("JSESSIONID")
        owner = sessions.resume(session, session_key, cookie, now=now, touch=touch)
        if owner is None:
            raise errors.unauthenticated()
        active = _active(owner)
        caller = access.caller_of(session, owner.user) if active else None
        return Identity(owner.user.id, caller=caller)
    api_key = request.first("apikey")
    # One prebuilt statement reads the user with its account, domain and role.
    signer = signers.by_api_key(session, api_key) if api_key else None
    secret = vault.opened(session, signer.sealed_secret) if signer is not None else None
    if signer is None or secret is None:
        raise errors.unauthenticated()
    return Identity(signer.caller.user_id, secret, signer.caller if signer.active else None)


def writes_on_identify(request: Request) -> bool:
    """True when ``identify`` writes (a session's idle timer), so it needs a writing
    transaction; a key lookup only reads."""
    return bool(request.first("sessionkey") or request.cookies.get("sessionkey"))


def check(identity: Identity, request: Request, now: datetime.datetime) -> None:
    """Verify a key's signature; raises ApiError 401 when it does not hold.

    Called by the dispatcher with no transaction open: the canonical forms over up to
    10,000 parameters cost real CPU and must hold no lock.
    """
    if identity.secret_key is None:
        return
    try:
        # Stored times are naive UTC; the signature module compares aware datetimes.
        signing.verify(request.pairs, identity.secret_key, now=now.replace(tzinfo=datetime.UTC))
    except signing.SignatureError as exc:
        raise errors.unauthenticated() from exc


def caller(identity: Identity) -> access.Caller:
    """The identified caller; raises ApiError 401 when the user or its account is not
    enabled (checked where ``identify`` read them)."""
    if identity.caller is None:
        raise errors.unauthenticated()
    return identity.caller


def _session_key(session: Session, request: Request) -> str | None:
    """The session key the request presents from where ``api.sessionkey.check.locations``
    allows (CloudStack's default, CookieAndParameter, needs both: cookies alone are what a
    cross-site link sends). None when there is none to use there, so the request must be
    signed; raises 401 when the parameter and the cookie disagree."""
    parameter, cookie = request.first("sessionkey"), request.cookies.get("sessionkey")
    if not parameter and not cookie:
        return None
    if parameter and cookie and parameter != cookie:
        raise errors.unauthenticated()
    where = config_settings.Settings(session).get(config_keys.API_SESSIONKEY_CHECK_LOCATIONS)
    needs_parameter = where != "CookieOrParameter"
    needs_cookie = where == "CookieAndParameter"
    if (needs_parameter and not parameter) or (needs_cookie and not cookie):
        return None
    return parameter or cookie


def _active(owner: users.Owner) -> bool:
    return owner.user.state == "enabled" and owner.account.state == "enabled"
