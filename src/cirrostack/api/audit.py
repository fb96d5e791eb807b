"""The event row of an API action: written by the dispatcher (sync commands, job submission)
and by the job runner (a job's outcome), so both describe actions the same way."""

from __future__ import annotations

from cirrostack import events
from cirrostack.api import errors, registry


def record(
    call: registry.Call,
    failure: errors.ApiError | None,
    *,
    state: events.State = events.State.COMPLETED,
    start_id: int = 0,
) -> int | None:
    """Record ``call``'s action if its command declares an event type; the event id."""
    command = call.command
    if command.event is None or call.caller is None:
        return None
    kind, resource_id, label = call.acted_on or (None, None, "")
    subject = f" {label}" if label else ""
    if failure is not None:
        text, level = f"{command.name}{subject}: failed: {failure.text}", events.Level.ERROR
    elif state is events.State.SCHEDULED:
        text, level = f"{command.name}{subject}: scheduled", events.Level.INFO
    else:
        text, level = f"{command.name}{subject}: completed", events.Level.INFO
    return events.record(
        call.session,
        call.caller,
        command.event,
        text,
        state=state,
        level=level,
        resource_type=kind,
        resource_id=resource_id,
        start_id=start_id,
    )
