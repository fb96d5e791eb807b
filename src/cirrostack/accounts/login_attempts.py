"""Wrong-password counting and lockout: CloudStack's ``incorrect.login.attempts.allowed``.

Called by the login path (``accounts.sessions``) after each password check. A wrong password
for an enabled user adds one to ``user.incorrect_login_attempts``; when the count reaches the
setting (default 5) the user is disabled, an event of level WARN says so and a warning is
logged (CloudStack has no alert for it either; an operator re-enables with enableUser). A good
login sets the count back to 0. As in CloudStack, a setting of 0 or less turns this off, and
root admins are never counted or disabled (a guessing attacker cannot lock the operator out).

The database settles concurrent failures: the count is one ``UPDATE ... SET n = n + 1`` (never
read, add, write), and the disabling is a second conditional UPDATE whose row count tells the
one request that disabled the user. Parallel wrong logins count exactly, on every backend.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import events
from cirrostack.accounts import roles, users
from cirrostack.config import keys, settings
from cirrostack.db.models import accounts as models

log = logging.getLogger(__name__)

ENABLED, DISABLED = "enabled", "disabled"


@dataclass(frozen=True)
class _Actor:
    """The locked-out user, as the author of its USER.DISABLE event."""

    user_id: int
    account_id: int
    domain_id: int


def counted(owner: users.Owner) -> bool:
    """Whether wrong passwords count against this user (not for root admins)."""
    return roles.AccountType(owner.account.type) is not roles.AccountType.ADMIN


def count_failure(session: Session, owner: users.Owner) -> bool:
    """Count one wrong password for ``owner``; True when this one disabled the user."""
    allowed = settings.Settings(session).get(keys.INCORRECT_LOGIN_ATTEMPTS_ALLOWED)
    if allowed <= 0 or not counted(owner):
        return False
    user = models.User
    added = session.execute(
        sa.update(user)
        .where(user.id == owner.user.id, user.state == ENABLED)
        .values(incorrect_login_attempts=user.incorrect_login_attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if not added:
        return False
    disabled = session.execute(
        sa.update(user)
        .where(
            user.id == owner.user.id,
            user.state == ENABLED,
            user.incorrect_login_attempts >= allowed,
        )
        .values(state=DISABLED)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if disabled:
        _report(session, owner, allowed)
    return bool(disabled)


def reset(session: Session, user: models.User) -> None:
    """After a good login, or when the user is enabled again: the count starts from 0."""
    session.execute(
        sa.update(models.User)
        .where(models.User.id == user.id, models.User.incorrect_login_attempts != 0)
        .values(incorrect_login_attempts=0)
        .execution_options(synchronize_session=False)
    )


def _report(session: Session, owner: users.Owner, allowed: int) -> None:
    text = (
        f"User {owner.user.username} has been disabled after {allowed} failed login attempts; "
        "an administrator can enable it again (enableUser)"
    )
    log.warning("%s (user %s, domain %s)", text, owner.user.uuid, owner.domain.path)
    events.record(
        session,
        _Actor(owner.user.id, owner.account.id, owner.domain.id),
        "USER.DISABLE",
        text,
        level=events.Level.WARN,
        resource_type="User",
        resource_id=owner.user.id,
    )
