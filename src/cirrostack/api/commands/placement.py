"""explainStoragePlacement (cirrostack's own) and findStoragePoolsForMigration: the storage
allocator's decision shown to a root admin, never acted on (nothing is claimed).

explainStoragePlacement answers every pool of the zone with its verdict: suitable ones with
their score and rank (the order ``place`` would try them), the others with typed reasons, and
the one-line summary a failed placement reports. findStoragePoolsForMigration (storage
reference 4.6) judges the pools a Ready volume could move to: its own pool is avoided; for a
detached volume capacity is not checked (as CloudStack), for an attached one it is.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.allocators import pools
from cirrostack.api import registry, responses
from cirrostack.api.commands.common import P, T
from cirrostack.api.views import placement as views
from cirrostack.db.models import infrastructure, offerings, templates
from cirrostack.db.models import storage as models
from cirrostack.infrastructure import clusters, hosts, pods, zones
from cirrostack.offerings import disk_offerings

GIB = 1 << 30

#: Reasons findStoragePoolsForMigration ignores for a detached volume (no capacity check).
_DETACHED_IGNORES = frozenset({"allocated capacity", "used capacity", "iops"})


def _template_id(session: Session, uuid: str | None) -> int | None:
    if not uuid:
        return None
    found = session.scalar(
        sa.select(templates.VmTemplate.id).where(
            templates.VmTemplate.uuid == uuid, templates.VmTemplate.removed.is_(None)
        )
    )
    if found is None:
        raise errors.InvalidParameterValue(f"Unable to find template with ID {uuid} (templateid)")
    return int(found)


def _request(call: registry.Call) -> pools.VolumeRequest:
    session = call.session
    zone = zones.by_uuid(session, call.get("zoneid"), "zoneid")
    offering = None
    if call.get("diskofferingid"):
        offering = disk_offerings.by_uuid(
            session, call.get("diskofferingid"), parameter="diskofferingid"
        )
    size = call.get("size")
    if size is None and offering is None:
        raise errors.InvalidParameterValue("Specify size or diskofferingid")
    pod_id = pods.by_uuid(session, call.get("podid"), "podid").id if call.get("podid") else None
    cluster_id, hypervisor = None, call.get("hypervisor")
    if call.get("clusterid"):
        cluster = clusters.by_uuid(session, call.get("clusterid"), "clusterid")
        cluster_id, hypervisor = cluster.id, hypervisor or cluster.hypervisor_type
    host_id = None
    if call.get("hostid"):
        host = hosts.by_uuid(session, call.get("hostid"), "hostid")
        host_id, pod_id = host.id, host.pod_id
        cluster_id, hypervisor = host.cluster_id, hypervisor or host.hypervisor_type
    return pools.VolumeRequest(
        zone_id=zone.id,
        size=int(size) * GIB if size is not None else _offering_size(offering),
        disk_offering_id=None if offering is None else offering.id,
        tags=_tags(offering),
        use_local_storage=bool(offering and offering.use_local_storage),
        provisioning_type=offering.provisioning_type if offering else "thin",
        hypervisor=hypervisor,
        pod_id=pod_id,
        cluster_id=cluster_id,
        host_id=host_id,
        template_id=_template_id(session, call.get("templateid")),
        min_iops=offering.min_iops if offering else None,
    )


def _offering_size(offering: offerings.DiskOffering | None) -> int:
    return 0 if offering is None else int(offering.disk_size or 0)


def _tags(offering: offerings.DiskOffering | None) -> tuple[str, ...]:
    text = "" if offering is None else offering.tags or ""
    return tuple(tag.strip() for tag in text.split(",") if tag.strip())


def explain_storage_placement(call: registry.Call) -> responses.Reply:
    decision = pools.decide(call.session, _request(call), every_pool=True)
    return responses.Single("storageplacement", views.placement_item(decision))


def find_storage_pools_for_migration(call: registry.Call) -> responses.Reply:
    session = call.session
    volume = _volume(session, call.get("id"))
    if volume.state != "Ready" or volume.pool_id is None:
        raise errors.InvalidParameterValue(
            f"Volume {volume.uuid} is {volume.state}: only a Ready volume on a pool can migrate"
        )
    source = session.get_one(models.StoragePool, volume.pool_id)
    offering = session.get(offerings.DiskOffering, volume.disk_offering_id)
    cluster = session.get(infrastructure.Cluster, source.cluster_id) if source.cluster_id else None
    attached = volume.instance_id is not None
    request = pools.VolumeRequest(
        zone_id=volume.data_center_id,
        size=int(volume.size or 0),
        disk_offering_id=volume.disk_offering_id,
        tags=_tags(offering),
        use_local_storage=(source.scope or "").upper() == "HOST",
        hypervisor=(cluster.hypervisor_type if cluster else None) or source.hypervisor,
        cluster_id=source.cluster_id if attached else None,
        avoid=frozenset({source.id}),
    )
    decision = pools.decide(session, request)
    ignored = frozenset() if attached else _DETACHED_IGNORES
    found = {
        row.id: row
        for row in session.scalars(
            sa.select(models.StoragePool).where(
                models.StoragePool.id.in_([v.pool_id for v in decision.verdicts])
            )
        )
    }
    items = []
    for verdict in decision.verdicts:
        if verdict.pool_id == source.id:
            continue
        left = tuple(reason for reason in verdict.reasons if reason.code not in ignored)
        items.append(views.migration_item(found[verdict.pool_id], not left, left))
    return responses.Listing("storagepool", items, len(items))


def _volume(session: Session, uuid: str) -> models.Volume:
    found = session.scalar(
        sa.select(models.Volume).where(models.Volume.uuid == uuid, models.Volume.removed.is_(None))
    )
    if found is None:
        raise errors.InvalidParameterValue(f"Unable to find volume with ID {uuid}")
    return found


COMMANDS = (
    registry.Command(
        "explainStoragePlacement",
        explain_storage_placement,
        "cirrostack: explains where the storage allocator would place a volume and why every "
        "other pool of the zone was not chosen; claims nothing",
        (
            P("zoneid", T.UUID, "the zone of the volume", required=True, related=("listZones",)),
            P(
                "diskofferingid",
                T.UUID,
                "the disk offering (its tags, size, local storage and IOPS apply)",
                related=("listDiskOfferings",),
            ),
            P("size", T.LONG, "the volume size in GB (default: the offering's)"),
            P("podid", T.UUID, "the pod the volume's VM would run in", related=("listPods",)),
            P("clusterid", T.UUID, "the cluster the VM would run in", related=("listClusters",)),
            P("hostid", T.UUID, "the host the VM would run on", related=("listHosts",)),
            P("templateid", T.UUID, "the template of a root volume", related=("listTemplates",)),
            P("hypervisor", T.STRING, "the hypervisor of the volume's VM"),
        ),
        views.PLACEMENT,
        authorized=registry.ADMINS,
    ),
    registry.Command(
        "findStoragePoolsForMigration",
        find_storage_pools_for_migration,
        "Lists storage pools available for migration of a volume.",
        (P("id", T.UUID, "the ID of the volume", required=True, related=("listVolumes",)),),
        views.MIGRATION_POOL,
        authorized=registry.ADMINS,
    ),
)
