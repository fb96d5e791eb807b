"""The ``event`` and ``eventtype`` response objects: specs and serializers side by side."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import events
from cirrostack.api import responses
from cirrostack.api.registry import Field, ObjectSpec
from cirrostack.api.views import batch, identity
from cirrostack.db.models import accounts as account_models
from cirrostack.db.models import events as models

_S, _D = "string", "date"

EVENT = ObjectSpec(
    "event",
    (
        Field("id", _S, "the ID of the event"),
        Field("type", _S, "the type of the event (see event types)"),
        Field("level", _S, "the event level (INFO, WARN, ERROR)"),
        Field("description", _S, "a brief description of the event"),
        Field("state", _S, "the state of the event (Created, Scheduled, Started, Completed)"),
        Field("created", _D, "the date the event was created"),
        Field("username", _S, "the name of the user who performed the action"),
        Field("account", _S, "the account name for the account that owns the event"),
        Field("domainid", _S, "the id of the account's domain"),
        Field("domain", _S, "the name of the account's domain"),
        Field("domainpath", _S, "the path of the account's domain"),
        Field("parentid", _S, "the ID of the event this one continues (its start event)"),
        Field("resourceid", _S, "the ID of the resource the event is about"),
        Field("resourcetype", _S, "the type of the resource the event is about"),
        Field("archived", "boolean", "whether the event has been archived"),
    ),
)

EVENT_TYPE = ObjectSpec("eventtype", (Field("name", _S, "Event Type"),))


def event_items(session: Session, found: Sequence[models.Event]) -> list[dict[str, Any]]:
    """``found`` as listEvents answers them (the names they mention read in a few queries)."""
    users = batch.by_id(session, account_models.User, [event.user_id for event in found])
    owners = batch.by_id(session, account_models.Account, [event.account_id for event in found])
    domains = batch.by_id(session, account_models.Domain, [event.domain_id for event in found])
    starts = {event.start_id for event in found if event.start_id}
    parents: dict[int, str] = {
        ident: uuid
        for ident, uuid in session.execute(
            sa.select(models.Event.id, models.Event.uuid).where(models.Event.id.in_(starts))
        )
    }
    resources = events.resource_uuids(session, found)
    items = []
    for event in found:
        user, owner, domain = (
            users.get(event.user_id),
            owners.get(event.account_id),
            domains.get(event.domain_id),
        )
        resource = (event.resource_type or "", event.resource_id or 0)
        items.append(
            responses.compact(
                {
                    "id": event.uuid,
                    "type": event.type,
                    "level": event.level,
                    "description": event.description,
                    "state": event.state,
                    "created": responses.date(event.created),
                    "username": user.username if user else None,
                    "account": owner.account_name if owner else None,
                    "domainid": domain.uuid if domain else None,
                    "domain": domain.name if domain else None,
                    "domainpath": identity.display_path(domain) if domain else None,
                    "parentid": parents.get(event.start_id),
                    "resourceid": resources.get(resource),
                    "resourcetype": event.resource_type,
                    "archived": bool(event.archived),
                }
            )
        )
    return items


def event_type_item(name: str) -> dict[str, Any]:
    return {"name": name}
