"""Errors of the state machines and of the gate that persists their transitions.

    StateError
     ├── UnknownState    a stored value is not a state of the machine (corrupt or foreign row)
     ├── NoTransition    the machine has no transition for (state, event): the request is refused
     ├── StateConflict   the row changed after it was loaded: someone else won the race
     ├── HeldByAnotherJob the row is transitional for another live job (states.holds)
     └── NotBound        the object's model has no machine for that event (a programming error)

Messages are written for the API user: they name the resource, its state and what was asked.
The mapping to CloudStack error codes lives in ``cirrostack.api.errors`` only.
"""

from __future__ import annotations


class StateError(Exception):
    """Root of every error the ``states`` package raises."""


class UnknownState(StateError):
    """Raised when a stored state string is not one of the machine's states."""

    def __init__(self, machine: str, value: object) -> None:
        self.machine = machine
        self.value = value
        super().__init__(f"{value!r} is not a known {machine} state")


class NoTransition(StateError):
    """Raised when ``event`` is not allowed in ``state``; nothing was written.

    ``machine`` is the machine's name; ``resource`` labels the object (``Volume <uuid>``) when
    the gate raised it, and is None when the pure table lookup did.
    """

    def __init__(self, machine: str, state: str, event: str, resource: str | None = None) -> None:
        self.machine = machine
        self.state = state
        self.event = event
        self.resource = resource
        subject = resource if resource is not None else machine
        super().__init__(f"{subject} is {state}: {event} is not allowed in that state")


class StateConflict(StateError):
    """Raised when the compare-and-swap matched no row; nothing was written.

    The row no longer has ``expected_state`` and ``expected_count`` (its ``update_count``; None
    for a binding without a counter), or the caller's fence no longer held: another operation
    changed the resource after it was loaded. Reloading and deciding again may succeed.
    """

    def __init__(
        self, machine: str, resource: str, expected_state: str, expected_count: int | None
    ) -> None:
        self.machine = machine
        self.resource = resource
        self.expected_state = expected_state
        self.expected_count = expected_count
        super().__init__(
            f"{resource} was changed by another operation while this one ran "
            f"(it was {expected_state}); reload it and try again"
        )


class HeldByAnotherJob(StateError):
    """Raised when a job would move a row that another live job holds (``states.holds``); the
    caller's transaction must roll back."""

    def __init__(self, resource: str, job_id: int) -> None:
        self.resource = resource
        self.job_id = job_id
        super().__init__(f"{resource} is in use by job {job_id}; try again when it finishes")


class NotBound(StateError, LookupError):
    """Raised when no machine governs this kind of object for this kind of event."""

    def __init__(self, model: str, event_type: str) -> None:
        self.model = model
        self.event_type = event_type
        super().__init__(f"no state machine binds {model} to {event_type} events")
