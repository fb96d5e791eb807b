"""The two kinds of message: a Command the server sends, the Answer the agent returns.

Subclasses are frozen, keyword-only dataclasses whose fields are JSON values (str, int, float,
bool, None, lists and str-keyed dicts of those) or nested message-free dataclasses, so the
codec can carry them over any transport and check them on the way in.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Message:
    """Root of every protocol message; its class name is its type on the wire."""


@dataclass(frozen=True, kw_only=True)
class Command(Message):
    """A request to an agent.

    ``wait`` is how long, in seconds, the server is prepared to wait for the answer (0: the
    transport's default), as in CloudStack's Command.
    """

    wait: int = 0


@dataclass(frozen=True, kw_only=True)
class Answer(Message):
    """An agent's reply: ``result`` False means the agent could not do what was asked, and
    ``details`` says why (CloudStack's Answer). A plain Answer is also what an agent returns
    for a command it failed, whatever answer type success would have had."""

    result: bool = True
    details: str = ""
