"""Configuration tells the truth: a key is read where it says, and dynamic keys are not fixed at
start (issue 6, finding 12).

- every key of ``config.keys`` that says it is acted on is read somewhere in ``src/`` (outside
  its own declaration), and no key marked stored-only is;
- every stored-only key, and every key of the catalogue, says in its listed description that
  cirrostack stores it and does not act on it;
- the composition root (``server.py``), which reads settings once at start, reads only keys
  declared not dynamic: a dynamic key must be read where it is used, each time.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cirrostack.config import catalogue, definitions, keys

SRC = Path(__file__).resolve().parents[2] / "src" / "cirrostack"
_REFERENCE = re.compile(r"\b\w*keys\.([A-Z][A-Z0-9_]*)\b")  # keys.X, config_keys.X, ...

#: The keys clients set that CloudStack has and cirrostack answered "doesn't exist" for: the
#: Ansible collection's configuration tests and CloudStack's zone set-up scripts.
CLIENT_KEYS = {
    "network.loadbalancer.haproxy.stats.visibility": ("String", ()),
    "vmware.recycle.hung.wokervm": ("Boolean", ()),
    "agent.load.threshold": ("Decimal", ()),
    "allow.public.user.templates": ("Boolean", ("account",)),
    "use.external.dns": ("Boolean", ("zone",)),
    "consoleproxy.sslEnabled": ("Boolean", ()),
    "hypervisor.list": ("String", ()),
    "instance.name": ("String", ()),
    "check.pod.cidrs": ("String", ()),
    "expunge.delay": ("Number", ()),
    "account.cleanup.interval": ("Number", ()),
    "secstorage.allowed.internal.sites": ("String", ()),
    "expunge.interval": ("Number", ()),
    "storage.cleanup.interval": ("Number", ()),
    "network.gc.interval": ("Number", ()),
    "network.gc.wait": ("Number", ()),
    "host": ("String", ()),
    "direct.agent.load.size": ("Number", ()),
    "enable.dynamic.scale.vm": ("Boolean", ("zone",)),
}


def constants() -> dict[str, definitions.ConfigKey[object]]:
    """Every key constant of ``config.keys`` by its Python name."""
    return {
        name: value
        for name, value in vars(keys).items()
        if isinstance(value, definitions.ConfigKey) and not name.startswith("_")
    }


def referenced(files: list[Path]) -> set[str]:
    """The ``keys.NAME`` constants the given files mention."""
    found: set[str] = set()
    for path in files:
        found |= set(_REFERENCE.findall(path.read_text()))
    return found


def readers() -> set[str]:
    mine = {*(SRC / "config").glob("keys*.py"), SRC / "config" / "catalogue.py"}
    return referenced([path for path in SRC.rglob("*.py") if path not in mine])


@pytest.mark.parametrize("name", sorted(constants()))
def test_a_key_is_read_exactly_when_it_says_it_is_acted_on(name: str) -> None:
    key = constants()[name]
    if key.acted_on:
        assert name in readers(), f"{key.name} says it is acted on but nothing in src/ reads it"
    else:
        assert name not in readers(), f"{key.name} is read: drop its stored-only mark"


def test_stored_only_keys_say_so_and_acted_on_keys_do_not() -> None:
    for key in catalogue.REGISTRY:
        assert (definitions.STORED_ONLY_NOTE in key.listed_description) is not key.acted_on


def test_the_catalogue_is_cloudstacks_whole_list() -> None:
    assert len(catalogue.REGISTRY) >= 300
    stored = [key for key in catalogue.REGISTRY if not key.acted_on]
    assert len(stored) >= 250
    assert {key.category for key in catalogue.REGISTRY} >= {
        "Alert",
        "Storage",
        "Network",
        "Console Proxy",
        "Snapshots",
        "Advanced",
        "Usage",
        "Account Defaults",
        "Domain Defaults",
        "Project Defaults",
    }
    # CloudStack never lists Hidden keys; Secure ones are secrets cirrostack has no use for.
    assert not {key.category for key in catalogue.REGISTRY} & {"Hidden", "Secure"}


@pytest.mark.parametrize("name", sorted(CLIENT_KEYS))
def test_the_keys_clients_set_exist_with_cloudstacks_type_and_scope(name: str) -> None:
    key = catalogue.REGISTRY.require(name)
    assert (key.type_name, key.scope_names()[1:]) == CLIENT_KEYS[name]


def test_a_catalogue_entry_for_a_declared_key_agrees_on_its_type() -> None:
    # keys.py wins over the catalogue for a name both have; they must not disagree on type.
    for entry in catalogue.entries():
        declared = keys.REGISTRY.get(entry["name"])
        if declared is not None:
            assert declared.type_name == entry["type"], entry["name"]


def test_keys_read_once_at_start_are_declared_not_dynamic() -> None:
    for name in referenced([SRC / "server.py"]):
        key = constants()[name]
        assert not key.is_dynamic, f"{key.name} is dynamic but only read at start (server.py)"
