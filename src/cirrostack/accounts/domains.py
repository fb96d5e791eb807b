"""Domains: the tree accounts live in. ROOT has path ``/``; a child ``a`` of ROOT has ``/a/``.

Service functions take the session first and never commit; the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.accounts import access, accounts, locks
from cirrostack.db import base, query, unique
from cirrostack.db.models import accounts as models

ROOT_ID = 1
#: The unique key over live sibling names, in any case (migration 0004).
NAME_KEY = "uq_domain_parent_live_name"
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
    """The live domain whose path is ``path`` (``/`` or ``/a/b/``), in any case (as CloudStack's
    MySQL compares; sibling names are unique regardless of case, so one matches at most)."""
    return session.scalars(
        sa.select(models.Domain).where(
            query.same_name(models.Domain.path, path), models.Domain.removed.is_(None)
        )
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
    """Create a child of ``parent`` (default: the caller's domain).

    The parent is locked (``locks.domain_chain``), so the child cannot land under a parent a
    concurrent deleteDomain removes; the unique key refuses a sibling's name, in any case.
    Raises InvalidParameterValue for a bad, duplicate or vanished parent's name.
    """
    parent = parent or session.get_one(models.Domain, caller.domain_id)
    access.check_domain(caller, parent)
    _check_name(name, parent)
    parent = locks.domain_chain(session, parent.id, exclusive=True)
    domain = models.Domain(
        name=name,
        parent=parent.id,
        path=f"{parent.path}{name}/",
        level=parent.level + 1,
        network_domain=network_domain,
    )
    with unique.refusing(session, NAME_KEY, _name_taken(name, parent)):
        session.add(domain)
    _count_children(session, parent.id, +1)
    return domain


def _count_children(session: Session, domain_id: int, step: int) -> None:
    """Move ``domain.child_count`` by ``step`` in one UPDATE (never below zero)."""
    count = models.Domain.child_count
    session.execute(
        sa.update(models.Domain)
        .where(models.Domain.id == domain_id)
        .values(child_count=sa.case((count + step < 0, 0), else_=count + step))
        .execution_options(synchronize_session=False)
    )
    session.expire(session.get_one(models.Domain, domain_id), ["child_count"])


def _name_taken(name: str, parent: models.Domain) -> errors.InvalidParameterValue:
    return errors.InvalidParameterValue(
        f"Domain with name {name} already exists for the parent {parent.uuid}"
    )


def _check_name(name: str, parent: models.Domain) -> None:
    if not name.strip() or "/" in name:
        raise errors.InvalidParameterValue(
            f"Domain name {name!r} is invalid: it must be non-empty and contain no '/'"
        )
    if len(parent.path) + len(name) + 1 > PATH_LENGTH:
        raise errors.InvalidParameterValue(
            f"Domain name is too long: the domain's path below {parent.path} would exceed "
            f"{PATH_LENGTH} characters"
        )


def update(
    session: Session,
    caller: access.Caller,
    domain: models.Domain,
    name: str | None,
    network_domain: str | None,
) -> models.Domain:
    """Rename a domain (moving its subtree's paths) and/or set its network domain.

    A rename locks the domain (and its ancestors), so creates below it, which lock it too, see
    the new path; the unique key refuses a sibling's name in any case.
    """
    access.check_domain(caller, domain)
    if name is not None and name != domain.name:
        if domain.id == ROOT_ID:
            raise errors.InvalidParameterValue("The ROOT domain cannot be renamed")
        parent = session.get_one(models.Domain, domain.parent)
        _check_name(name, parent)
        domain = locks.domain_chain(session, domain.id, exclusive=True)
        with unique.refusing(session, NAME_KEY, _name_taken(name, parent)):
            _move_subtree(session, domain, f"{parent.path}{name}/")
            domain.name = name
    if network_domain is not None:
        domain.network_domain = network_domain
    session.flush()
    return domain


def _move_subtree(session: Session, domain: models.Domain, new_path: str) -> None:
    old_path = domain.path
    nodes = subtree(session, domain, lock=True)
    longest = max(len(node.path) for node in nodes) - len(old_path) + len(new_path)
    if longest > PATH_LENGTH:
        raise errors.InvalidParameterValue(
            f"Domain name is too long: a path below it would be {longest} characters, "
            f"more than {PATH_LENGTH}"
        )
    for node in nodes:
        node.path = new_path + node.path[len(old_path) :]


def subtree(
    session: Session, domain: models.Domain, *, lock: bool = False
) -> Sequence[models.Domain]:
    """``domain`` and every live domain below it; with ``lock``, locked for update.

    The locking read sees the latest committed rows on every backend (MariaDB's plain reads
    would see the transaction's snapshot), which deletes and renames need.
    """
    statement = sa.select(models.Domain).where(
        query.under_path(models.Domain.path, domain.path),
        models.Domain.removed.is_(None),
    )
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return session.scalars(statement.order_by(models.Domain.id)).all()


def delete(
    session: Session, caller: access.Caller, domain: models.Domain, *, cleanup: bool
) -> None:
    """Remove a domain; with ``cleanup`` also its subtree and accounts, else it must be empty.

    The parent and the domain are locked first (``locks.domain_chain``): every create inside the
    subtree holds a lock on the domain until it commits, so the subtree and accounts read next
    are complete, and later creates find the domain removed. Raises PermissionDenied for ROOT
    or the caller's own domain, ResourceInUse for a non-empty domain without ``cleanup``.
    """
    access.check_domain(caller, domain)
    if domain.id == ROOT_ID or domain.id == caller.domain_id:
        raise errors.PermissionDenied(f"Domain {domain.uuid} cannot be deleted by this caller")
    parent_id = domain.parent
    assert parent_id is not None
    locks.domain_chain(session, parent_id, exclusive=True)
    domain = locks.domain_chain(session, domain.id, exclusive=True)
    nodes = subtree(session, domain, lock=True)
    owners = accounts.in_domains(session, [node.id for node in nodes], lock=True)
    if not cleanup and (len(nodes) > 1 or owners):
        raise errors.ResourceInUse(
            f"Domain {domain.name} has {len(nodes) - 1} sub-domain(s) and {len(owners)} "
            "account(s); delete them first or pass cleanup=true"
        )
    now = base.utcnow()
    accounts.remove_all(session, [account.id for account in owners], now)
    for node in nodes:
        node.removed, node.state = now, "Inactive"
    session.flush()
    _count_children(session, parent_id, -1)


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
        statement = statement.where(query.same_name(models.Domain.name, wanted.name))
    if wanted.level is not None:
        statement = statement.where(models.Domain.level == wanted.level)
    if wanted.keyword:
        statement = statement.where(query.matches_keyword(models.Domain.name, wanted.keyword))
    return query.paged(session, statement.order_by(models.Domain.path), page)
