"""CloudStack's catalogue of settings: every key listConfigurations shows, acted on or not.

``catalogue.json`` (shipped in this package) holds the keys of CloudStack's ``Config.java`` and
of the ConfigKey declarations of the managers cirrostack re-implements: name, type, default,
category, component, scopes, whether it is dynamic, and its description. They become
``ConfigKey`` objects with ``acted_on=False``: stored, listed, settable with type and scope
checks, and described as keys cirrostack does not act on.

A name that ``config.keys`` declares is taken from there (the keys cirrostack reads win), so
``REGISTRY`` has every key once. Hidden and Secure keys are not in the catalogue: CloudStack
never lists the first, and the second are secrets cirrostack has no use for.

Read once, at import; ``REGISTRY`` is what listConfigurations, updateConfiguration and the
bootstrap seeding use.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from importlib import resources
from typing import Any

from cirrostack.config import definitions, keys

_DATA = "catalogue.json"
_OPTIONAL = ("component", "scopes", "dynamic", "choices", "min", "max")


def entries() -> Iterator[dict[str, Any]]:
    """Every catalogue entry as a flat dict (its group's component and dynamic applied)."""
    data = json.loads(resources.files(__package__).joinpath(_DATA).read_text(encoding="utf-8"))
    for group in data["groups"]:
        for name, type_name, default, category, description, *more in group["keys"]:
            extra = more[0] if more else {}
            unknown = set(extra) - set(_OPTIONAL)
            if unknown:
                raise ValueError(f"catalogue entry {name}: unknown fields {sorted(unknown)}")
            yield {
                "component": group["component"],
                "dynamic": group["dynamic"],
                **extra,
                "name": name,
                "type": type_name,
                "default": default,
                "category": category,
                "description": description,
            }


def stored_key(entry: dict[str, Any]) -> definitions.ConfigKey[Any]:
    """The stored-only key of one catalogue entry; raises ValueError on a malformed entry
    (an unknown type or scope, a default the key's own type, bounds or choices refuse)."""
    kind = definitions.KINDS[entry["type"]]
    return definitions.ConfigKey(
        entry["name"],
        kind,
        _default(entry["name"], kind, entry["default"]),
        entry["description"].strip(),
        category=entry["category"],
        component=entry["component"],
        scopes=tuple(definitions.Scope(scope) for scope in entry.get("scopes", ())),
        is_dynamic=entry["dynamic"],
        minimum=entry.get("min"),
        maximum=entry.get("max"),
        choices=tuple(entry.get("choices", ())),
        acted_on=False,
    )


def _default(name: str, kind: type, text: str) -> Any:
    """The typed default of a catalogue text ("" stands for CloudStack's null)."""
    blank: Any = {bool: False, int: 0, float: 0.0, str: ""}[kind]
    if text == "":
        return blank
    probe: definitions.ConfigKey[Any] = definitions.ConfigKey(name, kind, blank, "")
    return probe.parse(text)


def stored_keys(declared: Iterable[str]) -> tuple[definitions.ConfigKey[Any], ...]:
    """The catalogue's keys whose names are not in ``declared`` (those of ``config.keys``)."""
    taken = set(declared)
    return tuple(stored_key(entry) for entry in entries() if entry["name"] not in taken)


#: Every key: the ones cirrostack reads (``config.keys``) and the rest of CloudStack's catalogue.
REGISTRY = definitions.Registry((*keys.ALL, *stored_keys(key.name for key in keys.ALL)))
