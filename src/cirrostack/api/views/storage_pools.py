"""Response objects for primary storage pools, their tags and the storage providers.

Create, update, maintenance and list answer with the same serializer, so what Ansible's
cs_storage_pool compares after an update is what the next list shows. Sizes are CloudStack's:
``disksizetotal`` the pool's capacity, ``disksizeused`` what the agents report in use,
``disksizeallocated`` the allocated row's used bytes, ``overprovisionfactor`` the factor in
force for the pool (a string, as CloudStack answers it). ``capacitybytes`` is ours (CloudStack
answers no such field): the value of the parameter of that name, so cs_storage_pool, which
compares what it sends (``capacitybytes``) with what it lists, sees a pool whose capacity it
set as unchanged instead of updating it on every run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from cirrostack.api import responses
from cirrostack.api.registry import Field, ObjectSpec
from cirrostack.api.views import batch
from cirrostack.config import keys, settings
from cirrostack.config.definitions import Scope
from cirrostack.db.models import infrastructure as infra
from cirrostack.db.models import storage as models
from cirrostack.storage import capacity, pools

_S, _B, _L, _D = "string", "boolean", "long", "date"

STORAGE_POOL = ObjectSpec(
    "storagepool",
    (
        Field("id", _S, "the ID of the storage pool"),
        Field("name", _S, "the name of the storage pool"),
        Field("zoneid", _S, "the Zone ID of the storage pool"),
        Field("zonename", _S, "the Zone name of the storage pool"),
        Field("podid", _S, "the Pod ID of the storage pool"),
        Field("podname", _S, "the Pod name of the storage pool"),
        Field("clusterid", _S, "the ID of the cluster for the storage pool"),
        Field("clustername", _S, "the name of the cluster for the storage pool"),
        Field("ipaddress", _S, "the IP address of the storage pool"),
        Field("path", _S, "the storage pool path"),
        Field("type", _S, "the storage pool type"),
        Field("scope", _S, "the scope of the storage pool"),
        Field("hypervisor", _S, "the hypervisor type of the storage pool"),
        Field("state", _S, "the state of the storage pool"),
        Field("provider", _S, "Storage provider for this pool"),
        Field("tags", _S, "the tags for the storage pool"),
        Field("istagarule", _B, "whether the storage pool tag is a JS rule"),
        Field("disksizetotal", _L, "the total disk size of the storage pool"),
        Field("disksizeused", _L, "the host's currently used disk size"),
        Field("disksizeallocated", _L, "the host's currently allocated disk size"),
        Field("capacityiops", _L, "IOPS CloudStack can provision from this storage pool"),
        Field(
            "capacitybytes",
            _L,
            "cirrostack: bytes CloudStack can provision from this storage pool (as given with "
            "capacitybytes, or as the hosts report it; disksizetotal)",
        ),
        Field("overprovisionfactor", _S, "the overprovisionfactor for the storage pool"),
        Field("managed", _B, "whether this pool is managed by CloudStack"),
        Field("created", _D, "the date and time the storage pool was created"),
        Field("hasannotations", _B, "whether this pool has annotations"),
    ),
)

STORAGE_TAG = ObjectSpec(
    "storagetag",
    (
        Field("id", _S, "the ID of the storage tag"),
        Field("name", _S, "the name of the storage tag"),
        Field("poolid", _L, "the pool ID of the storage tag"),
    ),
)

STORAGE_PROVIDER = ObjectSpec(
    "dataStoreProvider",
    (
        Field("name", _S, "the name of the storage provider"),
        Field("type", _S, "the type of the storage provider: primary or image"),
    ),
)


def pool_item(session: Session, pool: models.StoragePool) -> dict[str, Any]:
    return pool_items(session, [pool])[0]


def pool_items(session: Session, found: Sequence[models.StoragePool]) -> list[dict[str, Any]]:
    """Pools as answers show them: zones, pods, clusters, tags, capacity rows and factors are
    read in one query each, whatever the page size."""
    ids = [pool.id for pool in found]
    zones = batch.by_id(session, infra.DataCenter, [pool.data_center_id for pool in found])
    pods = batch.by_id(session, infra.HostPod, [pool.pod_id for pool in found])
    clusters = batch.by_id(session, infra.Cluster, [pool.cluster_id for pool in found])
    tags = pools.tags_with_rule(session, ids)
    rows = capacity.rows_of(session, ids)
    factors = settings.Settings(session).get_each(
        keys.STORAGE_OVERPROVISIONING_FACTOR, Scope.STORAGE_POOL, ids
    )
    items = []
    for pool in found:
        zone = zones.get(pool.data_center_id)
        pod = pods.get(pool.pod_id or 0)
        cluster = clusters.get(pool.cluster_id or 0)
        allocated = rows.get((pool.id, capacity.allocated_type(pool)))
        factor = factors.get(pool.id, 1.0) if pool.pool_type in capacity.OVER_PROVISIONABLE else 1
        items.append(
            responses.compact(
                {
                    "id": pool.uuid,
                    "name": pool.name,
                    "zoneid": zone.uuid if zone else None,
                    "zonename": zone.name if zone else None,
                    "podid": pod.uuid if pod else None,
                    "podname": pod.name if pod else None,
                    "clusterid": cluster.uuid if cluster else None,
                    "clustername": cluster.name if cluster else None,
                    "ipaddress": pool.host_address,
                    "path": pool.path,
                    "type": pool.pool_type,
                    "scope": pool.scope,
                    "hypervisor": pool.hypervisor,
                    "state": pool.status,
                    "provider": pool.storage_provider_name,
                    "tags": ",".join(text for text, _ in tags.get(pool.id, [])) or None,
                    "istagarule": any(rule for _, rule in tags.get(pool.id, [])),
                    "disksizetotal": pool.capacity_bytes or 0,
                    "disksizeused": pool.used_bytes or 0,
                    "disksizeallocated": allocated.used_capacity if allocated else 0,
                    "capacityiops": pool.capacity_iops,
                    "capacitybytes": pool.capacity_bytes or 0,
                    "overprovisionfactor": str(factor),
                    "managed": pool.managed,
                    "created": responses.date(pool.created),
                    "hasannotations": False,
                }
            )
        )
    return items


def tag_items(
    found: Sequence[models.StoragePoolTag], uuids: dict[int, str]
) -> list[dict[str, Any]]:
    """Storage tags: ``id`` is the tag row's id, ``poolid`` its pool's id, as CloudStack has."""
    return [
        {"id": str(tag.id), "name": tag.tag, "poolid": tag.pool_id}
        for tag in found
        if tag.pool_id in uuids
    ]
