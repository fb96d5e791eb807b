"""Errors of the ``config`` package.

    ConfigError                       root (a cirrostack.errors.CloudError)
     ├── UnknownKey           431     no setting has that name
     ├── InvalidValue         431     a value is not of the key's type or outside its range
     ├── ScopeNotSupported    431     the key cannot be set at the requested scope
     ├── DuplicateKey                 two declarations share a name (raised at import)
     └── BadStoredValue       530     a value already in the database does not parse

The three 431 kinds are also ``cirrostack.errors.InvalidParameterValue``, which the API layer
maps to 431. ``BadStoredValue`` is deliberately not: a corrupt stored value is the operator's
problem, answered as an internal error and logged with its message; it is never replaced by the
default in silence.
"""

from __future__ import annotations

from cirrostack import errors


class ConfigError(errors.CloudError):
    """Root of every error the ``config`` package raises."""


class UnknownKey(ConfigError, errors.InvalidParameterValue):
    """Raised when a name is not a declared setting."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"Configuration parameter with name {name} doesn't exist")


class InvalidValue(ConfigError, errors.InvalidParameterValue):
    """Raised when a text is not a valid value of a key (type, range or choices)."""

    def __init__(self, name: str, text: str, expected: str) -> None:
        self.name = name
        self.text = text
        self.expected = expected
        super().__init__(
            f"Invalid value {text!r} for configuration parameter {name}: expected {expected}"
        )


class ScopeNotSupported(ConfigError, errors.InvalidParameterValue):
    """Raised when a key is set or listed at a scope it does not have."""

    def __init__(self, name: str, scope: str, supported: tuple[str, ...]) -> None:
        self.name = name
        self.scope = scope
        super().__init__(
            f"Configuration parameter {name} cannot be set for a {scope}; "
            f"it can be set at scope {', '.join(supported)}"
        )


class DuplicateKey(ConfigError):
    """Raised when two keys are declared with the same name."""

    def __init__(self, name: str) -> None:
        super().__init__(f"Configuration key {name} is declared twice")


class BadStoredValue(ConfigError):
    """Raised when a stored value cannot be read as its key's type."""

    def __init__(self, name: str, where: str, text: str, expected: str) -> None:
        self.name = name
        self.where = where
        self.text = text
        super().__init__(
            f"Stored value {text!r} of configuration parameter {name} ({where}) is not "
            f"{expected}; correct it with updateConfiguration"
        )
