"""Domains: the tree accounts live in. ROOT has path ``/``; a child ``a`` of ROOT has ``/a/``.

Service functions take the session first and never commit; the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.accounts import access, accounts
from cirrostack.db import base, query
from cirrostack.db.models import accounts as models

ROOT_ID = 1
#: ``domain.path`` is VARCHAR(255): a domain's path, ``/a/b/``, must fit.
PATH_LENGTH = 255


@dataclass(frozen=True)
class DomainFilter:
    """What listDomains asked for."""

    id: int | None = None
    name: str | None = None
    level: int | None = None
    keyword: str | None = None
    listall: bool = False
    isrecursive: bool = False


def by_uuid(session: Session, uuid: str, *, parameter: str = "domainid") -> models.Domain:
    """The live domain with ``uuid``; InvalidParameterValue naming ``parameter`` if none."""
    domain = session.scalars(
        sa.select(models.Domain).where(models.Domain.uuid == uuid, models.Domain.removed.is_(None))
    ).first()
    if domain is None:
        raise unknown(uuid, parameter)
    return domain


def unknown(uuid: str, parameter: str = "domainid") -> errors.InvalidParameterValue:
    """The error for a domain id nobody has, or one the caller may not see (``reach``)."""
    return errors.InvalidParameterValue(f"Unable to find domain by {parameter} {uuid}")


def by_path(session: Session, path: str) -> models.Domain | None:
    """The live domain whose path is ``path`` (``/`` or ``/a/b/``)."""
    return session.scalars(
        sa.select(models.Domain).where(models.Domain.path == path, models.Domain.removed.is_(None))
    ).first()


def normalise_path(text: str | None) -> str:
    """A login ``domain`` value as a path: ``None``, ``/`` → ``/``; ``a``, ``/a`` → ``/a/``."""
    stripped = (text or "").strip().strip("/")
    return "/" if not stripped else f"/{stripped}/"


def create(
    session: Session,
    caller: access.Caller,
    name: str,
    parent: models.Domain | None,
    network_domain: str | None = None,
) -> models.Domain:
    """Create a child of ``parent`` (default: the caller's domain)."""
    parent = parent or session.get_one(models.Domain, caller.domain_id)
    access.check_domain(caller, parent)
    _check_name(session, name, parent)
    domain = models.Domain(
        name=name,
        parent=parent.id,
        path=f"{parent.path}{name}/",
        level=parent.level + 1,
        network_domain=network_domain,
    )
    parent.child_count += 1
    session.add(domain)
    session.flush()
    return domain


def _check_name(
    session: Session, name: str, parent: models.Domain, renamed: int | None = None
) -> None:
    if not name.strip() or "/" in name:
        raise errors.InvalidParameterValue(
            f"Domain name {name!r} is invalid: it must be non-empty and contain no '/'"
        )
    if len(parent.path) + len(name) + 1 > PATH_LENGTH:
        raise errors.InvalidParameterValue(
            f"Domain name is too long: the domain's path below {parent.path} would exceed "
            f"{PATH_LENGTH} characters"
        )
    # Names are unique among siblings regardless of case, on every backend: MariaDB's collation
    # compares that way anyway, and paths that differ only in case invite confusion.
    clash = session.scalars(
        sa.select(models.Domain.id).where(
            models.Domain.parent == parent.id,
            sa.func.lower(models.Domain.name) == name.lower(),
            models.Domain.removed.is_(None),
            models.Domain.id != (renamed or 0),
        )
    ).first()
    if clash is not None:
        raise errors.InvalidParameterValue(
            f"Domain with name {name} already exists for the parent {parent.uuid}"
        )


def update(
    session: Session,
    caller: access.Caller,
    domain: models.Domain,
    name: str | None,
    network_domain: str | None,
) -> models.Domain:
    """Rename a domain (moving its subtree's paths) and/or set its network domain."""
    access.check_domain(caller, domain)
    if name is not None and name != domain.name:
        if domain.id == ROOT_ID:
            raise errors.InvalidParameterValue("The ROOT domain cannot be renamed")
        parent = session.get_one(models.Domain, domain.parent)
        _check_name(session, name, parent, renamed=domain.id)
        _move_subtree(session, domain, f"{parent.path}{name}/")
        domain.name = name
    if network_domain is not None:
        domain.network_domain = network_domain
    session.flush()
    return domain


def _move_subtree(session: Session, domain: models.Domain, new_path: str) -> None:
    old_path = domain.path
    nodes = subtree(session, domain)
    longest = max(len(node.path) for node in nodes) - len(old_path) + len(new_path)
    if longest > PATH_LENGTH:
        raise errors.InvalidParameterValue(
            f"Domain name is too long: a path below it would be {longest} characters, "
            f"more than {PATH_LENGTH}"
        )
    for node in nodes:
        node.path = new_path + node.path[len(old_path) :]


def subtree(session: Session, domain: models.Domain) -> Sequence[models.Domain]:
    """``domain`` and every live domain below it."""
    return session.scalars(
        sa.select(models.Domain).where(
            query.under_path(models.Domain.path, domain.path),
            models.Domain.removed.is_(None),
        )
    ).all()


def delete(
    session: Session, caller: access.Caller, domain: models.Domain, *, cleanup: bool
) -> None:
    """Remove a domain; with ``cleanup`` also its subtree and accounts, else it must be empty."""
    access.check_domain(caller, domain)
    if domain.id == ROOT_ID or domain.id == caller.domain_id:
        raise errors.PermissionDenied(f"Domain {domain.uuid} cannot be deleted by this caller")
    nodes = subtree(session, domain)
    owners = accounts.in_domains(session, [node.id for node in nodes])
    if not cleanup and (len(nodes) > 1 or owners):
        raise errors.ResourceInUse(
            f"Domain {domain.name} has {len(nodes) - 1} sub-domain(s) and {len(owners)} "
            "account(s); delete them first or pass cleanup=true"
        )
    now = base.utcnow()
    for account in owners:
        accounts.remove(session, account, now)
    for node in nodes:
        node.removed, node.state = now, "Inactive"
    parent = session.get_one(models.Domain, domain.parent)
    parent.child_count = max(0, parent.child_count - 1)
    session.flush()


def search(
    session: Session, caller: access.Caller, wanted: DomainFilter, page: query.Page
) -> tuple[Sequence[models.Domain], int]:
    """listDomains: the caller's domain, or its subtree with listall/isrecursive."""
    own = session.get_one(models.Domain, caller.domain_id)
    statement = sa.select(models.Domain).where(models.Domain.removed.is_(None))
    if wanted.id is not None:
        statement = statement.where(models.Domain.id == wanted.id)
    if wanted.listall or wanted.isrecursive or wanted.id is not None:
        statement = statement.where(query.under_path(models.Domain.path, own.path))
    else:
        statement = statement.where(models.Domain.id == own.id)
    if wanted.name is not None:
        statement = statement.where(models.Domain.name == wanted.name)
    if wanted.level is not None:
        statement = statement.where(models.Domain.level == wanted.level)
    if wanted.keyword:
        statement = statement.where(query.matches_keyword(models.Domain.name, wanted.keyword))
    return query.paged(session, statement.order_by(models.Domain.path), page)
