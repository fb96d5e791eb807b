"""Users: the logins of an account, with passwords and API key pairs.

Secret keys are only ever returned by ``keys_of`` and ``register_keys``, both guarded by
``access.check_user_operation``; list answers never carry them. Service functions take the session
first and never commit; the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.accounts import access, keys, locks, password_policy, passwords, roles, vault
from cirrostack.config import keys as config_keys
from cirrostack.config import settings
from cirrostack.db import base, query, unique
from cirrostack.db.models import accounts as models

#: The system account's users are internal and never listed (as in CloudStack).
SYSTEM_ACCOUNT_ID = 1
#: The unique key over live usernames of a domain (migration 0004).
NAME_KEY = "uq_user_domain_id_live_name"


@dataclass(frozen=True)
class NewUser:
    """What createAccount/createUser asked for."""

    username: str
    password: str | passwords.Prepared
    email: str | None = None
    firstname: str | None = None
    lastname: str | None = None
    timezone: str | None = None


@dataclass(frozen=True)
class UserChanges:
    """What updateUser asked to change; None leaves a field as it is."""

    username: str | None = None
    password: str | passwords.Prepared | None = None
    #: The target's current password: required when a non-admin sets a password; the API
    #: checks it before the transaction (``passwords.Verified``).
    current_password: str | passwords.Verified | None = field(default=None, repr=False)
    api_key: str | None = None
    secret_key: str | None = field(default=None, repr=False)
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
        raise unknown(uuid, parameter)
    return user


def unknown(uuid: str, parameter: str = "id") -> errors.InvalidParameterValue:
    """The error for a user id nobody has, or one the caller may not reach (``reach``)."""
    return errors.InvalidParameterValue(f"Unable to find user by {parameter} {uuid}")


def stored_password(session: Session, uuid: str) -> str | None:
    """The password hash of the live user ``uuid`` (None: no such user); for checks made
    before a transaction (updateUser's current password)."""
    return session.scalar(
        sa.select(models.User.password).where(
            models.User.uuid == uuid, models.User.removed.is_(None)
        )
    )


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


def owner_by_id(session: Session, user_id: int) -> Owner | None:
    """The live user ``user_id`` with its account, domain and role, in one query (the
    dispatcher's caller lookup after authentication)."""
    row = session.execute(
        _OWNED.where(models.User.id == user_id, models.User.removed.is_(None))
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
    session: Session,
    account: models.Account,
    domain: models.Domain,
    new: NewUser,
    password_hash: str,
) -> models.User:
    """Insert a user into ``account`` (no access check: callers have done it, and hold the
    locks of ``locks``); ``password_hash`` is ``passwords.hash_password(new.password)``,
    computed by the caller before it took any lock. The unique key refuses a second live user
    of the same username in the domain, in any case: InvalidParameterValue, as CloudStack
    answers."""
    user = models.User(
        username=new.username,
        password=password_hash,
        account_id=account.id,
        domain_id=domain.id,
        email=new.email,
        firstname=new.firstname,
        lastname=new.lastname,
        timezone=new.timezone,
    )
    with unique.refusing(session, NAME_KEY, _name_taken(new.username, domain)):
        session.add(user)
    return user


def check_new(session: Session, new: NewUser, domain_id: int) -> None:
    """Refuse a blank username, an over-long timezone or a password the domain's password
    policy refuses (InvalidParameterValue); called before the password is hashed."""
    _check_username(new.username)
    _check_timezone(new.timezone)
    password_policy.check(session, passwords.plain_text(new.password), new.username, domain_id)


def _check_username(username: str) -> None:
    if not username.strip():
        raise errors.InvalidParameterValue("Username must not be empty")


def _name_taken(username: str, domain: models.Domain) -> errors.InvalidParameterValue:
    return errors.InvalidParameterValue(
        f"The user {username} already exists in domain {domain.name}"
    )


def create(
    session: Session, caller: access.Caller, account: models.Account, new: NewUser
) -> models.User:
    """createUser: a new login for an existing account.

    The account is locked (``locks.account``), so the user cannot land in an account a
    concurrent deleteAccount or deleteDomain removes; InvalidParameterValue if it is gone.
    """
    domain = session.get_one(models.Domain, account.domain_id)
    access.check_account(caller, account, domain)
    check_new(session, new, domain.id)
    password_hash = passwords.stored_form(new.password)
    account = locks.account(session, account.id)
    return add(session, account, domain, new, password_hash)


def update(
    session: Session, caller: access.Caller, user: models.User, changes: UserChanges
) -> models.User:
    """updateUser. A new password or key pair needs ``check_user_operation``; a password must
    meet the password policy and, unless the caller is a root or domain admin, come with the
    target's current password. The command ends the user's other sessions after a new password.
    Raises InvalidParameterValue or PermissionDenied; nothing is written then.
    """
    owner = owner_of(session, user)
    access.check_account(caller, owner.account, owner.domain)
    _check_timezone(changes.timezone)
    if changes.api_key is not None or changes.secret_key is not None:
        _set_keys(session, caller, owner, changes)
    if changes.username is not None and changes.username != user.username:
        _check_username(changes.username)
        with unique.refusing(session, NAME_KEY, _name_taken(changes.username, owner.domain)):
            user.username = changes.username
    if changes.password is not None:
        _set_password(session, caller, owner, changes)
    for name in ("email", "firstname", "lastname", "timezone"):
        value = getattr(changes, name)
        if value is not None:
            setattr(user, name, value)
    session.flush()
    return user


def check_operation(session: Session, caller: access.Caller, owner: Owner) -> None:
    """``access.check_user_operation`` with allow.operations.on.users.in.same.account read at
    the caller's domain, as CloudStack reads it."""
    same_account = settings.Settings(session).get(
        config_keys.ALLOW_OPERATIONS_ON_USERS_IN_SAME_ACCOUNT, domain_id=caller.domain_id
    )
    access.check_user_operation(
        caller,
        owner.user,
        owner.role_type,
        owner.account,
        owner.domain,
        same_account_allowed=same_account,
    )


def _set_password(
    session: Session, caller: access.Caller, owner: Owner, changes: UserChanges
) -> None:
    new = passwords.plain_text(changes.password or "")
    if not new.strip():
        raise errors.InvalidParameterValue("Password cannot be empty or blank.")
    check_operation(session, caller, owner)
    password_policy.check(session, new, owner.user.username, owner.domain.id)
    if not (caller.is_root_admin or caller.is_domain_admin):
        _check_current_password(changes.current_password, owner.user.password)
    owner.user.password = passwords.stored_form(changes.password or new)


def _check_current_password(given: str | passwords.Verified | None, stored: str) -> None:
    """A non-admin setting a password proves the current one. Checked ahead (the API's
    ``before`` step), it holds only if the user's hash is unchanged since: a password changed
    meanwhile was not the one proven. A plain text (a direct service call) is checked here."""
    if isinstance(given, passwords.Verified):
        if not given.holds_for(stored):
            raise errors.InvalidParameterValue("Current password is incorrect.")
        return
    if not (given or "").strip():
        raise errors.InvalidParameterValue(
            "To set a new password the current password must be provided."
        )
    if not passwords.verify_password(given or "", stored):
        raise errors.InvalidParameterValue("Current password is incorrect.")


def _set_keys(session: Session, caller: access.Caller, owner: Owner, changes: UserChanges) -> None:
    """updateUser userapikey + usersecretkey: a chosen pair. The unique key on user.api_key
    decides between two users choosing the same key at once (a savepoint keeps the refusal
    clean)."""
    api_key, secret_key = (changes.api_key or "").strip(), (changes.secret_key or "").strip()
    if not api_key or not secret_key:
        raise errors.InvalidParameterValue("Please provide a userApiKey/userSecretKey pair")
    check_operation(session, caller, owner)
    try:
        with session.begin_nested():
            _store_keys(session, owner.user, keys.KeyPair(api_key, secret_key))
            session.flush()
    except sa.exc.IntegrityError as exc:
        raise errors.InvalidParameterValue(
            f"The API key [{api_key}] already exists in the system. Please provide a unique key."
        ) from exc


def _store_keys(session: Session, user: models.User, pair: keys.KeyPair) -> None:
    """The one place a user's key pair is written (registerUserKeys, updateUser)."""
    user.api_key, user.secret_key = pair.api_key, vault.of(session).seal(pair.secret_key)


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
    check_operation(session, caller, owner_of(session, user))
    pair = keys.new_key_pair()
    _store_keys(session, user, pair)
    session.flush()
    return pair


def keys_of(session: Session, caller: access.Caller, user: models.User) -> keys.KeyPair | None:
    """getUserKeys: the user's current pair, or None when it has none."""
    check_operation(session, caller, owner_of(session, user))
    if user.api_key is None or user.secret_key is None:
        return None
    return keys.KeyPair(user.api_key, vault.of(session).open(user.secret_key))


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
        statement = statement.where(access.reachable_accounts(caller))
        if wanted.listall or wanted.isrecursive or wanted.id is not None or wanted.account:
            statement = statement.where(query.under_path(models.Domain.path, domain.path))
        else:
            statement = statement.where(models.Account.domain_id == domain.id)
    statement = statement.where(
        *query.equal_to_given(
            (models.User.id, wanted.id),
            (models.User.account_id, wanted.account.id if wanted.account else None),
            (models.Account.type, wanted.account_type),
            (models.User.state, wanted.state),
        ),
        *query.named_as_given((models.User.username, wanted.username)),
    )
    if wanted.keyword:
        statement = statement.where(query.matches_keyword(models.User.username, wanted.keyword))
    return query.paged(session, statement.order_by(models.User.id), page)
