"""Response objects for guest OS types and categories: spec and serializer side by side."""

from __future__ import annotations

from typing import Any

from cirrostack.api.registry import Field, ObjectSpec
from cirrostack.db.models import guest_os as models

OS_TYPE = ObjectSpec(
    "ostype",
    (
        Field("id", "string", "the ID of the OS type"),
        Field("description", "string", "the name/description of the OS type"),
        Field("oscategoryid", "string", "the ID of the OS category"),
        Field("oscategoryname", "string", "the name of the OS category"),
        Field("isuserdefined", "boolean", "is the guest OS user defined"),
        Field("fordisplay", "boolean", "is the guest OS visible for the users"),
    ),
)

OS_CATEGORY = ObjectSpec(
    "oscategory",
    (
        Field("id", "string", "the ID of the OS category"),
        Field("name", "string", "the name of the OS category"),
    ),
)


def os_type_item(os: models.GuestOs, category: models.GuestOsCategory) -> dict[str, Any]:
    return {
        "id": os.uuid,
        "description": os.display_name,
        "oscategoryid": category.uuid,
        "oscategoryname": category.name,
        "isuserdefined": os.is_user_defined,
        "fordisplay": os.display,
    }


def os_category_item(category: models.GuestOsCategory) -> dict[str, Any]:
    return {"id": category.uuid, "name": category.name}
