"""Which machine governs which column of which table: the gate's registry.

A binding joins a model class and an event enum to a machine and names the columns the gate
writes. The key is (model, event type), so the event a caller passes says which machine it
means: a host row has two, ``gate.transition(s, host, HostStatusEvent.Ping)`` moves
``host.status`` and ``gate.transition(s, host, ResourceStateEvent.Disable)`` moves
``host.resource_state``.

The list is written out below, not collected from imports; a duplicate key fails at import.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Generic

from cirrostack.db.models import compute, infrastructure, network, snapshots, storage, templates
from cirrostack.states import errors, machine, machines
from cirrostack.states.machine import E, S


def _by_uuid(resource_type: str) -> Callable[[Any], str]:
    def label(resource: Any) -> str:
        return f"{resource_type} {resource.uuid}"

    return label


def _store_ref(
    resource_type: str, parent: str, store: str, store_label: str
) -> Callable[[Any], str]:
    # Copy rows have no uuid; name the row and what it is a copy of, where.
    def label(resource: Any) -> str:
        return (
            f"{resource_type} {resource.id} ({parent} {getattr(resource, parent + '_id')} "
            f"on {store_label} {getattr(resource, store)})"
        )

    return label


@dataclass(frozen=True, eq=False)
class Binding(Generic[S, E]):
    """How the gate moves one machine's column on one table.

    ``state`` is the state attribute; ``counter`` the optimistic-lock counter (None: compare the
    state alone); ``updated`` the timestamp stamped on every transition (None: the table has
    none). ``guards`` are further attributes the update compares with their loaded value (the
    VM's host, as CloudStack does). ``on_enter`` sets more columns when a state is entered.
    ``event_type`` and ``resource_type`` go into the ``event`` row; ``label`` names an object in
    messages and event descriptions.
    """

    model: type[Any]
    events: type[E]
    machine: machine.Machine[S, E]
    state: str
    counter: str | None
    updated: str | None
    event_type: str
    resource_type: str
    label: Callable[[Any], str]
    guards: tuple[str, ...] = ()
    on_enter: Mapping[S, Mapping[str, object]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        frozen = {state: MappingProxyType(dict(v)) for state, v in self.on_enter.items()}
        object.__setattr__(self, "on_enter", MappingProxyType(frozen))


def _bind(
    model: type[Any],
    fsm: machine.Machine[S, E],
    *,
    state: str = "state",
    counter: str | None = "update_count",
    updated: str | None = "updated",
    event_type: str,
    resource_type: str,
    label: Callable[[Any], str] | None = None,
    guards: tuple[str, ...] = (),
    on_enter: Mapping[S, Mapping[str, object]] | None = None,
) -> Binding[S, E]:
    return Binding(
        model=model,
        events=fsm.events,
        machine=fsm,
        state=state,
        counter=counter,
        updated=updated,
        event_type=event_type,
        resource_type=resource_type,
        label=label or _by_uuid(resource_type),
        guards=guards,
        on_enter=on_enter or {},
    )


_ODS = machines.ObjectInDataStoreState

VM = _bind(
    compute.VmInstance,
    machines.VM,
    updated="update_time",
    guards=("host_id",),
    event_type="VM.STATE",
    resource_type="VirtualMachine",
)
VOLUME = _bind(storage.Volume, machines.VOLUME, event_type="VOLUME.STATE", resource_type="Volume")
SNAPSHOT = _bind(
    snapshots.Snapshot,
    machines.SNAPSHOT,
    state="status",
    event_type="SNAPSHOT.STATE",
    resource_type="Snapshot",
)
TEMPLATE = _bind(
    templates.VmTemplate, machines.TEMPLATE, event_type="TEMPLATE.STATE", resource_type="Template"
)
NETWORK = _bind(
    network.Network, machines.NETWORK, event_type="NETWORK.STATE", resource_type="Network"
)
# The host table has no update timestamp. Its update_count belongs to ``status``, which every
# agent ping moves; resource_state is compared on its own value (as CloudStack does), so an
# administrator's Disable does not lose to a ping that landed in between.
HOST_STATUS = _bind(
    infrastructure.Host,
    machines.HOST_STATUS,
    state="status",
    updated=None,
    event_type="HOST.STATUS",
    resource_type="Host",
)
HOST_RESOURCE_STATE = _bind(
    infrastructure.Host,
    machines.HOST_RESOURCE_STATE,
    state="resource_state",
    counter=None,
    updated=None,
    event_type="HOST.RESOURCESTATE",
    resource_type="Host",
)
# storage_pool has no update counter: the status is compared on its own value.
STORAGE_POOL = _bind(
    storage.StoragePool,
    machines.STORAGE_POOL_STATUS,
    state="status",
    counter=None,
    updated="update_time",
    event_type="STORAGE.POOL.STATE",
    resource_type="StoragePool",
)
# CloudStack marks a template or volume copy ``destroyed`` when it reaches Destroyed.
TEMPLATE_STORE_REF = _bind(
    templates.TemplateStoreRef,
    machines.OBJECT_IN_DATA_STORE,
    event_type="TEMPLATE.STORE.STATE",
    resource_type="TemplateStoreRef",
    label=_store_ref("TemplateStoreRef", "template", "store_id", "image store"),
    on_enter={
        _ODS.Destroyed: {"destroyed": True},
        # Failed is always a download or copy that did not make it (also when the reaper
        # fails a copy whose job was lost): the legacy status says so.
        _ODS.Failed: {"download_state": "DOWNLOAD_ERROR"},
    },
)
VOLUME_STORE_REF = _bind(
    templates.VolumeStoreRef,
    machines.OBJECT_IN_DATA_STORE,
    event_type="VOLUME.STORE.STATE",
    resource_type="VolumeStoreRef",
    label=_store_ref("VolumeStoreRef", "volume", "store_id", "image store"),
    on_enter={_ODS.Destroyed: {"destroyed": True}},
)
SNAPSHOT_STORE_REF = _bind(
    snapshots.SnapshotStoreRef,
    machines.OBJECT_IN_DATA_STORE,
    event_type="SNAPSHOT.STORE.STATE",
    resource_type="SnapshotStoreRef",
    label=_store_ref("SnapshotStoreRef", "snapshot", "store_id", "store"),
)
TEMPLATE_SPOOL_REF = _bind(
    templates.TemplateSpoolRef,
    machines.OBJECT_IN_DATA_STORE,
    event_type="TEMPLATE.SPOOL.STATE",
    resource_type="TemplateSpoolRef",
    label=_store_ref("TemplateSpoolRef", "template", "pool_id", "pool"),
)

ALL: tuple[Binding[Any, Any], ...] = (
    VM,
    VOLUME,
    SNAPSHOT,
    TEMPLATE,
    NETWORK,
    HOST_STATUS,
    HOST_RESOURCE_STATE,
    TEMPLATE_STORE_REF,
    VOLUME_STORE_REF,
    SNAPSHOT_STORE_REF,
    TEMPLATE_SPOOL_REF,
    STORAGE_POOL,
)


def _index(bindings: tuple[Binding[Any, Any], ...]) -> Mapping[tuple[type[Any], type[Any]], Any]:
    index: dict[tuple[type[Any], type[Any]], Binding[Any, Any]] = {}
    for binding in bindings:
        key = (binding.model, binding.events)
        if key in index:
            raise ValueError(f"{binding.model.__name__} is bound twice to {binding.events}")
        index[key] = binding
    return MappingProxyType(index)


_INDEX = _index(ALL)


def lookup(model: type[Any], events: type[enum.StrEnum]) -> Binding[Any, Any]:
    """The binding for objects of ``model`` (or a subclass) moved by ``events``.

    Raises NotBound when there is none: the caller passed the wrong kind of event or object.
    """
    for cls in model.__mro__:
        binding: Binding[Any, Any] | None = _INDEX.get((cls, events))
        if binding is not None:
            return binding
    raise errors.NotBound(model.__name__, events.__name__)
