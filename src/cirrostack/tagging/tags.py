"""createTags, deleteTags and listTags' service, and the ``tags`` of other answers.

A resource has at most one value per key (the unique key of ``resource_tags`` decides between
concurrent requests). A tag belongs to the resource's owner, so the owner's admins see it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.accounts import access, scope
from cirrostack.db import query, unique
from cirrostack.db.models import accounts as account_models
from cirrostack.db.models import tags as models
from cirrostack.tagging import taggable

_KEY = "uq_resource_tags_resource_id_resource_type_key"


def pairs(
    tags: dict[int, dict[str, str]] | None, *, need_value: bool
) -> list[tuple[str, str | None]]:
    """(key, value) of a ``tags`` map parameter, in index order; a missing key (or value,
    when ``need_value``) raises InvalidParameterValue."""
    found = []
    for _index, entry in sorted((tags or {}).items()):
        key, value = entry.get("key"), entry.get("value")
        if not key or (need_value and value is None):
            raise errors.InvalidParameterValue("Every tag needs a key and a value")
        found.append((key, value))
    return found


def create(
    session: Session,
    caller: access.Caller,
    kind: taggable.Taggable,
    uuids: Sequence[str],
    tags: Sequence[tuple[str, str | None]],
    customer: str | None,
) -> int:
    """Put every tag on every resource; a key a resource already has is refused (all or
    nothing). The number of tags written."""
    resources = [taggable.resource(session, caller, kind, uuid) for uuid in uuids]
    for found in resources:
        owner = session.get_one(account_models.Account, found.account_id)
        for key, value in tags:
            refusal = errors.InvalidParameterValue(
                f"A tag with key {key} already exists on {kind.name} {found.uuid}"
            )
            with unique.refusing(session, _KEY, refusal):
                session.add(
                    models.ResourceTag(
                        key=key,
                        value=value,
                        resource_id=found.id,
                        resource_uuid=found.uuid,
                        resource_type=kind.name,
                        customer=customer,
                        account_id=owner.id,
                        domain_id=owner.domain_id,
                    )
                )
                session.flush()
    return len(resources) * len(tags)


def delete(
    session: Session,
    caller: access.Caller,
    kind: taggable.Taggable,
    uuids: Sequence[str],
    tags: Sequence[tuple[str, str | None]],
) -> int:
    """Remove the resources' tags (those of ``tags``' keys, and values where given; all when
    ``tags`` is empty); InvalidParameterValue when nothing matches."""
    ids = [taggable.resource(session, caller, kind, uuid).id for uuid in uuids]
    tag = models.ResourceTag
    statement = sa.delete(tag).where(tag.resource_type == kind.name, tag.resource_id.in_(ids))
    if tags:
        statement = statement.where(sa.or_(*(_matching(key, value) for key, value in tags)))
    deleted = int(session.execute(statement).rowcount)  # type: ignore[attr-defined]
    if deleted == 0:
        raise errors.InvalidParameterValue(
            "Unable to find any tags which conform to specified delete parameters."
        )
    return deleted


def _matching(key: str, value: str | None) -> sa.ColumnElement[bool]:
    tag = models.ResourceTag
    if value is None:
        return sa.and_(tag.key == key)
    return sa.and_(tag.key == key, tag.value == value)


def tags_for(
    session: Session, resource_type: str, ids: Iterable[int]
) -> dict[int, list[dict[str, Any]]]:
    """The ``tags`` field of each resource of ``resource_type`` (CloudStack's name), by
    resource id, in one query; resources without tags are missing."""
    found = tags_by_type(session, {resource_type: ids})
    return {ident: shown for (_kind, ident), shown in found.items()}


def tags_by_type(
    session: Session, wanted: Mapping[str, Iterable[int]]
) -> dict[tuple[str, int], list[dict[str, Any]]]:
    """The tags of resources of several types (templates and ISOs on one page), by (type,
    id), in one query whatever the mix, or none when there is no id at all."""
    tag = models.ResourceTag
    arms = [
        sa.and_(tag.resource_type == kind, tag.resource_id.in_(sorted(set(ids))))
        for kind, ids in ((kind, list(ids)) for kind, ids in wanted.items())
        if ids
    ]
    if not arms:
        return {}
    found: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for row, account_name, domain in session.execute(_with_owners(sa.or_(*arms))):
        found.setdefault((str(row.resource_type), row.resource_id), []).append(
            item(row, account_name, domain)
        )
    return found


def _with_owners(
    *conditions: sa.ColumnElement[bool],
) -> sa.Select[models.ResourceTag, str, account_models.Domain]:
    """Tags with their owners' account names and domains, in id order."""
    tag = models.ResourceTag
    return (
        sa.select(tag, account_models.Account.account_name, account_models.Domain)
        .join(account_models.Account, account_models.Account.id == tag.account_id)
        .join(account_models.Domain, account_models.Domain.id == tag.domain_id)
        .where(*conditions)
        .order_by(tag.id)
    )


def item(
    row: models.ResourceTag, account_name: str, domain: account_models.Domain
) -> dict[str, Any]:
    """A tag as answers show it."""
    shown = {
        "key": row.key,
        "value": row.value,
        "resourcetype": row.resource_type,
        "resourceid": row.resource_uuid,
        "account": account_name,
        "domainid": domain.uuid,
        "domain": domain.name,
        "customer": row.customer,
    }
    return {name: value for name, value in shown.items() if value is not None}


@dataclass(frozen=True)
class TagFilter:
    """listTags' filters."""

    owners: scope.Wanted
    resource_type: str | None = None
    resource_uuid: str | None = None
    key: str | None = None
    value: str | None = None
    customer: str | None = None
    keyword: str | None = None


def search(
    session: Session, caller: access.Caller, wanted: TagFilter, page: query.Page
) -> tuple[list[dict[str, Any]], int]:
    """One page of the tags the caller may list, as answers show them, and the total."""
    tag = models.ResourceTag
    kind = taggable.kind(wanted.resource_type).name if wanted.resource_type else None
    conditions = [
        scope.condition(session, caller, wanted.owners, tag.account_id),
        *query.equal_to_given(
            (tag.resource_type, kind),
            (tag.resource_uuid, wanted.resource_uuid),
            (tag.key, wanted.key),
            (tag.value, wanted.value),
            (tag.customer, wanted.customer),
        ),
    ]
    if wanted.keyword:
        conditions.append(query.keyword_in(wanted.keyword, tag.key, tag.value))
    ids, total = query.paged(session, sa.select(tag.id).where(*conditions).order_by(tag.id), page)
    if not ids:
        return [], total
    rows = session.execute(_with_owners(tag.id.in_(list(ids))))
    return [item(row, name, domain) for row, name, domain in rows], total
