"""The event log: a row in ``event`` for every API action and every state transition.

``record`` is called by the dispatcher (after a command's work, in the same transaction, so an
action that rolls back leaves no event), by the job runner and by the state gate. ``search``
and ``matching`` read the log for listEvents, archiveEvents and deleteEvents, within what the
caller may see (``accounts.scope``: a user its own account, a domain admin its subtree, a root
admin everything; the system account's events to root admins only).
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.orm import Session

from cirrostack.accounts import access, accounts, roles, scope
from cirrostack.db import query
from cirrostack.db.models import accounts as account_models
from cirrostack.db.models import (
    compute,
    infrastructure,
    network,
    offerings,
    snapshots,
    storage,
    templates,
)
from cirrostack.db.models import events as models

#: The longest description the ``event`` table holds.
DESCRIPTION_LENGTH = 1024


class State(enum.StrEnum):
    """``event.state``: an async action goes Scheduled → Started → Completed."""

    CREATED = "Created"
    SCHEDULED = "Scheduled"
    STARTED = "Started"
    COMPLETED = "Completed"


class Level(enum.StrEnum):
    INFO = "INFO"
    WARN = "WARN"
    ERROR = "ERROR"


class ActorLike(Protocol):
    """Who acted; ``accounts.access.Caller`` is one."""

    @property
    def user_id(self) -> int: ...
    @property
    def account_id(self) -> int: ...
    @property
    def domain_id(self) -> int: ...


def record(
    session: Session,
    actor: ActorLike,
    type_: str,
    description: str,
    *,
    state: State = State.COMPLETED,
    level: Level = Level.INFO,
    resource_type: str | None = None,
    resource_id: int | None = None,
    start_id: int = 0,
) -> int:
    """Insert one event row (no commit: it belongs to the caller's transaction); its id."""
    result = session.execute(
        sa.insert(models.Event).values(
            type=type_,
            state=state.value,
            level=level.value,
            description=description[:DESCRIPTION_LENGTH],
            user_id=actor.user_id,
            account_id=actor.account_id,
            domain_id=actor.domain_id,
            resource_type=resource_type,
            resource_id=resource_id,
            start_id=start_id,
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[attr-defined]


# --- Reading the log (listEvents, archiveEvents, deleteEvents) --------------------------------

#: The resource types events name, with the table their ids point into (CloudStack's
#: ``ApiCommandResourceType`` names); a type not listed here is shown without ``resourceid``.
RESOURCE_MODELS: Mapping[str, type[Any]] = MappingProxyType(
    {
        "Account": account_models.Account,
        "User": account_models.User,
        "Domain": account_models.Domain,
        "VirtualMachine": compute.VmInstance,
        "Volume": storage.Volume,
        "Snapshot": snapshots.Snapshot,
        "Template": templates.VmTemplate,
        "Iso": templates.VmTemplate,
        "Network": network.Network,
        "Host": infrastructure.Host,
        "Zone": infrastructure.DataCenter,
        "Pod": infrastructure.HostPod,
        "Cluster": infrastructure.Cluster,
        "StoragePool": storage.StoragePool,
        "ImageStore": storage.ImageStore,
        "ServiceOffering": offerings.ServiceOffering,
        "DiskOffering": offerings.DiskOffering,
    }
)


@dataclass(frozen=True)
class EventFilter:
    """What listEvents asked for (and, for archive/delete, ``uuids``/``type``/dates).

    ``start``/``end`` bound ``created`` inclusively; ``pending`` is the (oldest, newest) window
    of listEvents' ``entrytime``/``duration``: events started in it and not completed.
    """

    uuids: tuple[str, ...] = ()
    type: str | None = None
    level: str | None = None
    start: datetime.datetime | None = None
    end: datetime.datetime | None = None
    start_event: str | None = None
    resource_type: str | None = None
    resource_id: int | None = None
    keyword: str | None = None
    owners: scope.Wanted = field(default_factory=scope.Wanted)
    pending: tuple[datetime.datetime, datetime.datetime] | None = None
    #: False: events not archived (what listEvents shows by default); None: either.
    archived: bool | None = False


def search(
    session: Session, caller: access.Caller, wanted: EventFilter, page: query.Page
) -> tuple[Sequence[models.Event], int]:
    """One page of the events the caller may see, newest first, and their total."""
    statement = sa.select(models.Event).where(*_conditions(session, caller, wanted))
    ordered = statement.order_by(models.Event.created.desc(), models.Event.id.desc())
    return query.paged(session, ordered, page)


def matching(
    session: Session, caller: access.Caller, wanted: EventFilter
) -> Sequence[models.Event]:
    """Every event the caller may see that ``wanted`` selects (archiveEvents, deleteEvents)."""
    statement = sa.select(models.Event).where(*_conditions(session, caller, wanted))
    return session.scalars(statement.order_by(models.Event.id)).all()


def _conditions(
    session: Session, caller: access.Caller, wanted: EventFilter
) -> list[sa.ColumnElement[bool]]:
    event = models.Event
    found = [_visible(session, caller, wanted.owners)]
    if wanted.archived is not None:
        found.append(event.archived.is_(wanted.archived))
    for column, value in (
        (event.type, wanted.type),
        (event.level, wanted.level),
        (event.resource_type, wanted.resource_type),
        (event.resource_id, wanted.resource_id),
    ):
        if value is not None:
            found.append(column == value)
    if wanted.uuids:
        found.append(event.uuid.in_(wanted.uuids))
    if wanted.start is not None:
        found.append(event.created >= wanted.start)
    if wanted.end is not None:
        found.append(event.created <= wanted.end)
    if wanted.start_event is not None:
        found.append(_started_by(wanted.start_event))
    if wanted.keyword:
        columns = (event.type, event.description, event.level)
        found.append(query.keyword_in(wanted.keyword, *columns))
    if wanted.pending is not None:
        found.extend(_pending(*wanted.pending))
    return found


def _visible(
    session: Session, caller: access.Caller, owners: scope.Wanted
) -> sa.ColumnElement[bool]:
    """CloudStack's ownership rules; the system account's events only for root admins."""
    event = models.Event
    if caller.role_type is roles.RoleType.USER:
        # A user sees its own account's events whatever it names; naming another account or
        # a domain out of reach is refused as for any other resource.
        if owners.account_name is not None or owners.domain is not None:
            scope.condition(session, caller, owners, event.account_id)
        return event.account_id == caller.account_id
    visible = scope.condition(session, caller, owners, event.account_id)
    if caller.is_root_admin:
        return visible
    return sa.and_(visible, event.account_id != accounts.SYSTEM_ACCOUNT_ID)


def _started_by(start_uuid: str) -> sa.ColumnElement[bool]:
    """The start event with ``start_uuid`` and the events that continue it."""
    start = sa.select(models.Event.id).where(models.Event.uuid == start_uuid).scalar_subquery()
    return sa.or_(models.Event.id == start, models.Event.start_id == start)


def _pending(oldest: datetime.datetime, newest: datetime.datetime) -> list[sa.ColumnElement[bool]]:
    """Start events created in [oldest, newest] that no Completed event continues yet."""
    event, done = models.Event, orm.aliased(models.Event)
    completed = sa.select(done.id).where(
        done.start_id == event.id, done.state == State.COMPLETED.value
    )
    return [
        event.state != State.COMPLETED.value,
        event.start_id == 0,
        event.created >= oldest,
        event.created <= newest,
        ~completed.exists(),
    ]


def resource_model(resource_type: str) -> tuple[str, type[Any]] | None:
    """The canonical name and table of a resource type (any letter case), or None."""
    for name, model in RESOURCE_MODELS.items():
        if name.lower() == resource_type.lower():
            return name, model
    return None


def resource_uuids(session: Session, events: Iterable[models.Event]) -> dict[tuple[str, int], str]:
    """The uuid of every resource ``events`` name, by (resource type, internal id)."""
    wanted: dict[str, set[int]] = {}
    for event in events:
        kind, ident = event.resource_type, event.resource_id
        if kind is not None and kind in RESOURCE_MODELS and ident is not None:
            wanted.setdefault(kind, set()).add(ident)
    found: dict[tuple[str, int], str] = {}
    for kind, ids in wanted.items():
        model = RESOURCE_MODELS[kind]
        for ident, uuid in session.execute(
            sa.select(model.id, model.uuid).where(model.id.in_(ids))
        ):
            if uuid is not None:
                found[(kind, ident)] = uuid
    return found
