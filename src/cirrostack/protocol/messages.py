"""The kinds of message: a Command the server sends, the Answer the agent returns, and the
Progress an agent reports about a long command before its answer.

Subclasses are frozen, keyword-only dataclasses whose fields are wire values (str, int, float,
bool, None, enums, tz-aware datetimes, lists, tuples and str-keyed dicts of those) or nested
message-free dataclasses (transfer objects), so the codec can carry them over any transport and
check them on the way in.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

#: The protocol version this code speaks; an agent refuses a command of any other version.
VERSION = 1
#: Every version this code can answer (only one so far).
SPOKEN: tuple[int, ...] = (VERSION,)


def new_id() -> str:
    """A fresh command id: random, so ids from several servers never collide."""
    return uuid.uuid4().hex


@dataclass(frozen=True, kw_only=True)
class Message:
    """Root of every protocol message; its class name is its type on the wire."""


@dataclass(frozen=True, kw_only=True)
class Command(Message):
    """A request to an agent.

    ``id`` names this one command (progress and cancel refer to it); ``version`` is the protocol
    version it is written in. ``wait`` is how long, in seconds, the server is prepared to wait
    for the answer (0: the transport's default), as in CloudStack's Command; cirrostack's
    transports read it as an inactivity limit (seconds without progress), not a wall clock.
    """

    id: str = field(default_factory=new_id)
    version: int = VERSION
    wait: int = 0


@dataclass(frozen=True, kw_only=True)
class Answer(Message):
    """An agent's reply: ``result`` False means the agent could not do what was asked, and
    ``details`` says why (CloudStack's Answer). A plain Answer is also what an agent returns
    for a command it failed, whatever answer type success would have had."""

    result: bool = True
    details: str = ""


@dataclass(frozen=True, kw_only=True)
class Progress(Message):
    """How far command ``command_id`` has got: ``done`` of ``total`` units (bytes for a copy;
    ``total`` 0 when unknown) in ``phase``. Any number may come before the answer; each one
    proves the agent is still working, which is what the server's inactivity timeout waits for.
    """

    command_id: str
    done: int
    total: int = 0
    phase: str = ""


@dataclass(frozen=True, kw_only=True)
class TransferObject:
    """Root of the transfer objects: plain data inside a message (a volume, a store, ...).

    On the wire one crosses tagged with its class name, ``{"NfsTO": {fields}}`` (CloudStack's
    GSON wrapper), so a field typed by a union of them (any store, any data object) is decoded
    as the class the sender meant, never the first that happens to fit.
    """
