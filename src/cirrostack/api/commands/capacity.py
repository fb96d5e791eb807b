"""listCapacity: op_host_capacity summed as CloudStack answers it.

Rows are summed per zone, or per pod when ``podid`` is given, or per cluster when
``clusterid`` is given (CloudStack's grouping), one item per (place, type), in one SQL query.
``capacityused`` is used + reserved, ``percentused`` a string with two decimals, as CloudStack
formats it. ``fetchlatest`` is accepted: the rows here are written as they change (the storage
STORAGE rows by the stats collector), so there is nothing older to refresh.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from cirrostack import errors
from cirrostack.api import paging, registry, responses
from cirrostack.api.commands.common import P, T
from cirrostack.api.registry import Field, ObjectSpec
from cirrostack.api.views import batch
from cirrostack.db.models import capacity as models
from cirrostack.db.models import infrastructure as infra
from cirrostack.infrastructure import clusters, pods, zones

#: CloudStack's capacity type names (Capacity.java), by number.
NAMES = {
    0: "MEMORY",
    1: "CPU",
    2: "STORAGE",
    3: "STORAGE_ALLOCATED",
    4: "VIRTUAL_NETWORK_PUBLIC_IP",
    5: "PRIVATE_IP",
    6: "SECONDARY_STORAGE",
    7: "VLAN",
    8: "DIRECT_ATTACHED_PUBLIC_IP",
    9: "LOCAL_STORAGE",
    10: "VIRTUAL_NETWORK_IPV6_SUBNET",
    19: "GPU",
    90: "CPU_CORE",
}
#: Types whose used part is an allocation (capacityallocated is shown for them).
_ALLOCATED = frozenset({0, 1, 3, 9, 90})

CAPACITY = ObjectSpec(
    "capacity",
    (
        Field("type", "short", "the capacity type"),
        Field("name", "string", "the capacity name"),
        Field("zoneid", "string", "the Zone ID"),
        Field("zonename", "string", "the Zone name"),
        Field("podid", "string", "the Pod ID"),
        Field("podname", "string", "the Pod name"),
        Field("clusterid", "string", "the Cluster ID"),
        Field("clustername", "string", "the Cluster name"),
        Field("capacitytotal", "long", "the total capacity available"),
        Field("capacityused", "long", "the capacity currently in use"),
        Field("capacityallocated", "long", "the capacity currently in allocated"),
        Field("percentused", "string", "the percentage of capacity currently in use"),
    ),
)


def list_capacity(call: registry.Call) -> responses.Reply:
    row = models.HostCapacity
    zone = zones.by_uuid(call.session, call.get("zoneid"), "zoneid") if call.get("zoneid") else None
    pod = pods.by_uuid(call.session, call.get("podid"), "podid") if call.get("podid") else None
    cluster = (
        clusters.by_uuid(call.session, call.get("clusterid"), "clusterid")
        if call.get("clusterid")
        else None
    )
    wanted_type = call.get("type")
    if wanted_type is not None and wanted_type not in NAMES:
        raise errors.InvalidParameterValue(f"Invalid capacity type {wanted_type}")
    keys: list[Any] = [row.data_center_id]
    if pod is not None or cluster is not None:
        keys.append(row.pod_id)
    if cluster is not None:
        keys.append(row.cluster_id)
    statement = sa.select(
        *keys,
        row.capacity_type,
        sa.func.sum(row.total_capacity),
        sa.func.sum(row.used_capacity),
        sa.func.sum(row.reserved_capacity),
    ).where(row.capacity_state == "Enabled")
    for column, given in (
        (row.data_center_id, zone),
        (row.pod_id, pod),
        (row.cluster_id, cluster),
    ):
        if given is not None:
            statement = statement.where(column == given.id)
    if wanted_type is not None:
        statement = statement.where(row.capacity_type == wanted_type)
    found = call.session.execute(statement.group_by(*keys, row.capacity_type)).all()
    in_zones = batch.by_id(call.session, infra.DataCenter, [r[0] for r in found])
    in_pods = batch.by_id(call.session, infra.HostPod, [pod.id] if pod else [])
    in_clusters = batch.by_id(call.session, infra.Cluster, [cluster.id] if cluster else [])
    items = []
    for record in found:
        zone_id, kind, total, used, reserved = (
            record[0],
            record[-4],
            int(record[-3] or 0),
            int(record[-2] or 0),
            int(record[-1] or 0),
        )
        in_zone = in_zones.get(zone_id)
        shown_pod = in_pods.get(pod.id) if pod else None
        shown_cluster = in_clusters.get(cluster.id) if cluster else None
        in_use = used + reserved
        items.append(
            responses.compact(
                {
                    "type": kind,
                    "name": NAMES.get(kind, str(kind)),
                    "zoneid": in_zone.uuid if in_zone else None,
                    "zonename": in_zone.name if in_zone else None,
                    "podid": shown_pod.uuid if shown_pod else None,
                    "podname": shown_pod.name if shown_pod else None,
                    "clusterid": shown_cluster.uuid if shown_cluster else None,
                    "clustername": shown_cluster.name if shown_cluster else None,
                    "capacitytotal": total,
                    "capacityused": in_use,
                    "capacityallocated": in_use if kind in _ALLOCATED else None,
                    "percentused": f"{(100.0 * in_use / total) if total else 0.0:.2f}",
                }
            )
        )
    if str(call.get("sortby") or "").lower() == "usage":
        items.sort(key=lambda item: -float(item["percentused"]))
    else:
        items.sort(key=lambda item: (str(item.get("zonename")), item["type"]))
    page = paging.page(call)
    shown = items[page.offset : None if page.limit is None else page.offset + page.limit]
    return responses.Listing("capacity", shown, len(items))


COMMANDS = (
    registry.Command(
        "listCapacity",
        list_capacity,
        "Lists all the system wide capacities.",
        (
            P("type", T.INTEGER, "lists capacity by type"),
            P("zoneid", T.UUID, "lists capacity by the Zone ID", related=("listZones",)),
            P("podid", T.UUID, "lists capacity by the Pod ID", related=("listPods",)),
            P("clusterid", T.UUID, "lists capacity by the Cluster ID", related=("listClusters",)),
            P("fetchlatest", T.BOOLEAN, "recalculate capacities and fetch the latest"),
            P("sortby", T.STRING, "Sort the results. Available values: Usage"),
            *paging.PARAMS,
        ),
        CAPACITY,
        authorized=registry.ADMINS,
    ),
)
