"""Row helpers every level shares: finding live rows, allocation states, soft deletion."""

from __future__ import annotations

import datetime
import enum
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.db import base

E = TypeVar("E", bound=base.Entity)

#: The width of the ``name`` columns of zones, pods, clusters and hosts.
NAME_LENGTH = 255


class AllocationState(enum.StrEnum):
    """``allocation_state`` of a zone, pod or cluster: whether new work may be placed there."""

    Enabled = "Enabled"
    Disabled = "Disabled"


def allocation_state(text: str, parameter: str = "allocationstate") -> AllocationState:
    """Parse ``Enabled``/``Disabled`` (any case); raises InvalidParameterValue otherwise."""
    for state in AllocationState:
        if state.value.lower() == text.strip().lower():
            return state
    raise errors.InvalidParameterValue(
        f"Invalid {parameter} {text}: it must be Enabled or Disabled"
    )


def live_by_uuid(session: Session, model: type[E], uuid: str, kind: str, parameter: str) -> E:
    """The live (not removed) ``model`` row with ``uuid``; InvalidParameterValue if none."""
    found = session.scalars(
        sa.select(model).where(model.uuid == uuid, model.removed.is_(None))
    ).first()
    if found is None:
        raise errors.InvalidParameterValue(f"Unable to find {kind} by {parameter} {uuid}")
    return found


def require_name(name: str, kind: str) -> str:
    """``name`` stripped; InvalidParameterValue if it is blank."""
    stripped = name.strip()
    if not stripped:
        raise errors.InvalidParameterValue(f"The {kind} name cannot be blank")
    return stripped


def count_live(session: Session, model: type[Any], *conditions: sa.ColumnElement[bool]) -> int:
    """How many live rows of ``model`` match ``conditions``."""
    return int(
        session.scalar(
            sa.select(sa.func.count())
            .select_from(model)
            .where(model.removed.is_(None), *conditions)
        )
        or 0
    )


def names_of_live(
    session: Session, model: type[Any], *conditions: sa.ColumnElement[bool], limit: int = 5
) -> list[str]:
    """Up to ``limit`` names of live ``model`` rows matching ``conditions``, for messages."""
    return list(
        session.scalars(
            sa.select(model.name)
            .where(model.removed.is_(None), *conditions)
            .order_by(model.id)
            .limit(limit)
        )
    )


def retire(row: Any, now: datetime.datetime) -> None:
    """Soft-delete ``row`` and free its name for a new row.

    Pods and clusters have a unique name per parent that covers removed rows too, so a removed
    row's name gets the suffix ``-removed-<id>`` (cut to fit the column); otherwise a deleted
    pod could never be created again under its name.
    """
    suffix = f"-removed-{row.id}"
    row.name = row.name[: NAME_LENGTH - len(suffix)] + suffix
    row.removed = now
