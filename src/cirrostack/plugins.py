"""Hypervisor backends as plugins, resolved by name (issue 7, item 3).

A backend is an object with the ``Backend`` protocol, found by name in the entry-point group
``cirrostack.backends`` (pyproject.toml declares cirrostack's own) plus a built-in registry
holding the same names, which keeps them found when the installed metadata predates the entry
points (an editable install made before they were declared). An entry point may repeat a
built-in name only with the same target; two different targets for one name, or a name nobody
declares, is a ``PluginError`` at start-up (``discover``/``backend``), never a late surprise.

The server knows a backend only through this protocol: parse an addHost url into what to store
(``parse_url``) and give the agents of its hosts (``in_process`` for hosts simulated in the
server's process, ``agent`` for a ``cirrostack agent`` process).

Storage drivers (issue 8) use the same mechanism in a second group, ``cirrostack.storage``: a
driver is named by the store kind it serves (a pool type such as ``NetworkFilesystem``, or an
image store provider, ``NFS`` or ``S3``), follows ``agent.storage.drivers.Driver``, and
``storage_drivers`` loads every declared one at start-up with the same rules.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from cirrostack.agent import work
from cirrostack.agent.storage import drivers

GROUP = "cirrostack.backends"
#: cirrostack's own backends, name -> "module:attribute" (as its entry points declare them).
BUILT_IN: Mapping[str, str] = {"simulator": "cirrostack.agent.backends.simulator:BACKEND"}
STORAGE_GROUP = "cirrostack.storage"
#: cirrostack's own storage drivers, store kind -> "module:attribute".
STORAGE_BUILT_IN: Mapping[str, str] = {
    "Filesystem": "cirrostack.agent.storage.filesystem:FILESYSTEM",
    "SharedMountPoint": "cirrostack.agent.storage.filesystem:SHARED_MOUNT_POINT",
    "NetworkFilesystem": "cirrostack.agent.storage.filesystem:NETWORK_FILESYSTEM",
    "NFS": "cirrostack.agent.storage.nfs:NFS",
    "S3": "cirrostack.agent.storage.s3:S3",
}


class PluginError(Exception):
    """A backend name is unknown, declared twice with different targets, or does not load."""


@dataclass(frozen=True)
class HostUrl:
    """What an addHost url says: the machine it names, the details to store for the host
    (the backend's settings, a restart rebuilds the agent from them), and whether the agent is
    a process of its own (``http[s]://H:P``) rather than one the server runs in-process."""

    machine: str
    details: Mapping[str, str]
    own_process: bool


class InProcess(Protocol):
    """The agents of a backend that run inside the server (the embedded simulator)."""

    def agent_for(self, guid: str) -> work.Agent | None:
        """The agent of ``guid`` if it runs and answers now (the in-process directory)."""
        ...

    def running(self, guid: str) -> bool:
        """Whether an agent for ``guid`` runs here, answering or not."""
        ...

    def start(self, guid: str, name: str, address: str, details: Mapping[str, str]) -> None:
        """Start the agent of a host from its row's values and details; ValueError when the
        details cannot be used (the message says why)."""
        ...

    def discard(self, guid: str) -> None:
        """Stop the agent of ``guid`` for good (nothing happens if there is none)."""
        ...

    def get(self, guid: str) -> work.Agent | None:
        """The agent of ``guid``, answering or not (for its backend's own controls)."""
        ...


@runtime_checkable
class Failable(Protocol):
    """An agent that can be told to fail a kind of command (configureSimulator)."""

    def fail(self, command: str, times: int | None = None) -> None:
        """Answer the next ``times`` commands named ``command`` (all, if None) with a failure."""
        ...

    def succeed(self, command: str) -> None:
        """Answer commands named ``command`` normally again."""
        ...


class Backend(Protocol):
    """A hypervisor backend: its names, and its halves on the server and on the host."""

    #: The name ``--backend`` and the entry point use.
    name: str
    #: The hypervisor type of the hosts it runs (a cluster's hypervisor).
    hypervisor: str

    def parse_url(self, url: str) -> HostUrl:
        """What addHost's ``url`` says; ValueError (with the reason) for one it cannot use."""
        ...

    def in_process(self, workdir: Path | None = None) -> InProcess | None:
        """A fresh set of in-process agents, or None when the backend has none; ``workdir``:
        where they keep their files (storage pools, copies), None for a temporary place."""
        ...

    def agent(self, workdir: Path, shared: Path | None = None) -> work.Agent:
        """The agent a ``cirrostack agent`` process serves, keeping its files in ``workdir``;
        ``shared``: a directory several agents of one machine share (the simulator keeps its
        stand-in NFS exports and shared mount points there), None for ``workdir``."""
        ...


def discover(group: str = GROUP, built_in: Mapping[str, str] = BUILT_IN) -> dict[str, str]:
    """Every plugin name of ``group`` (the backends by default) with its target, built-in and
    from entry points; raises PluginError for a name declared with two different targets."""
    what = "backend" if group == GROUP else "storage driver"
    found = dict(built_in)
    seen: dict[str, str] = {}
    for point in importlib.metadata.entry_points(group=group):
        if point.name in seen and seen[point.name] != point.value:
            raise PluginError(
                f"{what} {point.name!r} is declared twice: {seen[point.name]} and {point.value}"
            )
        seen[point.name] = point.value
        if found.get(point.name, point.value) != point.value:
            raise PluginError(
                f"{what} {point.name!r} is declared twice: {found[point.name]} and {point.value}"
            )
        found[point.name] = point.value
    return found


def backend(declared: Mapping[str, str], name: str) -> Backend:
    """The backend ``name`` of ``declared`` (``discover()``), loaded; PluginError if unknown or
    if it does not load as a Backend."""
    target = declared.get(name)
    if target is None:
        known = ", ".join(sorted(declared)) or "none"
        raise PluginError(f"unknown backend {name!r}; known: {known}")
    loaded = _load("backend", name, target)
    if not all(hasattr(loaded, part) for part in ("name", "parse_url", "in_process", "agent")):
        raise PluginError(f"backend {name!r} ({target}) is not a cirrostack backend")
    return loaded  # type: ignore[return-value]


def all_backends(declared: Mapping[str, str]) -> dict[str, Backend]:
    """Every declared backend loaded, by hypervisor type (case as declared); PluginError if
    one does not load or two serve the same hypervisor."""
    by_hypervisor: dict[str, Backend] = {}
    for name in sorted(declared):
        loaded = backend(declared, name)
        other = by_hypervisor.get(loaded.hypervisor.lower())
        if other is not None:
            raise PluginError(
                f"backends {other.name!r} and {name!r} both serve {loaded.hypervisor}"
            )
        by_hypervisor[loaded.hypervisor.lower()] = loaded
    return by_hypervisor


_resolved: dict[str, Backend] | None = None


def resolved() -> dict[str, Backend]:
    """``all_backends(discover())``, resolved once per process (the composition root calls it
    at start so that a bad declaration stops the server there)."""
    global _resolved
    if _resolved is None:
        _resolved = all_backends(discover())
    return _resolved


def _load(what: str, name: str, target: str) -> object:
    module_name, _, attribute = target.partition(":")
    try:
        loaded: object = getattr(importlib.import_module(module_name), attribute)
        return loaded
    except (ImportError, AttributeError) as exc:
        raise PluginError(f"{what} {name!r} ({target}) does not load: {exc}") from exc


_DRIVER_PARTS = ("name", "capabilities", "connect", "open", "disconnect")


def storage_drivers(declared: Mapping[str, str]) -> drivers.Drivers:
    """Every declared storage driver (``discover(STORAGE_GROUP, STORAGE_BUILT_IN)``) loaded;
    PluginError if one does not load, is not a driver, or serves another kind than its name."""
    loaded: dict[str, drivers.Driver] = {}
    for name in sorted(declared):
        found = _load("storage driver", name, declared[name])
        if not all(hasattr(found, part) for part in _DRIVER_PARTS):
            raise PluginError(f"storage driver {name!r} ({declared[name]}) is not a driver")
        served = getattr(found, "name", None)
        if served != name:
            raise PluginError(f"storage driver {name!r} ({declared[name]}) serves {served!r}")
        loaded[name] = found  # type: ignore[assignment]
    return drivers.Drivers(loaded)


_storage: drivers.Drivers | None = None


def resolved_storage() -> drivers.Drivers:
    """The storage drivers declared for this process, loaded once (at start: a bad
    declaration stops the agent or server there)."""
    global _storage
    if _storage is None:
        _storage = storage_drivers(discover(STORAGE_GROUP, STORAGE_BUILT_IN))
    return _storage
