"""What a setting is: its scope levels, its typed key, and the registry of every key.

A ``ConfigKey[T]`` is declared once (in ``config.keys``) and read through ``Settings``. Its type
(bool, int, float or str) decides how a stored text is parsed; bounds and choices are checked in
the same step, so a value that passes ``parse`` is one business code can use as it is.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from cirrostack.config import errors


class Scope(enum.StrEnum):
    """Where a value may be set; values are the ``scope`` strings CloudStack's API answers.

    Every key has GLOBAL; the others are overrides kept in the owner's ``*_details`` table.
    """

    GLOBAL = "global"
    ZONE = "zone"
    CLUSTER = "cluster"
    STORAGE_POOL = "storagepool"
    IMAGE_STORE = "imagestore"
    DOMAIN = "domain"
    ACCOUNT = "account"


#: The order a lookup tries the scopes in: the most specific first (CloudStack's ConfigDepot
#: walks StoragePool → Cluster → Zone → Global and Account → Domain → Global).
PRECEDENCE = (
    Scope.STORAGE_POOL,
    Scope.IMAGE_STORE,
    Scope.CLUSTER,
    Scope.ZONE,
    Scope.ACCOUNT,
    Scope.DOMAIN,
)

T = TypeVar("T", bool, int, float, str)

_INTEGER = re.compile(r"^[+-]?\d{1,19}$")
_TRUTH = {"true": True, "false": False}
#: The ``type`` listConfigurations answers (CloudStack's ``getConfigurationType``).
_TYPE_NAMES: dict[type, str] = {bool: "Boolean", int: "Number", float: "Decimal", str: "String"}
#: The value type of each ``type`` name (for keys described as data, e.g. the catalogue).
KINDS: dict[str, type] = {name: kind for kind, name in _TYPE_NAMES.items()}
#: Appended to the description of a key cirrostack keeps but does not act on (listConfigurations
#: shows it, docs/configuration-and-events.md states the rule).
STORED_ONLY_NOTE = "[cirrostack stores this setting and does not act on it]"
_EXPECTED: dict[type, str] = {
    bool: "true or false",
    int: "a whole number",
    float: "a decimal number",
    str: "a text",
}


def _parse_bool(text: str) -> bool | None:
    return _TRUTH.get(text.lower())


def _parse_int(text: str) -> int | None:
    return int(text) if _INTEGER.match(text) else None


def _parse_float(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


_PARSERS: dict[type, Callable[[str], Any]] = {
    bool: _parse_bool,
    int: _parse_int,
    float: _parse_float,
    str: lambda text: text,
}


@dataclass(frozen=True)
class ConfigKey(Generic[T]):
    """One setting: name, value type, default, where it may be set, and what it means.

    ``scopes`` lists the levels below GLOBAL that may override the value (GLOBAL is implied).
    ``minimum``/``maximum`` bound numbers (inclusive); ``choices`` restrict texts.
    ``is_dynamic`` False means a new value is read at the next start only. ``acted_on`` False
    marks a key cirrostack stores and lists (CloudStack's name, type, scope and default) but
    does not read anywhere: its listed description says so (``listed_description``).
    """

    name: str
    kind: type[T]
    default: T
    description: str
    category: str = "Advanced"
    component: str = "ManagementServer"
    scopes: tuple[Scope, ...] = ()
    is_dynamic: bool = True
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    acted_on: bool = True

    def __post_init__(self) -> None:
        if Scope.GLOBAL in self.scopes:
            raise ValueError(f"{self.name}: GLOBAL is implied, list only the narrower scopes")
        self.parse(self.default_text)  # a default the key itself refuses is a declaration bug

    @property
    def type_name(self) -> str:
        """``Boolean``, ``Number``, ``Decimal`` or ``String``."""
        return _TYPE_NAMES[self.kind]

    @property
    def default_text(self) -> str:
        """The default as stored in ``configuration.default_value``."""
        return _text(self.default)

    @property
    def listed_description(self) -> str:
        """The description as stored and listed: a stored-only key says that it is one."""
        if self.acted_on:
            return self.description
        return f"{self.description} {STORED_ONLY_NOTE}"

    def supports(self, scope: Scope) -> bool:
        return scope is Scope.GLOBAL or scope in self.scopes

    def scope_names(self) -> tuple[str, ...]:
        """Every scope the key may be set at, GLOBAL first."""
        return (Scope.GLOBAL.value, *(scope.value for scope in self.scopes))

    def parse(self, text: str) -> T:
        """The typed value of ``text`` (surrounding blanks ignored).

        Raises InvalidValue naming the key and what was expected.
        """
        stripped = text.strip()
        value = _PARSERS[self.kind](stripped)
        if value is None:
            raise errors.InvalidValue(self.name, text, self.expected)
        self._check_range(text, value)
        return cast(T, value)

    @property
    def expected(self) -> str:
        """What a valid value looks like, for messages: ``a decimal number from 0 to 1``."""
        if self.choices:
            return "one of " + ", ".join(self.choices)
        words = _EXPECTED[self.kind]
        if self.minimum is not None and self.maximum is not None:
            return f"{words} from {_text(self.minimum)} to {_text(self.maximum)}"
        if self.minimum is not None:
            return f"{words} of at least {_text(self.minimum)}"
        if self.maximum is not None:
            return f"{words} of at most {_text(self.maximum)}"
        return words

    def _check_range(self, text: str, value: Any) -> None:
        if self.choices and value not in self.choices:
            raise errors.InvalidValue(self.name, text, self.expected)
        if self.kind in (int, float):
            too_low = self.minimum is not None and value < self.minimum
            too_high = self.maximum is not None and value > self.maximum
            if too_low or too_high:
                raise errors.InvalidValue(self.name, text, self.expected)


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Registry:
    """Every declared key by name, in name order; a duplicate name raises DuplicateKey."""

    def __init__(self, keys: Iterable[ConfigKey[Any]]) -> None:
        self._keys: dict[str, ConfigKey[Any]] = {}
        for key in keys:
            if key.name in self._keys:
                raise errors.DuplicateKey(key.name)
            self._keys[key.name] = key

    def get(self, name: str) -> ConfigKey[Any] | None:
        return self._keys.get(name)

    def require(self, name: str) -> ConfigKey[Any]:
        """The key called ``name``; raises UnknownKey if there is none."""
        key = self._keys.get(name)
        if key is None:
            raise errors.UnknownKey(name)
        return key

    def supporting(self, scope: Scope) -> list[ConfigKey[Any]]:
        """Keys that may be set at ``scope``, in name order."""
        return [key for key in self if key.supports(scope)]

    def __iter__(self) -> Iterator[ConfigKey[Any]]:
        return iter(sorted(self._keys.values(), key=lambda key: key.name))

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, name: object) -> bool:
        return name in self._keys
