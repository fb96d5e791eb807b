"""Response objects for roles and role permissions."""

from __future__ import annotations

from typing import Any

from cirrostack.api.registry import Field, ObjectSpec
from cirrostack.db.models import accounts as models

ROLE = ObjectSpec(
    "role",
    (
        Field("id", "string", "the ID of the role"),
        Field("name", "string", "the name of the role"),
        Field("type", "string", "the type of the role"),
        Field("description", "string", "the description of the role"),
        Field("isdefault", "boolean", "true if role is default, false otherwise"),
    ),
)

ROLEPERMISSION = ObjectSpec(
    "rolepermission",
    (
        Field("id", "string", "the ID of the role permission"),
        Field("roleid", "string", "the ID of the role to which the role permission belongs"),
        Field("rolename", "string", "the name of the role to which the role permission belongs"),
        Field("rule", "string", "the api name or wildcard rule"),
        Field("permission", "string", "the permission type of the api name or wildcard rule"),
        Field("description", "string", "the description of the role permission"),
    ),
)


def role_item(role: models.Role) -> dict[str, Any]:
    return {
        "id": role.uuid,
        "name": role.name,
        "type": role.role_type,
        "description": role.description or "",
        "isdefault": bool(role.is_default),
    }


def permission_item(role: models.Role, entry: models.RolePermission) -> dict[str, Any]:
    return {
        "id": entry.uuid,
        "roleid": role.uuid,
        "rolename": role.name,
        "rule": entry.rule,
        "permission": entry.permission.lower(),
        "description": entry.description or "",
    }
