"""What a command returns, and how each kind is put into CloudStack's envelope.

A command returns one of the frozen reply types below; ``envelope`` turns it into the single-key
JSON object every client expects (``{"<command>response": ...}``). Shapes (API reference 2.2):
an empty list is ``{}``; a list is ``{"count": total, "<object>": [...]}``; a page past the end
is ``{"count": total}``; a delete is ``{"success": true}``.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Item = Mapping[str, Any]


@dataclass(frozen=True)
class Single:
    """One object under its name: ``{"account": {...}}``."""

    name: str
    item: Item


@dataclass(frozen=True)
class Listing:
    """One page of a list; ``count`` is the total over all pages."""

    name: str
    items: Sequence[Item]
    count: int


@dataclass(frozen=True)
class Success:
    """``{"success": true}`` with an optional ``displaytext``."""

    displaytext: str | None = None


@dataclass(frozen=True)
class Fields:
    """Fields directly under the response key (login, queryAsyncJobResult)."""

    fields: Item = field(default_factory=dict)


Reply = Single | Listing | Success | Fields


def content(reply: Reply) -> dict[str, Any]:
    """The object under the response key for ``reply``."""
    if isinstance(reply, Single):
        return {reply.name: dict(reply.item)}
    if isinstance(reply, Listing):
        return _listing(reply)
    if isinstance(reply, Success):
        result: dict[str, Any] = {"success": True}
        if reply.displaytext is not None:
            result["displaytext"] = reply.displaytext
        return result
    return dict(reply.fields)


def _listing(reply: Listing) -> dict[str, Any]:
    if reply.count == 0 and not reply.items:
        return {}
    if not reply.items:
        return {"count": reply.count}
    return {"count": reply.count, reply.name: [dict(item) for item in reply.items]}


def envelope(key: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """The whole JSON answer: one key, ``<command>response``."""
    return {key: dict(body)}


def date(value: datetime.datetime | None) -> str | None:
    """A timestamp as CloudStack writes it: ``2024-05-01T12:34:56+0000`` (stored times are UTC)."""
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%S+0000")


def compact(item: Mapping[str, Any]) -> dict[str, Any]:
    """Drop None values: CloudStack (Gson) omits null fields rather than sending null."""
    return {key: value for key, value in item.items() if value is not None}
