"""The resource types that take tags, by CloudStack's ``resourcetype`` name.

Each names its model, the conditions of a live row of that type, and is found within the
caller's reach by the owning account (``compute.owned``): a foreign resource is answered like
a missing one. A family that adds a type registers it here (one line).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.accounts import access
from cirrostack.compute import owned
from cirrostack.db.models import attachments, compute, network, storage, templates


@dataclass(frozen=True)
class Taggable:
    """A resource type tags may be put on."""

    name: str
    model: Any
    live: tuple[Any, ...] = ()


def _types() -> dict[str, Taggable]:
    vm, volume, template = compute.VmInstance, storage.Volume, templates.VmTemplate
    found = (
        Taggable("UserVm", vm, (vm.type == "User", vm.removed.is_(None))),
        Taggable("Volume", volume, (volume.removed.is_(None), volume.state != "Expunged")),
        Taggable("Template", template, (template.format != "ISO", template.removed.is_(None))),
        Taggable("ISO", template, (template.format == "ISO", template.removed.is_(None))),
        Taggable("Network", network.Network, (network.Network.removed.is_(None),)),
        Taggable("SecurityGroup", attachments.SecurityGroup),
    )
    return {kind.name.lower(): kind for kind in found}


TYPES = _types()


def kind(name: str) -> Taggable:
    """The type ``name`` names, in any case; InvalidParameterValue for any other."""
    found = TYPES.get(name.lower())
    if found is None:
        raise errors.InvalidParameterValue(f"Invalid resource type {name}")
    return found


def resource(session: Session, caller: access.Caller, taggable: Taggable, uuid: str) -> Any:
    """The live resource of ``taggable``'s type with ``uuid`` within the caller's reach;
    missing and foreign alike raise InvalidParameterValue."""
    found = session.scalars(
        sa.select(taggable.model).where(taggable.model.uuid == uuid, *taggable.live)
    ).first()
    if found is None or not owned.reaches(session, caller, found.account_id):
        raise errors.InvalidParameterValue(
            f"Unable to find resource by id {uuid} and type {taggable.name}"
        )
    return found
