"""Users: the logins of an account, with passwords and API key pairs.

Secret keys are only ever returned by ``keys_of`` and ``register_keys``, both guarded by
``access.check_key_access``; list answers never carry them. Service functions take the session
first and never commit; the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.accounts import access, keys, passwords, roles
from cirrostack.db import base, query
from cirrostack.db.models import accounts as models

#: The system account's users are internal and never listed (as in CloudStack).
SYSTEM_ACCOUNT_ID = 1


@dataclass(frozen=True)
class NewUser:
    """What createAccount/createUser asked for."""

    username: str
    password: str
    email: str | None = None
    firstname: str | None = None
    lastname: str | None = None
    timezone: str | None = None


@dataclass(frozen=True)
class UserChanges:
    """What updateUser asked to change; None leaves a field as it is."""

    username: str | None = None
    password: str | None = None
    email: str | None = None
    firstname: str | None = None
    lastname: str | None = None
    timezone: str | None = None


@dataclass(frozen=True)
class UserFilter:
    """What listUsers asked for."""

    id: int | None = None
    username: str | None = None
    account: models.Account | None = None
    account_type: int | None = None
    state: str | None = None
    domain: models.Domain | None = None
    keyword: str | None = None
    listall: bool = False
    isrecursive: bool = False


@dataclass(frozen=True)
class Owner:
    """A user together with its account, domain and role: what responses and checks need."""

    user: models.User
    account: models.Account
    domain: models.Domain
    role: models.Role

    @property
    def role_type(self) -> roles.RoleType:
        return roles.RoleType(self.role.role_type)


def by_uuid(session: Session, uuid: str, *, parameter: str = "id") -> models.User:
    """The live user with ``uuid``; InvalidParameterValue naming ``parameter`` if none."""
    user = session.scalars(
        sa.select(models.User).where(models.User.uuid == uuid, models.User.removed.is_(None))
    ).first()
    if user is None:
        raise errors.InvalidParameterValue(f"Unable to find user by {parameter} {uuid}")
    return user


def by_api_key(session: Session, api_key: str) -> models.User | None:
    """The live user holding ``api_key``."""
    return session.scalars(
        sa.select(models.User).where(models.User.api_key == api_key, models.User.removed.is_(None))
    ).first()


def owner_by_api_key(session: Session, api_key: str) -> Owner | None:
    """The live user holding ``api_key`` with its account, domain and role, in one query.

    Called by authentication on every signed request; while the Owner is held, the caller's
    lookup (``access.caller_of``) finds them in the session and costs no statement.
    """
    row = session.execute(
        _OWNED.where(models.User.api_key == api_key, models.User.removed.is_(None))
    ).first()
    return None if row is None else Owner(*row)


#: A user with its account, domain and role (every user has all three).
_OWNED = (
    sa.select(models.User, models.Account, models.Domain, models.Role)
    .join(models.Account, models.Account.id == models.User.account_id)
    .join(models.Domain, models.Domain.id == models.Account.domain_id)
    .join(models.Role, models.Role.id == models.Account.role_id)
)


def owner_of(session: Session, user: models.User) -> Owner:
    """Load the account, domain and role of ``user``."""
    return owners_of(session, [user])[0]


def owners_of(session: Session, found: Sequence[models.User]) -> list[Owner]:
    """Each user with its account, domain and role, in one query (a page of listUsers)."""
    rows = session.execute(
        sa.select(models.Account, models.Domain, models.Role)
        .join(models.Domain, models.Domain.id == models.Account.domain_id)
        .join(models.Role, models.Role.id == models.Account.role_id)
        .where(models.Account.id.in_({user.account_id for user in found}))
    ).all()
    by_account = {account.id: (account, domain, role) for account, domain, role in rows}
    return [Owner(user, *by_account[user.account_id]) for user in found]


def members_of(session: Session, account_ids: Sequence[int]) -> dict[int, list[models.User]]:
    """The live users of each account, in id order, in one query (a page of listAccounts)."""
    if not account_ids:
        return {}
    found: dict[int, list[models.User]] = {}
    for user in session.scalars(
        sa.select(models.User)
        .where(models.User.account_id.in_(account_ids), models.User.removed.is_(None))
        .order_by(models.User.id)
    ):
        found.setdefault(user.account_id, []).append(user)
    return found


#: ``user.timezone`` is VARCHAR(30), as in CloudStack.
TIMEZONE_LENGTH = 30


def _check_timezone(timezone: str | None) -> None:
    if timezone is not None and len(timezone) > TIMEZONE_LENGTH:
        raise errors.InvalidParameterValue(
            f"Timezone {timezone[:40]!r}... is longer than {TIMEZONE_LENGTH} characters"
        )


def add(
    session: Session, account: models.Account, domain: models.Domain, new: NewUser
) -> models.User:
    """Insert a user into ``account`` (no access check: callers have done it)."""
    _check_username(session, new.username, domain)
    _check_timezone(new.timezone)
    user = models.User(
        username=new.username,
        password=passwords.hash_password(new.password),
        account_id=account.id,
        email=new.email,
        firstname=new.firstname,
        lastname=new.lastname,
        timezone=new.timezone,
    )
    session.add(user)
    session.flush()
    return user


def _check_username(session: Session, username: str, domain: models.Domain) -> None:
    if not username.strip():
        raise errors.InvalidParameterValue("Username must not be empty")
    clash = session.scalars(
        sa.select(models.User.id)
        .join(models.Account, models.Account.id == models.User.account_id)
        .where(
            models.User.username == username,
            models.User.removed.is_(None),
            models.Account.domain_id == domain.id,
        )
    ).first()
    if clash is not None:
        raise errors.InvalidParameterValue(
            f"The user {username} already exists in domain {domain.name}"
        )


def create(
    session: Session, caller: access.Caller, account: models.Account, new: NewUser
) -> models.User:
    """createUser: a new login for an existing account."""
    domain = session.get_one(models.Domain, account.domain_id)
    access.check_account(caller, account, domain)
    return add(session, account, domain, new)


def update(
    session: Session, caller: access.Caller, user: models.User, changes: UserChanges
) -> models.User:
    """updateUser; a password may be changed by the user itself or a strictly higher role."""
    owner = owner_of(session, user)
    access.check_account(caller, owner.account, owner.domain)
    if changes.password is not None:
        access.check_key_access(caller, user, owner.role_type, owner.account, owner.domain)
        user.password = passwords.hash_password(changes.password)
    _check_timezone(changes.timezone)
    if changes.username is not None and changes.username != user.username:
        _check_username(session, changes.username, owner.domain)
        user.username = changes.username
    for name in ("email", "firstname", "lastname", "timezone"):
        value = getattr(changes, name)
        if value is not None:
            setattr(user, name, value)
    session.flush()
    return user


def delete(session: Session, caller: access.Caller, user: models.User) -> None:
    """deleteUser: soft-delete a user and end its sessions; default users stay."""
    owner = owner_of(session, user)
    access.check_account(caller, owner.account, owner.domain)
    if user.default or user.id == caller.user_id:
        raise errors.InvalidParameterValue(
            f"User {user.username} is a default user or the caller and cannot be deleted"
        )
    user.removed = base.utcnow()
    session.execute(sa.delete(models.ApiSession).where(models.ApiSession.user_id == user.id))
    session.flush()


def register_keys(session: Session, caller: access.Caller, user: models.User) -> keys.KeyPair:
    """registerUserKeys: a fresh key pair replaces the old one, which stops working at once."""
    owner = owner_of(session, user)
    access.check_key_access(caller, user, owner.role_type, owner.account, owner.domain)
    pair = keys.new_key_pair()
    user.api_key, user.secret_key = pair.api_key, pair.secret_key
    session.flush()
    return pair


def keys_of(session: Session, caller: access.Caller, user: models.User) -> keys.KeyPair | None:
    """getUserKeys: the user's current pair, or None when it has none."""
    owner = owner_of(session, user)
    access.check_key_access(caller, user, owner.role_type, owner.account, owner.domain)
    if user.api_key is None or user.secret_key is None:
        return None
    return keys.KeyPair(user.api_key, user.secret_key)


