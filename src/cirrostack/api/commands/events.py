"""listEvents, listEventTypes, archiveEvents, deleteEvents.

Every role may call them, as in CloudStack; each caller reaches only the events of the accounts
it may see (``events.search``). Dates are ``yyyy-MM-dd`` or ``yyyy-MM-dd HH:mm:ss`` in UTC; an
end date without a time means the end of that day, as CloudStack's parameter parser does.
"""

from __future__ import annotations

import datetime

import sqlalchemy as sa

from cirrostack import errors, event_types, events
from cirrostack.accounts import scope
from cirrostack.api import paging, registry, responses
from cirrostack.api.commands.common import ISRECURSIVE, LISTALL, P, T, domain_arg
from cirrostack.api.views import events as view
from cirrostack.db.models import events as models

_END_OF_DAY = datetime.timedelta(hours=23, minutes=59, seconds=59)


def _dates(call: registry.Call) -> tuple[datetime.datetime | None, datetime.datetime | None]:
    """``startdate``/``enddate``; a date-only end date ends at 23:59:59."""
    start, end = call.get("startdate"), call.get("enddate")
    raw_end = call.request.first("enddate") if call.request is not None else None
    if end is not None and raw_end is not None and len(raw_end.strip()) <= len("yyyy-mm-dd"):
        end = end + _END_OF_DAY
    if start is not None and end is not None and start > end:
        raise errors.InvalidParameterValue("startdate must not be after enddate")
    return start, end


def _pending(call: registry.Call) -> tuple[datetime.datetime, datetime.datetime] | None:
    """The window ``entrytime``/``duration`` (seconds ago) select: events still not completed."""
    entry, duration = call.get("entrytime"), call.get("duration")
    if entry is None or duration is None:
        return None
    if entry <= duration:
        raise errors.InvalidParameterValue("Entry time must be greater than duration")
    return call.now - datetime.timedelta(seconds=entry), call.now - datetime.timedelta(
        seconds=duration
    )


def _resource(call: registry.Call) -> tuple[str | None, int | None]:
    """``resourcetype`` (canonical name) and the internal id ``resourceid`` names."""
    kind, ident = call.get("resourcetype"), call.get("resourceid")
    if kind is None:
        if ident is not None:
            raise errors.InvalidParameterValue("resourceid can be given only with resourcetype")
        return None, None
    known = events.resource_model(kind)
    if known is None:
        raise errors.InvalidParameterValue(
            f"Invalid resourcetype {kind}: one of {', '.join(sorted(events.RESOURCE_MODELS))}"
        )
    name, model = known
    if ident is None:
        return name, None
    found = call.session.scalar(sa.select(model.id).where(model.uuid == ident))
    # An unknown id matches nothing rather than answering an error: ids are not an oracle.
    return name, -1 if found is None else int(found)


def _owners(call: registry.Call, *, listall: bool | None = None) -> scope.Wanted:
    return scope.Wanted(
        domain=domain_arg(call),
        account_name=call.get("account"),
        listall=call.get("listall", False) if listall is None else listall,
        isrecursive=call.get("isrecursive", False),
    )


def list_events(call: registry.Call) -> responses.Reply:
    start, end = _dates(call)
    resource_type, resource_id = _resource(call)
    level = call.get("level")
    wanted = events.EventFilter(
        uuids=(call.get("id"),) if call.get("id") else (),
        type=call.get("type"),
        level=level.upper() if level else None,
        start=start,
        end=end,
        start_event=call.get("startid"),
        resource_type=resource_type,
        resource_id=resource_id,
        keyword=call.get("keyword"),
        # An id is found wherever the caller may see it, as if listall were given.
        owners=_owners(call, listall=True if call.get("id") else None),
        pending=_pending(call),
        archived=call.get("archived", False),
    )
    found, total = events.search(call.session, call.who, wanted, paging.page(call))
    return responses.Listing("event", view.event_items(call.session, found), total)


def list_event_types(call: registry.Call) -> responses.Reply:
    commands = call.services.need_registry()
    names = event_types.known(command.event for command in commands if command.event)
    keyword = call.get("keyword")
    if keyword:
        names = [name for name in names if keyword.lower() in name.lower()]
    page = paging.page(call)
    end = None if page.limit is None else page.offset + page.limit
    shown = [view.event_type_item(name) for name in names[page.offset : end]]
    return responses.Listing("eventtype", shown, len(names))


def _chosen(call: registry.Call) -> list[models.Event]:
    """The events archiveEvents/deleteEvents name, among those the caller may see."""
    uuids = tuple(call.get("ids") or ())
    start, end = _dates(call)
    if not uuids and call.get("type") is None and end is None:
        raise errors.InvalidParameterValue("Either event ids, type or enddate must be specified")
    wanted = events.EventFilter(
        uuids=uuids,
        type=call.get("type"),
        start=start,
        end=end,
        owners=scope.Wanted(listall=True),
        archived=None,
    )
    found = list(events.matching(call.session, call.who, wanted))
    if uuids and len(found) < len(set(uuids)):
        raise errors.InvalidParameterValue(
            "Unable to find every event of ids, or some are not the caller's to change"
        )
    return found


def archive_events(call: registry.Call) -> responses.Reply:
    for event in _chosen(call):
        event.archived = True
    call.session.flush()
    return responses.Success()


def delete_events(call: registry.Call) -> responses.Reply:
    for event in _chosen(call):
        call.session.delete(event)
    call.session.flush()
    return responses.Success()


_DATE_TEXT = '(use format "yyyy-MM-dd" or "yyyy-MM-dd HH:mm:ss")'
_SELECTION = (
    P("ids", T.LIST, "the IDs of the events", item_type=T.UUID, related=("listEvents",)),
    P("type", T.STRING, "the event type"),
    P("startdate", T.DATE, f"start of the date range (including) {_DATE_TEXT}"),
    P("enddate", T.DATE, f"end of the date range (including) {_DATE_TEXT}"),
)

COMMANDS = (
    registry.Command(
        "listEvents",
        list_events,
        "A command to list events.",
        (
            P("id", T.UUID, "the ID of the event", related=("listEvents",)),
            P("type", T.STRING, "the event type (see event types)"),
            P("level", T.STRING, "the event level (INFO, WARN, ERROR)"),
            P("startdate", T.DATE, f"the start date range of the list {_DATE_TEXT}"),
            P("enddate", T.DATE, f"the end date range of the list {_DATE_TEXT}"),
            P("entrytime", T.INTEGER, "with duration: events started this many seconds ago..."),
            P("duration", T.INTEGER, "...and not completed within this many seconds"),
            P("startid", T.UUID, "the start event: lists it and the events continuing it"),
            P("resourceid", T.STRING, "the ID of the resource the events are about"),
            P("resourcetype", T.STRING, "the type of the resource the events are about"),
            P("archived", T.BOOLEAN, "true to list archived events instead of the others"),
            P("account", T.STRING, "list events of this account (with domainid)"),
            P("domainid", T.UUID, "list only events of this domain", related=("listDomains",)),
            LISTALL,
            ISRECURSIVE,
            *paging.PARAMS,
        ),
        view.EVENT,
    ),
    registry.Command(
        "listEventTypes", list_event_types, "List Event Types", paging.PARAMS, view.EVENT_TYPE
    ),
    registry.Command(
        "archiveEvents",
        archive_events,
        "Archive one or more events.",
        _SELECTION,
        event="EVENT.ARCHIVE",
    ),
    registry.Command(
        "deleteEvents",
        delete_events,
        "Delete one or more events.",
        _SELECTION,
        event="EVENT.DELETE",
    ),
)
