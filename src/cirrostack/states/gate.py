"""The gate: the only code that writes a state column.

Called by services and jobs whenever a resource changes state, inside the caller's transaction
(the gate never commits). One call is one compare-and-swap::

    UPDATE <table> SET <state>=:new, update_count=update_count+1, <updated>=:now [, more]
     WHERE id=:id AND <state>=:old AND update_count=:count [AND <guards>] [AND <fence>]

What it guarantees:

- the new state is the one the machine's table gives for (loaded state, event), or nothing is
  written and NoTransition is raised;
- the row is changed only if it still holds what the caller loaded (state, counter, guards),
  and the fence, if any, holds; otherwise nothing is written and StateConflict is raised. Of
  two writers racing from the same loaded state exactly one wins, on every backend: the loser's
  UPDATE waits for the winner's row lock (PostgreSQL, MariaDB) or write lock (SQLite, which
  begins IMMEDIATE), then matches no row;
- with the row, one ``event`` row is inserted in the same transaction (unless the state did not
  change: a self-transition such as a host's ping bumps the counter but records no event);
- the object's attributes are set to what was written, without reading the row back;
- a row entering a transitional state for the job acting in the session is recorded as held by
  that job, and a row leaving one is released (``states.holds``), in the same transaction.

``fence`` is room for the job engine: an extra SQL condition (such as "this job still holds
attempt N") ANDed into the WHERE clause, so a job that lost its lease cannot write.
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.orm import Session, attributes

from cirrostack import events
from cirrostack.db import base
from cirrostack.states import bindings, errors, holds

ActorLike = events.ActorLike


@dataclass(frozen=True)
class Actor:
    """The ids recorded in the ``event`` row, for callers without a Caller (jobs, the reaper)."""

    user_id: int
    account_id: int
    domain_id: int


#: CloudStack's seeded system user and account (id 1) in the ROOT domain (id 1): the actor of a
#: transition nobody asked for (agent reports, the reaper).
SYSTEM = Actor(user_id=1, account_id=1, domain_id=1)


def transition(
    session: Session,
    resource: object,
    event: enum.StrEnum,
    *,
    actor: ActorLike | None = None,
    description: str | None = None,
    values: Mapping[str, object] | None = None,
    fence: sa.ColumnElement[bool] | None = None,
) -> enum.StrEnum:
    """Move ``resource`` by ``event`` and return its new state.

    ``resource`` is a persistent object of a bound model in ``session``; the event's type picks
    the machine (a host has two). ``values`` sets further columns in the same UPDATE (a VM's
    ``host_id`` on StartRequested); ``description`` is appended to the event text; ``actor``
    defaults to SYSTEM. Pending changes in the session are flushed first, as any query would.

    Raises NoTransition (nothing written), StateConflict (nothing written; reload and decide
    again), NotBound or UnknownState. Never commits.
    """
    binding = bindings.lookup(type(resource), type(event))
    _require_gate_owned(session, resource, binding)
    session.flush()
    label = binding.label(resource)
    old = binding.machine.parse(getattr(resource, binding.state))
    new = _next(binding, label, old, event)
    count: int | None = getattr(resource, binding.counter) if binding.counter else None
    written = _written(session, binding, new, values)
    statement = (
        sa.update(binding.model)
        .where(*_conditions(binding, resource, old, count, fence))
        .values(_assignments(binding, written))
        .execution_options(synchronize_session=False)
    )
    result = session.execute(statement)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise errors.StateConflict(binding.machine.name, label, str(old), count)
    if new != old:
        _record(session, binding, resource, label, old, event, new, actor, description)
        holds.moved(session, binding, resource, old, new)
    _refresh(session, binding, resource, written, count)
    return new


def _require_gate_owned(
    session: Session, resource: object, binding: bindings.Binding[Any, Any]
) -> None:
    state = sa.inspect(resource)
    if state.session is not session:
        raise ValueError(f"{binding.label(resource)} does not belong to this session")
    if state.persistent and state.attrs[binding.state].history.has_changes():
        raise ValueError(
            f"{binding.label(resource)}: {binding.state} was assigned directly; "
            "only states.gate.transition() changes it"
        )


def _next(
    binding: bindings.Binding[Any, Any], label: str, old: enum.StrEnum, event: enum.StrEnum
) -> enum.StrEnum:
    try:
        new: enum.StrEnum = binding.machine.next(old, event)
    except errors.NoTransition as exc:
        raise errors.NoTransition(exc.machine, exc.state, exc.event, label) from None
    return new


def _written(
    session: Session,
    binding: bindings.Binding[Any, Any],
    new: enum.StrEnum,
    values: Mapping[str, object] | None,
) -> dict[str, object]:
    """Every attribute the UPDATE sets to a known value (the counter is added apart)."""
    reserved = {binding.state, binding.counter, binding.updated}
    columns = sa.inspect(binding.model).column_attrs.keys()
    for name in values or {}:
        if name in reserved or name not in columns:
            raise ValueError(f"{binding.resource_type}: {name!r} cannot be set by a transition")
    written: dict[str, object] = {binding.state: new.value}
    if binding.updated is not None:
        written[binding.updated] = _now(session, binding)
    written.update(binding.on_enter.get(new, {}))
    written.update(values or {})
    return written


def _conditions(
    binding: bindings.Binding[Any, Any],
    resource: Any,
    old: enum.StrEnum,
    count: int | None,
    fence: sa.ColumnElement[bool] | None,
) -> list[sa.ColumnElement[bool]]:
    model = binding.model
    conditions = [model.id == resource.id, getattr(model, binding.state) == old.value]
    if binding.counter is not None:
        conditions.append(getattr(model, binding.counter) == count)
    for guard in binding.guards:
        # NULL-safe: "host_id = NULL" matches nothing, "IS NULL" is what is meant.
        conditions.append(
            getattr(model, guard).is_(None)
            if getattr(resource, guard) is None
            else getattr(model, guard) == getattr(resource, guard)
        )
    if fence is not None:
        conditions.append(fence)
    return conditions


def _assignments(
    binding: bindings.Binding[Any, Any], written: Mapping[str, object]
) -> dict[str, object]:
    assignments = dict(written)
    if binding.counter is not None:
        assignments[binding.counter] = getattr(binding.model, binding.counter) + 1
    return assignments


def _record(
    session: Session,
    binding: bindings.Binding[Any, Any],
    resource: Any,
    label: str,
    old: enum.StrEnum,
    event: enum.StrEnum,
    new: enum.StrEnum,
    actor: ActorLike | None,
    description: str | None,
) -> None:
    who = actor if actor is not None else SYSTEM
    text = f"{label} {old} -[{event}]-> {new}"
    if description:
        text = f"{text}: {description}"
    events.record(
        session,
        who,
        binding.event_type,
        text,
        resource_type=binding.resource_type,
        resource_id=resource.id,
    )


def _refresh(
    session: Session,
    binding: bindings.Binding[Any, Any],
    resource: object,
    written: Mapping[str, object],
    count: int | None,
) -> None:
    """Make the object show what the UPDATE wrote, as if it had been loaded that way."""
    for name, value in written.items():
        if isinstance(value, sa.ClauseElement):
            session.expire(resource, [name])  # a SQL expression: its value is the database's
        else:
            attributes.set_committed_value(resource, name, value)
    if binding.counter is not None and count is not None:
        attributes.set_committed_value(resource, binding.counter, count + 1)


def _now(session: Session, binding: bindings.Binding[Any, Any]) -> datetime.datetime:
    # MariaDB's DATETIME keeps whole seconds (MySQL would round, MariaDB truncates); writing
    # whole seconds there keeps the object equal to the row without reading it back.
    now = base.utcnow()
    dialect = session.get_bind(mapper=orm.class_mapper(binding.model)).dialect.name
    if dialect in ("mysql", "mariadb"):
        now = now.replace(microsecond=0)
    return now
