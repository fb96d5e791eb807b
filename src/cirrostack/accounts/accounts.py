"""Accounts: owners of resources, each in one domain, each with at least one user.

Service functions take the session first and never commit; the caller owns the transaction.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.accounts import access, locks, passwords, roles, users
from cirrostack.compute import attachment_cleanup
from cirrostack.db import base, query, unique
from cirrostack.db.models import accounts as models

#: The account the cloud's own work runs as (seeded by ``bootstrap``).
SYSTEM_ACCOUNT_ID = 1
#: The unique key over live account names of a domain (migration 0004).
NAME_KEY = "uq_account_domain_id_live_name"


class State:
    """``account.state`` values (lowercase, as CloudStack stores them)."""

    ENABLED = "enabled"
    DISABLED = "disabled"
    LOCKED = "locked"


@dataclass(frozen=True)
class NewAccount:
    """What createAccount asked for; ``name`` defaults to the username."""

    user: users.NewUser
    role: models.Role
    domain: models.Domain
    name: str | None = None
    network_domain: str | None = None


@dataclass(frozen=True)
class AccountFilter:
    """What listAccounts asked for."""

    id: int | None = None
    name: str | None = None
    account_type: int | None = None
    state: str | None = None
    domain: models.Domain | None = None
    keyword: str | None = None
    listall: bool = False
    isrecursive: bool = False


def by_uuid(session: Session, uuid: str, *, parameter: str = "id") -> models.Account:
    """The live account with ``uuid``; InvalidParameterValue naming ``parameter`` if none."""
    account = session.scalars(
        sa.select(models.Account).where(
            models.Account.uuid == uuid, models.Account.removed.is_(None)
        )
    ).first()
    if account is None:
        raise unknown(uuid, parameter)
    return account


def unknown(uuid: str, parameter: str = "id") -> errors.InvalidParameterValue:
    """The error for an account id nobody has, or one the caller may not reach (``reach``)."""
    return errors.InvalidParameterValue(f"Unable to find account by {parameter} {uuid}")


def by_name(session: Session, name: str, domain: models.Domain) -> models.Account | None:
    """The live account called ``name`` (in any case) in ``domain``."""
    return session.scalars(
        sa.select(models.Account).where(
            query.same_name(models.Account.account_name, name),
            models.Account.domain_id == domain.id,
            models.Account.removed.is_(None),
        )
    ).first()


def in_domains(
    session: Session, domain_ids: Sequence[int], *, lock: bool = False
) -> Sequence[models.Account]:
    """Every live account of the given domains; with ``lock``, locked for update (a locking
    read, so it sees accounts committed since the transaction's first read on MariaDB too)."""
    statement = sa.select(models.Account).where(
        models.Account.domain_id.in_(domain_ids), models.Account.removed.is_(None)
    )
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return session.scalars(statement.order_by(models.Account.id)).all()


def role_of(session: Session, account: models.Account) -> models.Role:
    return session.get_one(models.Role, account.role_id)


def create(
    session: Session, caller: access.Caller, new: NewAccount
) -> tuple[models.Account, models.User]:
    """Create an account and its first user in ``new.domain``.

    The domain is locked (``locks.domain_chain``), so a concurrent deleteDomain either sees the
    account or the account is refused; the unique keys refuse a second live account of the same
    name, or a second user of the same username, in the domain (any case).
    """
    access.check_domain(caller, new.domain)
    role_type = roles.RoleType(new.role.role_type)
    access.check_may_grant(caller, role_type)
    name = new.name or new.user.username
    _check_name_length(name)
    if not name.strip():
        raise errors.InvalidParameterValue("Account name must not be empty")
    users.check_new(session, new.user, new.domain.id)
    password_hash = passwords.stored_form(new.user.password)  # hashed before any lock
    domain = locks.domain_chain(session, new.domain.id, exclusive=True)
    account = models.Account(
        account_name=name,
        type=int(roles.ACCOUNT_TYPE_OF_ROLE_TYPE[role_type]),
        role_id=new.role.id,
        domain_id=domain.id,
        network_domain=new.network_domain,
    )
    with unique.refusing(session, NAME_KEY, _name_taken(name, domain)):
        session.add(account)
    return account, users.add(session, account, domain, new.user, password_hash)


def _name_taken(name: str, domain: models.Domain) -> errors.InvalidParameterValue:
    return errors.InvalidParameterValue(
        f"The specified account: {name} already exists in domain {domain.name}"
    )


#: ``account.account_name`` is VARCHAR(100), as in CloudStack.
NAME_LENGTH = 100


def _check_name_length(name: str) -> None:
    if len(name) > NAME_LENGTH:
        raise errors.InvalidParameterValue(
            f"Account name is {len(name)} characters long; at most {NAME_LENGTH} are allowed "
            "(the account name defaults to the username)"
        )


def update(
    session: Session,
    caller: access.Caller,
    account: models.Account,
    new_name: str | None,
    network_domain: str | None,
) -> models.Account:
    """Rename an account and/or set its network domain."""
    domain = session.get_one(models.Domain, account.domain_id)
    access.check_account(caller, account, domain)
    if new_name is not None and new_name != account.account_name:
        _check_name_length(new_name)
        if account.default:
            raise errors.InvalidParameterValue(
                "The default system and admin accounts keep their names"
            )
        if not new_name.strip():
            raise errors.InvalidParameterValue("Account name must not be empty")
        with unique.refusing(session, NAME_KEY, _name_taken(new_name, domain)):
            account.account_name = new_name
    if network_domain is not None:
        account.network_domain = network_domain
    session.flush()
    return account


def set_state(
    session: Session, caller: access.Caller, account: models.Account, state: str
) -> models.Account:
    """Enable, disable or lock an account; disabling or locking ends its users' sessions."""
    domain = session.get_one(models.Domain, account.domain_id)
    access.check_account(caller, account, domain)
    if state != State.ENABLED:
        _check_not_self_or_system(caller, account, "disabled or locked")
        _end_sessions(session, account)
    account.state = state
    session.flush()
    return account


def delete(session: Session, caller: access.Caller, account: models.Account) -> None:
    """Remove an account and its users (soft delete); default accounts stay.

    The account is locked first (``locks.account``), so a concurrent createUser in it either commits
    before (and its user is removed here) or finds the account gone.
    """
    domain = session.get_one(models.Domain, account.domain_id)
    access.check_account(caller, account, domain)
    _check_not_self_or_system(caller, account, "deleted")
    account = locks.account(session, account.id)
    remove_all(session, [account.id], base.utcnow())


def _check_not_self_or_system(caller: access.Caller, account: models.Account, what: str) -> None:
    if account.default:
        raise errors.InvalidParameterValue(
            f"Account {account.account_name} is a default account and cannot be {what}"
        )
    if account.id == caller.account_id:
        raise errors.InvalidParameterValue(f"The caller's own account cannot be {what}")


def remove_all(session: Session, account_ids: Sequence[int], now: datetime.datetime) -> None:
    """Soft-delete the accounts and all their live users and end their sessions (no access
    check), and remove their key pairs and unused groups (``compute.attachment_cleanup``).
    Callers hold the accounts' locks; the UPDATEs reach every committed user."""
    if not account_ids:
        return
    session.execute(
        sa.update(models.User)
        .where(models.User.account_id.in_(account_ids), models.User.removed.is_(None))
        .values(removed=now)
    )
    session.execute(
        sa.update(models.Account)
        .where(models.Account.id.in_(account_ids), models.Account.removed.is_(None))
        .values(removed=now)
    )
    session.execute(
        sa.delete(models.ApiSession).where(
            models.ApiSession.user_id.in_(
                sa.select(models.User.id).where(models.User.account_id.in_(account_ids))
            )
        )
    )
    attachment_cleanup.remove_for_accounts(session, account_ids, now)


def _end_sessions(session: Session, account: models.Account) -> None:
    session.execute(
        sa.delete(models.ApiSession).where(
            models.ApiSession.user_id.in_(
                sa.select(models.User.id).where(models.User.account_id == account.id)
            )
        )
    )


def search(
    session: Session, caller: access.Caller, wanted: AccountFilter, page: query.Page
) -> tuple[Sequence[models.Account], int]:
    """listAccounts within what the caller may see."""
    statement = (
        sa.select(models.Account)
        .join(models.Domain, models.Domain.id == models.Account.domain_id)
        .where(
            models.Account.removed.is_(None),
            models.Account.type != int(roles.AccountType.PROJECT),
            # The system account runs the cloud's own work; CloudStack never lists it.
            models.Account.id != SYSTEM_ACCOUNT_ID,
        )
    )
    statement = _scoped(session, caller, wanted, statement)
    statement = statement.where(
        *query.equal_to_given(
            (models.Account.id, wanted.id),
            (models.Account.type, wanted.account_type),
            (models.Account.state, wanted.state),
        ),
        *query.named_as_given((models.Account.account_name, wanted.name)),
    )
    if wanted.keyword:
        statement = statement.where(
            query.matches_keyword(models.Account.account_name, wanted.keyword)
        )
    return query.paged(session, statement.order_by(models.Account.id), page)


def _scoped(
    session: Session,
    caller: access.Caller,
    wanted: AccountFilter,
    statement: sa.Select[Any],
) -> sa.Select[Any]:
    if caller.role_type is roles.RoleType.USER:
        return statement.where(models.Account.id == caller.account_id)
    domain = wanted.domain or session.get_one(models.Domain, caller.domain_id)
    access.check_domain(caller, domain)
    statement = statement.where(access.reachable_accounts(caller))
    if wanted.listall or wanted.isrecursive or wanted.id is not None:
        return statement.where(query.under_path(models.Domain.path, domain.path))
    return statement.where(models.Account.domain_id == domain.id)
