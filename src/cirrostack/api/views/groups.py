"""The ``instancegroup`` and ``affinitygroup`` objects: spec and serializer side by side.

A page reads its owners (two queries) and, for affinity groups, the members' uuids (one
query), whatever its size.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack.api import responses
from cirrostack.api.registry import Field, ObjectSpec
from cirrostack.api.views import owners
from cirrostack.db.models import attachments as models
from cirrostack.db.models import compute

INSTANCE_GROUP = ObjectSpec(
    "instancegroup",
    (
        Field("id", "string", "the ID of the instance group"),
        Field("name", "string", "the name of the instance group"),
        Field("created", "date", "time and date the instance group was created"),
        *owners.FIELDS,
    ),
)

AFFINITY_GROUP = ObjectSpec(
    "affinitygroup",
    (
        Field("id", "string", "the ID of the affinity group"),
        Field("name", "string", "the name of the affinity group"),
        Field("type", "string", "the type of the affinity group"),
        Field("description", "string", "the description of the affinity group"),
        Field("virtualmachineIds", "list", "virtual machine IDs associated with this group"),
        *owners.FIELDS,
    ),
)

AFFINITY_GROUP_TYPE = ObjectSpec(
    "affinityGroupType", (Field("type", "string", "the type of the affinity group"),)
)


def instance_group_items(
    session: Session, found: Sequence[models.InstanceGroup]
) -> list[dict[str, Any]]:
    who = owners.of(session, [group.account_id for group in found])
    return [
        {
            "id": group.uuid,
            "name": group.name,
            "created": responses.date(group.created),
            **who.fields(group.account_id),
        }
        for group in found
    ]


def affinity_group_items(
    session: Session, found: Sequence[models.AffinityGroup]
) -> list[dict[str, Any]]:
    who = owners.of(session, [group.account_id for group in found])
    members = _member_uuids(session, [group.id for group in found])
    return [
        responses.compact(
            {
                "id": group.uuid,
                "name": group.name,
                "type": group.type,
                "description": group.description,
                "virtualmachineIds": members.get(group.id, []),
                **who.fields(group.account_id),
            }
        )
        for group in found
    ]


def _member_uuids(session: Session, group_ids: list[int]) -> dict[int, list[str]]:
    if not group_ids:
        return {}
    rows = session.execute(
        sa.select(models.AffinityGroupVm.affinity_group_id, compute.VmInstance.uuid)
        .join(compute.VmInstance, compute.VmInstance.id == models.AffinityGroupVm.instance_id)
        .where(models.AffinityGroupVm.affinity_group_id.in_(sorted(set(group_ids))))
        .order_by(models.AffinityGroupVm.id)
    )
    found: dict[int, list[str]] = {}
    for group_id, uuid in rows:
        found.setdefault(int(group_id), []).append(str(uuid))
    return found
