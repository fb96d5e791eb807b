"""The ``configuration`` response object: spec and serializer side by side."""

from __future__ import annotations

from typing import Any

from cirrostack.api import responses
from cirrostack.api.registry import Field, ObjectSpec
from cirrostack.config import definitions, service

_S, _B = "string", "boolean"

CONFIGURATION = ObjectSpec(
    "configuration",
    (
        Field("name", _S, "the name of the configuration"),
        Field("value", _S, "the value of the configuration (in force at the scope asked for)"),
        Field("defaultvalue", _S, "the default value of the configuration"),
        Field("category", _S, "the category of the configuration"),
        Field("description", _S, "the description of the configuration"),
        Field("scope", _S, "scope (global/zone/cluster/storagepool/imagestore/account/domain)"),
        Field("id", _S, "the ID of the zone, cluster, pool, store, account or domain of the scope"),
        Field("isdynamic", _B, "true if the configuration is applied without a restart"),
        Field("type", _S, "the type of the value: Boolean, Number, Decimal or String"),
        Field("component", _S, "the component of the configuration"),
        Field("options", _S, "the values the configuration may take, comma separated"),
    ),
)


def configuration_item(
    entry: service.Entry, scope: definitions.Scope, scope_uuid: str | None
) -> dict[str, Any]:
    """``entry`` as listConfigurations/updateConfiguration answer it at ``scope``."""
    row, key = entry.row, entry.key
    return responses.compact(
        {
            "name": row.name,
            "value": entry.value,
            "defaultvalue": row.default_value,
            "category": row.category,
            "description": row.description,
            "scope": scope.value,
            "id": scope_uuid,
            "isdynamic": bool(row.is_dynamic),
            "type": key.type_name if key is not None else "String",
            "component": row.component,
            "options": row.options,
        }
    )
