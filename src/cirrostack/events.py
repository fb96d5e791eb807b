"""The event log: a row in ``event`` for every API action and every state transition.

Called by the dispatcher (after a command's work, in the same transaction, so an action that
rolls back leaves no event) and by the state gate. listEvents reads these rows.
"""

from __future__ import annotations

import enum
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

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
