"""Which accounts' resources a list shows: CloudStack's rules for owned resources.

Called by every list command of account-owned resources (jobs, events, and later VMs,
volumes, snapshots). The result is a SQL condition on the resource's account id column:

- ``account`` (+ ``domainid``, default the caller's domain): that account, if the caller may;
- ``domainid`` alone: that domain's accounts, or its whole subtree with ``isrecursive``;
- neither, ``listall=true``: everything the caller may see (root admin: all; domain admin:
  its subtree; user: its own account);
- neither, ``listall`` false: the caller's own account only, even for a root admin.

Within a domain or subtree a domain admin reaches only the accounts whose role type does not
outrank its own (``access.reachable_account_types``, the rule ``access.check_account`` keeps
for one account): a domain admin of ROOT lists no root admin's jobs or events.

A domain the caller may not see raises PermissionDenied; an account it may not reach is
answered like an unknown name (InvalidParameterValue).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.accounts import access, accounts, roles
from cirrostack.db import query
from cirrostack.db.models import accounts as models


@dataclass(frozen=True)
class Wanted:
    """The ownership filters of a list request."""

    domain: models.Domain | None = None
    account_name: str | None = None
    listall: bool = False
    isrecursive: bool = False


def condition(
    session: Session, caller: access.Caller, wanted: Wanted, account_id: Any
) -> sa.ColumnElement[bool]:
    """The condition on ``account_id`` (a column) that keeps what the caller may list.

    A plain user is confined to its own account whatever it asks for; a domain or account it
    names must still be one it may see (else PermissionDenied, as for any caller).
    """
    if caller.role_type is roles.RoleType.USER:
        if wanted.domain is not None:
            access.check_domain(caller, wanted.domain)
        if wanted.account_name is not None:
            _named_account(session, caller, wanted)
        return sa.and_(account_id == caller.account_id)
    if wanted.account_name is not None:
        return sa.and_(account_id == _named_account(session, caller, wanted).id)
    if wanted.domain is not None:
        access.check_domain(caller, wanted.domain)
        within = _accounts_of(caller, wanted.domain, recursive=wanted.isrecursive)
        return sa.and_(account_id.in_(within))
    if not wanted.listall:
        return sa.and_(account_id == caller.account_id)
    if caller.is_root_admin:
        return sa.true()
    own = session.get_one(models.Domain, caller.domain_id)
    return sa.and_(account_id.in_(_accounts_of(caller, own, recursive=True)))


def _named_account(session: Session, caller: access.Caller, wanted: Wanted) -> models.Account:
    domain = wanted.domain or session.get_one(models.Domain, caller.domain_id)
    found = accounts.by_name(session, wanted.account_name or "", domain)
    # An account out of reach is answered like one that does not exist (ids are no oracle).
    if found is None or not access.reaches_account(caller, found, domain):
        raise errors.InvalidParameterValue(
            f"Unable to find account {wanted.account_name} in domain {domain.uuid}"
        )
    return found


def _accounts_of(
    caller: access.Caller, domain: models.Domain, *, recursive: bool
) -> sa.Select[Any]:
    """The ids of the accounts in ``domain`` (or its subtree) that the caller reaches."""
    statement = sa.select(models.Account.id).join(
        models.Domain, models.Domain.id == models.Account.domain_id
    )
    if recursive:
        statement = statement.where(query.under_path(models.Domain.path, domain.path))
    else:
        statement = statement.where(models.Account.domain_id == domain.id)
    return statement.where(access.reachable_accounts(caller))
