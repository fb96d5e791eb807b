"""Parameters: how a command declares them and how raw request values become typed values.

Called by the dispatcher after authentication, before any command code runs, so a command only
ever sees values of the declared type. Rules (CloudStack's, see the API reference section 1.3):

- names are case-insensitive; unknown parameters are ignored; a blank value counts as absent;
- map parameters arrive as ``name[0].key=value`` and become ``{0: {"key": "value"}}``;
- lists are comma-separated; booleans are true iff the text is ``true`` in any case;
- any value with an ASCII control character, or longer than its declared length, is refused.

Every failure raises ``ApiError`` 431 (430 for a malformed map name) naming the parameter.
"""

from __future__ import annotations

import datetime
import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cirrostack.api import errors


class ParamType(enum.StrEnum):
    """The ``type`` listApis reports for a parameter."""

    STRING = "string"
    UUID = "uuid"
    LONG = "long"
    INTEGER = "integer"
    SHORT = "short"
    BOOLEAN = "boolean"
    DATE = "date"
    LIST = "list"
    MAP = "map"


@dataclass(frozen=True)
class Param:
    """One declared parameter of a command."""

    name: str
    type: ParamType = ParamType.STRING
    description: str = ""
    required: bool = False
    length: int = 255
    #: Commands whose results this parameter takes (listApis ``related``), e.g. "listDomains".
    related: tuple[str, ...] = ()
    #: For LIST parameters: the type of each element.
    item_type: ParamType = ParamType.STRING


_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MAP_KEY = re.compile(r"^([^\[\]]+)\[(\d{1,10})\]\.([^\[\]]+)$")
#: CloudStack parses a map index as a Java int.
_MAX_MAP_INDEX = 2**31 - 1
_RANGES = {
    ParamType.SHORT: (-(2**15), 2**15 - 1),
    ParamType.INTEGER: (-(2**31), 2**31 - 1),
    ParamType.LONG: (-(2**63), 2**63 - 1),
}
_INTEGER_TEXT = re.compile(r"^[+-]?\d{1,20}$")
_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d")

MapValue = dict[int, dict[str, str]]


def collect(pairs: Sequence[tuple[str, str]]) -> tuple[dict[str, str], dict[str, MapValue]]:
    """Split raw request pairs into plain values and map values, by lower-cased name.

    The first occurrence of a name wins, as in CloudStack's signature check.
    """
    plain: dict[str, str] = {}
    maps: dict[str, MapValue] = {}
    for name, value in pairs:
        if "[" in name or "]" in name:
            _add_map_entry(maps, name, value)
        else:
            plain.setdefault(name.lower(), value)
    return plain, maps


def _add_map_entry(maps: dict[str, MapValue], name: str, value: str) -> None:
    match = _MAP_KEY.match(name)
    if match is None or int(match.group(2)) > _MAX_MAP_INDEX:
        raise errors.ApiError(
            errors.ErrorCode.MALFORMED_PARAMETER_ERROR,
            f"Malformed map parameter {name}: expected name[index].key with one index "
            "between 0 and 2147483647",
            errors.CsErrorCode.INVALID_PARAMETER_VALUE,
        )
    base, index, key = match.group(1).lower(), int(match.group(2)), match.group(3)
    maps.setdefault(base, {}).setdefault(index, {}).setdefault(key, value)


def parse_all(
    command: str,
    declared: Sequence[Param],
    plain: Mapping[str, str],
    maps: Mapping[str, MapValue],
) -> dict[str, Any]:
    """Typed values of the declared parameters that were given; raises 431 on any bad one."""
    _refuse_control_characters(plain, maps)
    values: dict[str, Any] = {}
    for param in declared:
        key = param.name.lower()
        if param.type is ParamType.MAP:
            if maps.get(key):
                values[param.name] = _checked_map(param, maps[key])
            elif plain.get(key):
                raise errors.param_error(
                    f"Parameter {param.name} must be a map: {key}[0].name=value"
                )
        elif plain.get(key, "") != "":
            values[param.name] = parse_value(command, param, plain[key])
        if param.required and param.name not in values:
            raise errors.param_error(
                f"Unable to execute API command {command.lower()} "
                f"due to missing parameter {param.name}"
            )
    return values


def _refuse_control_characters(plain: Mapping[str, str], maps: Mapping[str, MapValue]) -> None:
    texts = list(plain.items()) + [
        (name, value)
        for name, entries in maps.items()
        for entry in entries.values()
        for value in entry.values()
    ]
    for name, value in texts:
        if _CONTROL.search(value):
            raise errors.param_error(
                "Received value containing illegal ASCII non-printable characters "
                f"for parameter {name}"
            )


def _checked_map(param: Param, value: MapValue) -> MapValue:
    for entry in value.values():
        for key, text in entry.items():
            if len(key) > param.length or len(text) > param.length:
                raise errors.param_error(
                    f"Value of parameter {param.name} is longer than {param.length} characters"
                )
    return value


def parse_value(command: str, param: Param, text: str) -> Any:
    """Convert one raw value to the parameter's type; raises 431 naming the parameter."""
    if len(text) > param.length and param.type is not ParamType.LIST:
        raise errors.param_error(
            f"Value of parameter {param.name} is longer than {param.length} characters"
        )
    if param.type is ParamType.LIST:
        return [
            _scalar(command, param, param.item_type, item.strip())
            for item in text.split(",")
            if item.strip()
        ]
    return _scalar(command, param, param.type, text)


def _scalar(command: str, param: Param, kind: ParamType, text: str) -> Any:
    if kind is ParamType.BOOLEAN:
        return text.lower() == "true"
    if kind in _RANGES:
        return _integer(command, param, kind, text)
    if kind is ParamType.UUID:
        return _uuid(param, text)
    if kind is ParamType.DATE:
        return _date(param, text)
    return text


def _integer(command: str, param: Param, kind: ParamType, text: str) -> int:
    low, high = _RANGES[kind]
    if _INTEGER_TEXT.match(text) is None or not low <= int(text) <= high:
        raise errors.param_error(
            f"Unable to execute API command {command.lower()} due to invalid value "
            f"{text} for parameter {param.name}"
        )
    return int(text)


def _uuid(param: Param, text: str) -> str:
    if _UUID.match(text) is None:
        raise errors.param_error(
            f"Invalid parameter {param.name} value={text} due to incorrect long value format, "
            "or entity does not exist or due to incorrect parameter annotation for the field "
            "in api cmd class."
        )
    return text.lower()


def _date(param: Param, text: str) -> datetime.datetime:
    for layout in _DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, layout)
        except ValueError:
            continue
    raise errors.param_error(
        f"Unable to parse date {text} for parameter {param.name}, "
        "format yyyy-MM-dd or yyyy-MM-dd HH:mm:ss"
    )
