"""lockUser, disableUser, enableUser: the state of one user.

Called by the API's user commands. A disabled or locked user cannot log in, its sessions are
ended and its API keys stop working at once (``api.auth`` accepts only enabled users of enabled
accounts). Who may change a user's state is ``users.check_operation`` (as for passwords and
keys). Service functions take the session first and never commit.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.accounts import access, users
from cirrostack.db.models import accounts as models


class State:
    """``user.state`` values (CloudStack's Account.State, lower case in the user table)."""

    ENABLED = "enabled"
    DISABLED = "disabled"
    LOCKED = "locked"


def check_state_change(
    session: Session, caller: access.Caller, owner: users.Owner, what: str
) -> None:
    """lockUser, disableUser, enableUser: who may, before anything changes.

    The system account's users are refused, as in CloudStack; so is the caller itself (a
    cirrostack rule: nobody locks themselves out by mistake). Raises InvalidParameterValue or
    PermissionDenied.
    """
    if owner.account.id == users.SYSTEM_ACCOUNT_ID:
        raise errors.InvalidParameterValue(
            f"User: {owner.user.username} is a system user, {what} is not allowed"
        )
    if owner.user.id == caller.user_id:
        raise errors.InvalidParameterValue(f"The caller cannot apply {what} to itself")
    users.check_operation(session, caller, owner)


def lock(session: Session, caller: access.Caller, user: models.User) -> models.User:
    """lockUser: an enabled user becomes locked (a locked one stays); its sessions end. When no
    other user of the account is enabled any more, the account is locked too, as in CloudStack.
    """
    owner = users.owner_of(session, user)
    check_state_change(session, caller, owner, "locking")
    if user.state == State.LOCKED:
        return user
    if user.state != State.ENABLED:
        raise errors.InvalidParameterValue(
            f"Unable to lock user {user.username}: it is {user.state}; only an enabled user "
            "can be locked"
        )
    _set_state(session, user, State.LOCKED)
    others_enabled = session.scalars(
        sa.select(models.User.id).where(
            models.User.account_id == user.account_id,
            models.User.removed.is_(None),
            models.User.state == State.ENABLED,
        )
    ).first()
    if others_enabled is None:
        owner.account.state = State.LOCKED
    session.flush()
    return user


def disable(session: Session, caller: access.Caller, user: models.User) -> models.User:
    """disableUser: the user is disabled and its sessions end; its keys stop working."""
    check_state_change(session, caller, users.owner_of(session, user), "disabling")
    _set_state(session, user, State.DISABLED)
    session.flush()
    return user


def enable(session: Session, caller: access.Caller, user: models.User) -> models.User:
    """enableUser: the user, and its account, are enabled; the failed-login count restarts."""
    owner = users.owner_of(session, user)
    check_state_change(session, caller, owner, "enabling")
    user.state = State.ENABLED
    user.incorrect_login_attempts = 0
    owner.account.state = State.ENABLED
    session.flush()
    return user


def _set_state(session: Session, user: models.User, state: str) -> None:
    user.state = state
    session.execute(sa.delete(models.ApiSession).where(models.ApiSession.user_id == user.id))
