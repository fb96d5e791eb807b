"""Lookups by id within the caller's reach: a foreign object is answered like a missing one.

Called by the API commands for every id (and API key) a request names. An object the caller
may not know of (a domain outside its subtree and not above it, an account or user out of its
reach: ``access``) raises exactly the error an unknown id raises, so that an id is no oracle
of what exists and no error text names a foreign account or domain (issue 6 finding 10).
An object the caller may know of but not change is left to the service's own check (531).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from cirrostack.accounts import access, accounts, domains, users
from cirrostack.db.models import accounts as models


def domain(
    session: Session, caller: access.Caller, uuid: str, *, parameter: str = "domainid"
) -> models.Domain:
    """The live domain ``uuid`` names, if the caller may know it; else like an unknown id."""
    found = domains.by_uuid(session, uuid, parameter=parameter)
    if not access.knows_domain(caller, found):
        raise domains.unknown(uuid, parameter)
    return found


def account(
    session: Session, caller: access.Caller, uuid: str, *, parameter: str = "id"
) -> models.Account:
    """The live account ``uuid`` names, if the caller reaches it; else like an unknown id."""
    found = accounts.by_uuid(session, uuid, parameter=parameter)
    if not access.reaches_account(caller, found, session.get_one(models.Domain, found.domain_id)):
        raise accounts.unknown(uuid, parameter)
    return found


def account_by_name(
    session: Session, caller: access.Caller, name: str, domain: models.Domain
) -> models.Account | None:
    """The live account ``name`` in ``domain`` if the caller reaches it; None otherwise."""
    found = accounts.by_name(session, name, domain)
    return found if found is not None and access.reaches_account(caller, found, domain) else None


def user(
    session: Session, caller: access.Caller, uuid: str, *, parameter: str = "id"
) -> models.User:
    """The live user ``uuid`` names, if the caller reaches its account; else like unknown."""
    found = users.by_uuid(session, uuid, parameter=parameter)
    if not _reaches_user(session, caller, found):
        raise users.unknown(uuid, parameter)
    return found


def user_by_api_key(session: Session, caller: access.Caller, api_key: str) -> models.User | None:
    """The live user holding ``api_key`` if the caller reaches it; None otherwise."""
    found = users.by_api_key(session, api_key)
    return found if found is not None and _reaches_user(session, caller, found) else None


def _reaches_user(session: Session, caller: access.Caller, user: models.User) -> bool:
    owner = users.owner_of(session, user)
    return access.reaches_account(caller, owner.account, owner.domain)
