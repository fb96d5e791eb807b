"""createStoragePool, listStoragePools, updateStoragePool, deleteStoragePool,
enableStorageMaintenance, cancelStorageMaintenance, listStorageTags, listStorageProviders and
cirrostack's recalculateStorageCapacity.

createStoragePool and deleteStoragePool talk to agents in their ``before`` step, between short
transactions, never inside one: the pool is recorded (Initialized), the hosts of its scope
connect it in parallel, then the handler records what connected. A pool no host connected is
removed again and the call fails (534, resource unavailable): nothing is left half-made.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.api import jobs, paging, registry, responses
from cirrostack.api.commands.common import P, T
from cirrostack.api.registry import Field, ObjectSpec
from cirrostack.api.views import storage_pools as views
from cirrostack.db import transactions
from cirrostack.db.models import infrastructure as infra
from cirrostack.db.models import storage as models
from cirrostack.infrastructure import agents as agents_module
from cirrostack.infrastructure import clusters, pods, zones
from cirrostack.protocol import storage as st
from cirrostack.states import bindings, gate, machines
from cirrostack.storage import capacity, pool_create, pool_hosts, pools

log = logging.getLogger(__name__)

_POOL = bindings.STORAGE_POOL.resource_type
_EVENT = machines.StoragePoolEvent


def _acted_on(call: registry.Call, pool: models.StoragePool) -> models.StoragePool:
    call.acted_on = ("StoragePool", pool.id, pool.name)
    return pool


def _details(value: dict[int, dict[str, str]] | None) -> dict[str, str]:
    """``details[0].a=1&details[0].b=2`` (CloudStack's form) as ``{"a": "1", "b": "2"}``."""
    merged: dict[str, str] = {}
    for index in sorted(value or {}):
        merged.update((value or {})[index])
    return merged


def _new_pool(session: Session, args: dict[str, Any]) -> pools.NewPool:
    zone = zones.by_uuid(session, args["zoneid"], "zoneid")
    pod = pods.by_uuid(session, args["podid"], "podid") if args.get("podid") else None
    cluster = (
        clusters.by_uuid(session, args["clusterid"], "clusterid") if args.get("clusterid") else None
    )
    if cluster is not None and pod is None:
        pod = session.get_one(infra.HostPod, cluster.pod_id)
    return pools.NewPool(
        name=args["name"],
        url=args["url"],
        zone=zone,
        pod=pod,
        cluster=cluster,
        scope=args.get("scope"),
        hypervisor=args.get("hypervisor"),
        tags=pools.parse_tags(args.get("tags"), rule=bool(args.get("istagarule"))),
        tag_is_rule=bool(args.get("istagarule")),
        capacity_bytes=args.get("capacitybytes"),
        capacity_iops=args.get("capacityiops"),
        provider=args.get("provider"),
        managed=bool(args.get("managed") or False),
        details=_details(args.get("details")),
    )


def connect_pool(before: registry.Before) -> pool_create.Connected:
    """createStoragePool's ``before`` step: the pool recorded and connected by the hosts of
    its scope (``storage.pool_create.connect``), no transaction open while they answer."""
    return pool_create.connect(
        before.sessions,
        before.services.need_agents(),
        lambda session: _new_pool(session, before.args),
    )


def create_pool(call: registry.Call) -> responses.Reply:
    pool = _acted_on(call, pool_create.attach(call.session, call.prepared))
    return responses.Single("storagepool", views.pool_item(call.session, pool))


def _id_of(call: registry.Call, name: str, find: Any) -> int | None:
    value = call.get(name)
    return None if value is None else int(find(call.session, value, name).id)


def list_pools(call: registry.Call) -> responses.Reply:
    wanted = pools.PoolFilter(
        id=_id_of(call, "id", pools.by_uuid),
        name=call.get("name"),
        zone_id=_id_of(call, "zoneid", zones.by_uuid),
        pod_id=_id_of(call, "podid", pods.by_uuid),
        cluster_id=_id_of(call, "clusterid", clusters.by_uuid),
        host_address=call.get("ipaddress"),
        path=call.get("path"),
        scope=call.get("scope"),
        status=call.get("status"),
        keyword=call.get("keyword"),
    )
    found, total = pools.search(call.session, wanted, paging.page(call))
    return responses.Listing("storagepool", views.pool_items(call.session, found), total)


def update_pool(call: registry.Call) -> responses.Reply:
    pool = _acted_on(call, pools.by_uuid(call.session, call.get("id")))
    tags, rule = call.get("tags"), bool(call.get("istagarule"))
    changes = pools.PoolChanges(
        name=call.get("name"),
        tags=None if tags is None else pools.parse_tags(tags, rule=rule),
        tag_is_rule=rule,
        capacity_bytes=call.get("capacitybytes"),
        capacity_iops=call.get("capacityiops"),
        enabled=call.get("enabled"),
        details=_details(call.get("details")) if call.get("details") else None,
    )
    pool = pools.update(call.session, pool, changes)
    return responses.Single("storagepool", views.pool_item(call.session, pool))


@dataclass(frozen=True)
class _Deleted:
    pool_id: int
    name: str
    failures: tuple[str, ...]


def delete_pool_first(before: registry.Before) -> _Deleted:
    """deleteStoragePool's ``before`` step: under the pool's row lock, refuse while volumes
    remain, else soft-delete it (one short transaction); then disconnect its hosts with no
    transaction open. A host that does not answer is logged: the pool is gone either way."""
    connections = before.services.need_agents()

    def remove(
        session: Session,
    ) -> tuple[int, str, st.PrimaryDataStoreTO, list[agents_module.Target]]:
        found = pools.by_uuid(session, before.args["id"])
        pool = pools.lock(session, found.id)
        hosts = pool_hosts.connected_hosts(session, pool.id)
        targets = pool_hosts.targets(session, hosts)
        to = pool_hosts.transfer_object(session, pool)
        pools.remove(session, pool, forced=bool(before.args.get("forced") or False))
        return pool.id, pool.name, to, targets

    pool_id, name, to, targets = transactions.run(before.sessions, remove, name="deleteStoragePool")
    failures = pool_hosts.disconnect(connections, to, targets)
    return _Deleted(pool_id, name, tuple(failures))


def delete_pool(call: registry.Call) -> responses.Reply:
    done: _Deleted = call.prepared
    call.acted_on = ("StoragePool", done.pool_id, done.name)
    return responses.Success()


def ask_maintenance(call: registry.Call) -> jobs.Instance:
    """At submit: the pool goes PrepareForMaintenance together with its job."""
    pool = _acted_on(call, pools.by_uuid(call.session, call.get("id")))
    gate.transition(call.session, pool, _EVENT.AskMaintenance)
    assert pool.uuid is not None
    return jobs.Instance(_POOL, pool.id, pool.uuid)


def enter_maintenance(call: registry.Call) -> responses.Reply:
    """In the job: nothing runs on the pool's volumes yet (no VMs are stopped or moved), so
    the pool enters Maintenance at once, fenced by the job's claim."""
    pool = _acted_on(call, pools.by_uuid(call.session, call.get("id")))
    fence = call.job.fence() if call.job is not None else None
    gate.transition(call.session, pool, _EVENT.EnteredMaintenance, fence=fence)
    return responses.Single("storagepool", views.pool_item(call.session, pool))


def ask_cancel(call: registry.Call) -> jobs.Instance:
    """At submit: Maintenance (or ErrorInMaintenance) → CancelMaintenance with its job."""
    pool = _acted_on(call, pools.by_uuid(call.session, call.get("id")))
    gate.transition(call.session, pool, _EVENT.CancelMaintenance)
    assert pool.uuid is not None
    return jobs.Instance(_POOL, pool.id, pool.uuid)


def cancel_maintenance(call: registry.Call) -> responses.Reply:
    pool = _acted_on(call, pools.by_uuid(call.session, call.get("id")))
    fence = call.job.fence() if call.job is not None else None
    gate.transition(call.session, pool, _EVENT.MaintenanceCancelled, fence=fence)
    return responses.Single("storagepool", views.pool_item(call.session, pool))


def list_tags(call: registry.Call) -> responses.Reply:
    live = {
        pool_id: str(uuid)
        for pool_id, uuid in call.session.execute(
            sa.select(models.StoragePool.id, models.StoragePool.uuid).where(
                models.StoragePool.removed.is_(None)
            )
        )
    }
    statement = (
        sa.select(models.StoragePoolTag)
        .where(models.StoragePoolTag.pool_id.in_(list(live) or [0]))
        .order_by(models.StoragePoolTag.id)
    )
    if call.get("keyword"):
        statement = statement.where(models.StoragePoolTag.tag.contains(call.get("keyword")))
    found = list(call.session.scalars(statement))
    items = views.tag_items(found, live)
    page = paging.page(call)
    shown = items[page.offset : None if page.limit is None else page.offset + page.limit]
    return responses.Listing("storagetag", shown, len(items))


_PROVIDERS = {
    "primary": [{"name": "DefaultPrimary", "type": "PRIMARY"}],
    "image": [{"name": "NFS", "type": "IMAGE"}, {"name": "S3", "type": "IMAGE"}],
}


def list_providers(call: registry.Call) -> responses.Reply:
    kind = str(call.get("type") or "").lower()
    if kind not in _PROVIDERS:
        raise errors.InvalidParameterValue(
            f"Invalid storage provider type {call.get('type')}: use primary or image"
        )
    items = _PROVIDERS[kind]
    return responses.Listing("dataStoreProvider", items, len(items))


CAPACITY_DRIFT = ObjectSpec(
    "storagecapacitydrift",
    (
        Field("poolid", "string", "the ID of the storage pool"),
        Field("poolname", "string", "the name of the storage pool"),
        Field("recorded", "long", "allocated bytes the capacity row held before"),
        Field("actual", "long", "allocated bytes from the volumes and template copies"),
        Field("drift", "long", "recorded minus actual"),
    ),
)


def recalculate(call: registry.Call) -> responses.Reply:
    """Recompute every live pool's allocated row (or one pool's, ``id``) and report drift."""
    wanted = pools.PoolFilter(
        id=_id_of(call, "id", pools.by_uuid), zone_id=_id_of(call, "zoneid", zones.by_uuid)
    )
    found, _ = pools.search(call.session, wanted, paging.page(call))
    items = []
    for pool in found:
        drift = capacity.recalculate(call.session, pools.lock(call.session, pool.id))
        items.append(
            {
                "poolid": drift.pool_uuid,
                "poolname": drift.pool_name,
                "recorded": drift.recorded,
                "actual": drift.actual,
                "drift": drift.drift,
            }
        )
    return responses.Listing("storagecapacitydrift", items, len(items))


_ID = P("id", T.UUID, "the primary storage ID", required=True, related=("listStoragePools",))

_PAGING = paging.PARAMS

_RULE = P(
    "istagarule",
    T.BOOLEAN,
    "whether tags is one rule (a JavaScript expression over the offering's tags; cirrostack "
    "evaluates a subset and refuses a rule outside it)",
)

COMMANDS = (
    registry.Command(
        "createStoragePool",
        create_pool,
        "Creates a storage pool.",
        (
            P("name", T.STRING, "the name for the storage pool", required=True),
            P("url", T.STRING, "the URL of the storage pool", required=True, length=2048),
            P(
                "zoneid",
                T.UUID,
                "the Zone ID for the storage pool",
                required=True,
                related=("listZones",),
            ),
            P("podid", T.UUID, "the Pod ID for the storage pool", related=("listPods",)),
            P(
                "clusterid",
                T.UUID,
                "the cluster ID for the storage pool",
                related=("listClusters",),
            ),
            P("scope", T.STRING, "the scope of the storage: cluster or zone"),
            P("hypervisor", T.STRING, "hypervisor type of the hosts (needed for zone scope)"),
            P("tags", T.STRING, "the tags for the storage pool (comma list)"),
            P("capacitybytes", T.LONG, "bytes CloudStack can provision from this storage pool"),
            P("capacityiops", T.LONG, "IOPS CloudStack can provision from this storage pool"),
            P("provider", T.STRING, "the storage provider name (DefaultPrimary)"),
            P("managed", T.BOOLEAN, "whether the storage should be managed by CloudStack"),
            P("details", T.MAP, "the details for the storage pool"),
            _RULE,
        ),
        views.STORAGE_POOL,
        authorized=registry.ADMINS,
        writes=True,
        before=connect_pool,
    ),
    registry.Command(
        "listStoragePools",
        list_pools,
        "Lists storage pools.",
        (
            P("id", T.UUID, "the ID of the storage pool", related=("listStoragePools",)),
            P("name", T.STRING, "the name of the storage pool"),
            P("zoneid", T.UUID, "the Zone ID for the storage pool", related=("listZones",)),
            P("podid", T.UUID, "the Pod ID for the storage pool", related=("listPods",)),
            P("clusterid", T.UUID, "list storage pools belonging to the specific cluster"),
            P("ipaddress", T.STRING, "the IP address for the storage pool"),
            P("path", T.STRING, "the storage pool path"),
            P("scope", T.STRING, "the scope of the storage pool"),
            P("status", T.STRING, "the status of the storage pool"),
            *_PAGING,
        ),
        views.STORAGE_POOL,
        authorized=registry.ADMINS,
    ),
    registry.Command(
        "updateStoragePool",
        update_pool,
        "Updates a storage pool.",
        (
            _ID,
            P("name", T.STRING, "Change the name of the storage pool"),
            P("tags", T.STRING, "comma-separated list of tags for the storage pool"),
            _RULE,
            P("capacitybytes", T.LONG, "bytes CloudStack can provision from this storage pool"),
            P("capacityiops", T.LONG, "IOPS CloudStack can provision from this storage pool"),
            P("enabled", T.BOOLEAN, "false to disable the pool for allocation, true to enable"),
            P("details", T.MAP, "the details for the storage pool"),
        ),
        views.STORAGE_POOL,
        authorized=registry.ADMINS,
        event="UPDATE.PS",
    ),
    registry.Command(
        "deleteStoragePool",
        delete_pool,
        "Deletes a storage pool.",
        (
            _ID,
            P("forced", T.BOOLEAN, "also remove volumes left Destroyed on the pool"),
        ),
        authorized=registry.ADMINS,
        writes=True,
        before=delete_pool_first,
    ),
    registry.Command(
        "enableStorageMaintenance",
        enter_maintenance,
        "Puts storage pool into maintenance state",
        (_ID,),
        views.STORAGE_POOL,
        is_async=True,
        authorized=registry.ADMINS,
        response_key="prepareprimarystorageformaintenanceresponse",
        instance_type=_POOL,
        event="MAINT.PREPARE.PS",
        prepare=ask_maintenance,
    ),
    registry.Command(
        "cancelStorageMaintenance",
        cancel_maintenance,
        "Cancels maintenance for primary storage",
        (_ID,),
        views.STORAGE_POOL,
        is_async=True,
        authorized=registry.ADMINS,
        response_key="cancelprimarystoragemaintenanceresponse",
        instance_type=_POOL,
        event="MAINT.CANCEL.PS",
        prepare=ask_cancel,
    ),
    registry.Command(
        "listStorageTags",
        list_tags,
        "Lists storage tags",
        tuple(_PAGING),
        views.STORAGE_TAG,
        authorized=registry.ADMINS,
    ),
    registry.Command(
        "listStorageProviders",
        list_providers,
        "Lists storage providers.",
        (
            P("type", T.STRING, "the type of storage provider: primary or image", required=True),
            *_PAGING,
        ),
        views.STORAGE_PROVIDER,
        authorized=registry.ADMINS,
    ),
    registry.Command(
        "recalculateStorageCapacity",
        recalculate,
        "cirrostack: recomputes the allocated capacity of storage pools from their volumes "
        "and template copies, and reports the drift per pool",
        (
            P("id", T.UUID, "only this storage pool", related=("listStoragePools",)),
            P("zoneid", T.UUID, "only the pools of this zone", related=("listZones",)),
            *_PAGING,
        ),
        CAPACITY_DRIFT,
        authorized=registry.ADMINS,
        writes=True,
    ),
)
