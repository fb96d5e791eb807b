"""Messages as JSON: ``{"type": "<class name>", "body": {<fields>}}``.

Called by every transport, on both sides, at the boundary: ``encode`` before a message leaves,
``decode`` when one arrives. Decoding trusts nothing: the type must be one of ``KNOWN``, every
field without a default must be present, no unknown field may be, and each value must have its
field's declared type (ints are not bools, floats accept ints, nested dataclasses are rebuilt).
Anything else raises MalformedMessage, never a TypeError or KeyError.

Beyond JSON's own values: an enum crosses as its value, a tuple as a list (rebuilt as a tuple,
``tuple[X, ...]`` or fixed-length), a datetime as ISO 8601 text with its UTC offset (a naive
datetime is refused both ways: the two sides need not share a time zone), a nested dataclass
as an object of its fields, and a transfer object (``messages.TransferObject``) as that object
wrapped in one key, its class name: ``{"NfsTO": {...}}``. A transfer-object field accepts only
the classes its type names (one, or a union), chosen by that tag.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
import types
import typing
from collections.abc import Mapping
from typing import Any

from cirrostack.protocol import answers, commands, compute, errors, messages, storage

#: Every message type a transport may carry, by its wire name.
KNOWN: Mapping[str, type[messages.Message]] = {
    kind.__name__: kind
    for kind in (
        *commands.ALL,
        *storage.COMMANDS,
        *compute.COMMANDS,
        messages.Answer,
        *answers.ALL,
        *storage.ANSWERS,
        *compute.ANSWERS,
        messages.Progress,
    )
}


def encode(message: messages.Message, known: Mapping[str, type[messages.Message]] = KNOWN) -> str:
    """The JSON text of ``message`` (one of ``known``: the protocol's types unless a test
    brings its own)."""
    if known.get(type(message).__name__) is not type(message):
        raise errors.MalformedMessage(f"{type(message).__name__} is not a protocol message")
    body = _plain(message, type(message).__name__)
    try:
        return json.dumps({"type": type(message).__name__, "body": body}, allow_nan=False)
    except ValueError as exc:
        raise errors.MalformedMessage(f"{type(message).__name__}: {exc}") from None


def _plain(value: object, where: str) -> object:
    """``value`` as JSON values (see the module docstring for the mapping)."""
    if isinstance(value, messages.TransferObject):
        return {type(value).__name__: _fields(value, where)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _fields(value, where)
    if isinstance(value, enum.Enum):
        return _plain(value.value, where)
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            raise errors.MalformedMessage(f"{where}: a naive datetime cannot cross the wire")
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(item, f"{where}[]") for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item, f"{where}.{key}") for key, item in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise errors.MalformedMessage(f"{where}: {type(value).__name__} cannot cross the wire")


def _fields(value: Any, where: str) -> dict[str, object]:
    return {
        field.name: _plain(getattr(value, field.name), f"{where}.{field.name}")
        for field in dataclasses.fields(value)
    }


def decode(
    text: str | bytes, known: Mapping[str, type[messages.Message]] = KNOWN
) -> messages.Message:
    """The message ``text`` encodes; raises MalformedMessage if it is not a valid one of
    ``known``."""
    try:
        envelope = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise errors.MalformedMessage(f"not JSON: {exc}") from None
    if not isinstance(envelope, dict) or set(envelope) != {"type", "body"}:
        raise errors.MalformedMessage('expected {"type": ..., "body": {...}}')
    kind = known.get(envelope["type"]) if isinstance(envelope["type"], str) else None
    if kind is None:
        raise errors.MalformedMessage(f"unknown message type {envelope['type']!r}")
    built = _dataclass(kind, envelope["body"], kind.__name__)
    assert isinstance(built, messages.Message)
    return built


def _dataclass(kind: type[Any], body: object, where: str) -> object:
    if not isinstance(body, dict):
        raise errors.MalformedMessage(f"{where}: expected an object")
    fields = {field.name: field for field in dataclasses.fields(kind)}
    unknown = set(body) - set(fields)
    if unknown:
        raise errors.MalformedMessage(f"{where}: unknown fields {sorted(unknown)}")
    hints = typing.get_type_hints(kind)
    values = {}
    for name, field in fields.items():
        if name in body:
            values[name] = _value(body[name], hints[name], f"{where}.{name}")
        elif _required(field):
            raise errors.MalformedMessage(f"{where}: missing field {name}")
    return kind(**values)


def _required(field: dataclasses.Field[Any]) -> bool:
    return field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING


def _value(value: object, hint: Any, where: str) -> object:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    tagged = _transfer_objects(hint)
    if tagged:
        if value is None and type(None) in args:
            return None
        return _tagged(value, tagged, where)
    if origin in (types.UnionType, typing.Union):
        return _union(value, args, where)
    if origin is list:
        return [_value(item, args[0], f"{where}[]") for item in _typed(value, list, where)]
    if origin is tuple:
        return _tuple(_typed(value, list, where), args, where)
    if origin is dict:
        items = _typed(value, dict, where).items()
        return {_key(key, where): _value(item, args[1], f"{where}.{key}") for key, item in items}
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _dataclass(hint, value, where)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        try:
            return hint(value)
        except ValueError:
            raise errors.MalformedMessage(f"{where}: {value!r} is not a {hint.__name__}") from None
    if hint is datetime.datetime:
        return _datetime(value, where)
    return _scalar(value, hint, where)


def _transfer_objects(hint: Any) -> dict[str, type[Any]]:
    """The transfer-object classes ``hint`` names (itself, or the members of a union other
    than None), by class name; empty when it names none."""
    union = typing.get_origin(hint) in (types.UnionType, typing.Union)
    options = typing.get_args(hint) if union else (hint,)
    return {
        option.__name__: option
        for option in options
        if isinstance(option, type) and issubclass(option, messages.TransferObject)
    }


def _tagged(value: object, tagged: dict[str, type[Any]], where: str) -> object:
    if not isinstance(value, dict) or len(value) != 1:
        raise errors.MalformedMessage(f"{where}: expected {{<transfer object>: {{...}}}}")
    ((name, body),) = value.items()
    kind = tagged.get(name)
    if kind is None:
        raise errors.MalformedMessage(
            f"{where}: {name!r} is not one of {', '.join(sorted(tagged))}"
        )
    return _dataclass(kind, body, f"{where}<{name}>")


def _tuple(items: list[object], args: tuple[Any, ...], where: str) -> tuple[object, ...]:
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(_value(item, args[0], f"{where}[]") for item in items)
    if len(items) != len(args):
        raise errors.MalformedMessage(f"{where}: expected {len(args)} items, got {len(items)}")
    return tuple(
        _value(item, arg, f"{where}[{i}]")
        for i, (item, arg) in enumerate(zip(items, args, strict=True))
    )


def _datetime(value: object, where: str) -> datetime.datetime:
    text = _typed(value, str, where)
    try:
        parsed = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise errors.MalformedMessage(f"{where}: {text!r} is not an ISO 8601 datetime") from None
    if parsed.tzinfo is None:
        raise errors.MalformedMessage(f"{where}: {text!r} has no UTC offset")
    return parsed


def _union(value: object, args: tuple[Any, ...], where: str) -> object:
    for option in args:
        try:
            return _value(value, option, where)
        except errors.MalformedMessage:
            continue
    raise errors.MalformedMessage(f"{where}: {value!r} matches none of {args}")


def _scalar(value: object, hint: Any, where: str) -> object:
    if hint is type(None):
        if value is None:
            return None
    elif hint is bool:
        return _typed(value, bool, where)
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif hint is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif hint is str:
        return _typed(value, str, where)
    else:
        raise errors.MalformedMessage(f"{where}: field type {hint!r} cannot cross the wire")
    raise errors.MalformedMessage(f"{where}: expected {getattr(hint, '__name__', hint)}")


def _typed(value: object, kind: type[Any], where: str) -> Any:
    if not isinstance(value, kind):
        raise errors.MalformedMessage(f"{where}: expected {kind.__name__}")
    return value


def _key(key: object, where: str) -> str:
    return str(_typed(key, str, where))
