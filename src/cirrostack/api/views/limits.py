"""Response objects for resource limits and resource counts."""

from __future__ import annotations

from typing import Any

from cirrostack.accounts import limit_admin
from cirrostack.api.registry import Field, ObjectSpec

_OWNER = (
    Field("account", "string", "the account of the resource limit"),
    Field("domainid", "string", "the domain ID of the resource limit"),
    Field("domain", "string", "the domain name of the resource limit"),
)

RESOURCELIMIT = ObjectSpec(
    "resourcelimit",
    (
        *_OWNER,
        Field("resourcetype", "string", "resource type: 0 to 11, see the resourcetype parameter"),
        Field("resourcetypename", "string", "resource type name (user_vm, cpu, ...)"),
        Field("max", "long", "the maximum number of the resource; -1 means no limit"),
    ),
)

RESOURCECOUNT = ObjectSpec(
    "resourcecount",
    (
        *_OWNER,
        Field("resourcetype", "string", "resource type: 0 to 11, see the resourcetype parameter"),
        Field("resourcetypename", "string", "resource type name (user_vm, cpu, ...)"),
        Field("resourcecount", "long", "resource count (bytes for storage)"),
    ),
)


def _owner(owner: limit_admin.Owner) -> dict[str, Any]:
    item: dict[str, Any] = {"domainid": owner.domain.uuid, "domain": owner.domain.name}
    if owner.account is not None:
        item["account"] = owner.account.account_name
    return item


def limit_item(value: limit_admin.Value) -> dict[str, Any]:
    return {
        **_owner(value.owner),
        "resourcetype": str(int(value.kind)),
        "resourcetypename": value.kind.wire,
        "max": value.kind.limit_to_api(value.value),
    }


def count_item(value: limit_admin.Value) -> dict[str, Any]:
    return {
        **_owner(value.owner),
        "resourcetype": str(int(value.kind)),
        "resourcetypename": value.kind.wire,
        "resourcecount": value.value,
    }