def search(
    session: Session, caller: access.Caller, wanted: UserFilter, page: query.Page
) -> tuple[Sequence[models.User], int]:
    """listUsers within what the caller may see."""
    statement = (
        sa.select(models.User)
        .join(models.Account, models.Account.id == models.User.account_id)
        .join(models.Domain, models.Domain.id == models.Account.domain_id)
        .where(
            models.User.removed.is_(None),
            models.Account.removed.is_(None),
            models.Account.id != SYSTEM_ACCOUNT_ID,
        )
    )
    if caller.role_type is roles.RoleType.USER:
        statement = statement.where(models.Account.id == caller.account_id)
    else:
        domain = wanted.domain or session.get_one(models.Domain, caller.domain_id)
        access.check_domain(caller, domain)
        if wanted.listall or wanted.isrecursive or wanted.id is not None or wanted.account:
            statement = statement.where(query.under_path(models.Domain.path, domain.path))
        else:
            statement = statement.where(models.Account.domain_id == domain.id)
    statement = statement.where(
        *query.equal_to_given(
            (models.User.id, wanted.id),
            (models.User.username, wanted.username),
            (models.User.account_id, wanted.account.id if wanted.account else None),
            (models.Account.type, wanted.account_type),
            (models.User.state, wanted.state),
        )
    )
    if wanted.keyword:
        statement = statement.where(query.matches_keyword(models.User.username, wanted.keyword))
    return query.paged(session, statement.order_by(models.User.id), page)
