"""Login sessions: username and password in, a session key and a JSESSIONID cookie out.

Called by the API's login and logout commands and on every request that carries a session.
Sessions live in the ``api_session`` table as SHA-256 digests; they expire after
``SESSION_TIMEOUT`` without use, and end at logout or when the user or account is disabled,
locked or removed. Every failure to log in looks the same from outside (no user enumeration).
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.accounts import domains, keys, login_attempts, passwords, users
from cirrostack.db import query
from cirrostack.db.models import accounts as models

SESSION_TIMEOUT = datetime.timedelta(seconds=1800)


class LoginFailed(errors.CloudError):
    """Wrong username, password or domain, or a disabled/locked user or account."""


@dataclass(frozen=True)
class Login:
    """A new session: the key clients send back, and the cookie value."""

    session_key: str
    jsessionid: str
    owner: users.Owner
    timeout: datetime.timedelta = SESSION_TIMEOUT


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Candidate:
    """The user a login names, with the stored password hash to check (no ORM object, so it
    outlives the short transaction that found it)."""

    user_id: int
    stored: str


def login(
    session: Session,
    username: str,
    password: str,
    *,
    domain: models.Domain | None,
    now: datetime.datetime,
) -> Login:
    """Check the credentials and open a session, all in ``session``; raises LoginFailed.

    The API does the same in steps so that the password hash is checked with no transaction
    open: :func:`candidate` (read), :func:`verified` (slow, no database), then
    :func:`count_failure` (a short write, committed although the login is refused) or
    :func:`open_session`. A refused login has written its failure count: the caller must
    commit before answering the refusal.
    """
    domain = domain or domains.by_path(session, "/")
    found = candidate(session, username, domain)
    if not verified(found, password):
        if found is not None:
            count_failure(session, found)
        raise LoginFailed(failure_text(username, domain))
    assert found is not None
    return open_session(session, found, username, domain, now=now)


def candidate(session: Session, username: str, domain: models.Domain | None) -> Candidate | None:
    """The live user ``username`` of ``domain`` (None: no such user or no domain)."""
    user = _user_named(session, username, domain) if domain is not None else None
    return Candidate(user.id, user.password) if user is not None else None


def verified(found: Candidate | None, password: str) -> bool:
    """Whether ``password`` is ``found``'s (PBKDF2: slow; call with no transaction open). An
    unknown user costs one derivation all the same, so timing tells no usernames."""
    stored = found.stored if found is not None else None
    return passwords.verify_or_waste(password, stored) and found is not None


def open_session(
    session: Session,
    found: Candidate,
    username: str,
    domain: models.Domain | None,
    *,
    now: datetime.datetime,
) -> Login:
    """Open a session for a verified candidate; raises LoginFailed when the user is gone or
    it or its account is not enabled, or its password changed since it was checked (all
    checked again here, in the writing transaction). Resets the failure count."""
    user = session.get(models.User, found.user_id)
    if user is None or user.removed is not None or user.password != found.stored:
        raise LoginFailed(failure_text(username, domain))
    owner = users.owner_of(session, user)
    if not _active(owner):
        raise LoginFailed(failure_text(username, domain))
    login_attempts.reset(session, owner.user)
    created = Login(keys.new_session_key(), keys.new_session_key(), owner)
    session.add(
        models.ApiSession(
            session_key_hash=digest(created.session_key),
            jsessionid_hash=digest(created.jsessionid),
            user_id=owner.user.id,
            last_access=now,
            created=now,
        )
    )
    session.flush()
    return created


def count_failure(session: Session, found: Candidate | None) -> None:
    """After a wrong password: count it against the user, maybe disable the user. For an
    unknown username (``found`` None) it looks for the same user row and finds none, so a
    refusal costs the same database work whether or not the username exists."""
    user = session.get(models.User, found.user_id if found is not None else 0)
    if user is None:
        return
    owner = users.owner_of(session, user)
    if login_attempts.count_failure(session, owner):
        end_sessions(session, owner.user.id)


def end_sessions(session: Session, user_id: int, *, keep: str | None = None) -> int:
    """End every session of the user, except the one holding session key ``keep``; how many.

    Called when a password is set (the other sessions end, CloudStack's advice after a reset)
    and when a user is disabled or locked.
    """
    statement = sa.delete(models.ApiSession).where(models.ApiSession.user_id == user_id)
    if keep:
        statement = statement.where(models.ApiSession.session_key_hash != digest(keep))
    return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def failure_text(username: str, domain: models.Domain | None) -> str:
    where = domain.id if domain is not None else "unknown"
    return (
        f"Failed to authenticate user {username} in domain {where}; "
        "please provide valid credentials"
    )


def _user_named(session: Session, username: str, domain: models.Domain) -> models.User | None:
    return session.scalars(
        sa.select(models.User)
        .join(models.Account, models.Account.id == models.User.account_id)
        .where(
            query.same_name(models.User.username, username),
            models.User.removed.is_(None),
            models.Account.domain_id == domain.id,
            models.Account.removed.is_(None),
        )
    ).first()


def _active(owner: users.Owner) -> bool:
    return owner.user.state == "enabled" and owner.account.state == "enabled"


def resume(
    session: Session,
    session_key: str,
    jsessionid: str | None,
    *,
    now: datetime.datetime,
    touch: bool = True,
) -> users.Owner | None:
    """The owner of a live session, refreshing its idle timer; None when it is not valid.

    Both halves are required, as in CloudStack: the session key (parameter or cookie) and the
    JSESSIONID cookie of the same login. A session key seen in a URL or a log is not enough.
    """
    if not jsessionid:
        return None
    row = session.scalars(
        sa.select(models.ApiSession).where(
            models.ApiSession.session_key_hash == digest(session_key)
        )
    ).first()
    if row is None or now - row.last_access > SESSION_TIMEOUT:
        return None
    if row.jsessionid_hash != digest(jsessionid):
        return None
    user = session.get(models.User, row.user_id)
    if user is None or user.removed is not None:
        return None
    owner = users.owner_of(session, user)
    if not _active(owner):
        return None
    if touch:  # False only while the database cannot store anything (a full disk)
        row.last_access = now
    return owner


def logout(session: Session, session_key: str) -> None:
    """End the session holding ``session_key`` (no error when it is already gone)."""
    session.execute(
        sa.delete(models.ApiSession).where(
            models.ApiSession.session_key_hash == digest(session_key)
        )
    )
