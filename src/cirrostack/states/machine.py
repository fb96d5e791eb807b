"""A state machine as data: a table (state, event) -> state and what is known about its states.

The tables themselves live in ``cirrostack.states.machines``; this module holds the one type
they share and the checks every table passes when it is built (at import), so that a table
naming a foreign state or leaving a state unexplained cannot load.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Generic, TypeVar

from cirrostack.states import errors

S = TypeVar("S", bound=enum.StrEnum)
E = TypeVar("E", bound=enum.StrEnum)


@dataclass(frozen=True, eq=False)
class Machine(Generic[S, E]):
    """One resource's state machine.

    ``transitions`` maps (state, event) to the next state. ``initial`` is the state a new row is
    inserted in; ``entry`` lists the other states a row may be inserted in (an upload volume
    starts NotUploaded). ``transitional`` are the states that mean "an operation is running":
    a row left there by a dead owner must be rolled back or forward. ``unreachable`` names every
    state that neither an entry state nor a transition leads to, with the reason it exists.
    ``usage`` are the transitions CloudStack flags as usage-impacting.
    """

    name: str
    states: type[S]
    events: type[E]
    transitions: Mapping[tuple[S, E], S]
    initial: S
    transitional: frozenset[S]
    entry: frozenset[S] = frozenset()
    unreachable: Mapping[S, str] = field(default_factory=dict)
    usage: frozenset[tuple[S, E]] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "transitions", MappingProxyType(dict(self.transitions)))
        object.__setattr__(self, "unreachable", MappingProxyType(dict(self.unreachable)))
        object.__setattr__(self, "entry", frozenset(self.entry) | {self.initial})
        _check(self)

    @property
    def stable(self) -> frozenset[S]:
        """The states that are not transitional: a row may rest there indefinitely."""
        return frozenset(self.states) - self.transitional

    def next(self, state: S, event: E) -> S:
        """The state ``event`` leads to from ``state``.

        Raises NoTransition when the table has no such transition; never returns None.
        """
        try:
            return self.transitions[(state, event)]
        except KeyError:
            raise errors.NoTransition(self.name, str(state), str(event)) from None

    def allows(self, state: S, event: E) -> bool:
        """True when ``event`` has a transition from ``state`` (a check before filing a job)."""
        return (state, event) in self.transitions

    def events_from(self, state: S) -> frozenset[E]:
        """Every event that has a transition from ``state``."""
        return frozenset(event for (source, event) in self.transitions if source == state)

    def parse(self, value: str) -> S:
        """The state whose wire string is ``value``; raises UnknownState for anything else."""
        try:
            return self.states(value)
        except ValueError:
            raise errors.UnknownState(self.name, value) from None

    def reachable(self) -> frozenset[S]:
        """The states reachable from the entry states by following transitions."""
        seen = set(self.entry)
        frontier = list(self.entry)
        while frontier:
            state = frontier.pop()
            for (source, _event), target in self.transitions.items():
                if source == state and target not in seen:
                    seen.add(target)
                    frontier.append(target)
        return frozenset(seen)


def table(rows: Iterable[tuple[S, E | Iterable[E], S]]) -> dict[tuple[S, E], S]:
    """Build a transition table from (from, event or events, to) rows; a repeated key is an error.

    Several events on one row stand for CloudStack's "OperationSucceeded / OperationFailed"
    lines that lead to the same state.
    """
    result: dict[tuple[S, E], S] = {}
    for source, events, target in rows:
        for event in _as_events(events):
            if (source, event) in result:
                raise ValueError(f"transition ({source}, {event}) is listed twice")
            result[(source, event)] = target
    return result


def _as_events(events: E | Iterable[E]) -> tuple[E, ...]:
    if isinstance(events, enum.Enum):
        return (events,)
    return tuple(events)


def _check(machine: Machine[S, E]) -> None:
    states = frozenset(machine.states)
    for (source, event), target in machine.transitions.items():
        if source not in states or target not in states or event not in frozenset(machine.events):
            raise ValueError(f"{machine.name}: ({source}, {event}) -> {target} is foreign")
    _require_subset(machine.name, "transitional", machine.transitional, states)
    _require_subset(machine.name, "entry", machine.entry, states)
    _require_subset(machine.name, "usage", frozenset(machine.usage), machine.transitions.keys())
    reachable = machine.reachable()
    unexplained = states - reachable - machine.unreachable.keys()
    if unexplained:
        raise ValueError(f"{machine.name}: states neither reachable nor explained: {unexplained}")
    wrongly_listed = reachable & machine.unreachable.keys()
    if wrongly_listed:
        raise ValueError(f"{machine.name}: listed as unreachable but reachable: {wrongly_listed}")


def _require_subset(name: str, what: str, part: Iterable[object], whole: Iterable[object]) -> None:
    extra = set(part) - set(whole)
    if extra:
        raise ValueError(f"{name}: {what} names unknown members {extra}")
