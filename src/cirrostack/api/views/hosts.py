"""The ``host`` response object's serializer (its spec is ``infrastructure.HOST``).

A page of hosts reads its zones, pods, clusters, tags, capacity rows, over-commit ratios,
details and OS categories in one query each, whatever the page size.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from cirrostack.api import responses
from cirrostack.api.views import batch
from cirrostack.db.models import guest_os
from cirrostack.db.models import infrastructure as models
from cirrostack.infrastructure import capacity, clusters, details, hosts
from cirrostack.states import machines


@dataclass(frozen=True)
class _Related:
    """What the hosts of one page refer to, each kind read once."""

    zones: dict[int, models.DataCenter]
    pods: dict[int, models.HostPod]
    in_clusters: dict[int, models.Cluster]
    tags: dict[int, list[str]]
    figures: dict[int, dict[capacity.CapacityType, capacity.Amounts]]
    ratios: dict[int | None, clusters.Overcommit]
    categories: dict[int, guest_os.GuestOsCategory | None]


def host_item(session: Session, host: models.Host) -> dict[str, Any]:
    return host_items(session, [host])[0]


def host_items(session: Session, found: Sequence[models.Host]) -> list[dict[str, Any]]:
    """Hosts as answers show them (listHosts, addHost, updateHost, maintenance jobs)."""
    related = _related(session, found)
    return [_host(host, related) for host in found]


def _related(session: Session, found: Sequence[models.Host]) -> _Related:
    ids = [host.id for host in found]
    wanted = {
        host.id: _category_id(shown.get(hosts.OS_CATEGORY_DETAIL, ""))
        for host, shown in zip(found, _details(session, found), strict=True)
    }
    categories = batch.by_id(session, guest_os.GuestOsCategory, wanted.values())
    return _Related(
        zones=batch.by_id(session, models.DataCenter, [host.data_center_id for host in found]),
        pods=batch.by_id(session, models.HostPod, [host.pod_id for host in found]),
        in_clusters=batch.by_id(session, models.Cluster, [host.cluster_id for host in found]),
        tags=details.tags_of(session, ids),
        figures=capacity.of_hosts(session, ids),
        ratios=clusters.overcommit_of(session, [host.cluster_id for host in found]),
        categories={host: categories.get(category or 0) for host, category in wanted.items()},
    )


def _details(session: Session, found: Sequence[models.Host]) -> list[dict[str, str]]:
    shown = details.of_hosts(session, [host.id for host in found])
    return [shown.get(host.id, {}) for host in found]


def _category_id(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() else None


def _host(host: models.Host, related: _Related) -> dict[str, Any]:
    item = {
        "id": host.uuid,
        "name": host.name,
        "type": host.type,
        "state": host.status,
        "resourcestate": host.resource_state,
        "ipaddress": host.private_ip_address,
        "hypervisor": host.hypervisor_type,
        "hypervisorversion": host.hypervisor_version,
        "version": host.version,
        "cpunumber": host.cpus,
        "cpusockets": host.cpu_sockets,
        "cpuspeed": host.speed,
        "memorytotal": host.ram,
        "disksizetotal": host.total_size,
        "hosttags": ",".join(related.tags.get(host.id, [])),
        "capabilities": host.capabilities,
        "islocalstorageactive": False,
        "hahost": False,
        "lastpinged": responses.date(_pinged(host.last_ping)),
        "created": responses.date(host.created),
        "disconnected": responses.date(host.disconnected),
        "events": _events(host.status),
    }
    item.update(_placement(host, related))
    item.update(_allocation(host, related))
    item.update(_os_category(related.categories.get(host.id)))
    return responses.compact(item)


def _placement(host: models.Host, related: _Related) -> dict[str, Any]:
    zone = related.zones[host.data_center_id]
    pod = related.pods.get(host.pod_id) if host.pod_id else None
    cluster = related.in_clusters.get(host.cluster_id) if host.cluster_id else None
    return {
        "zoneid": zone.uuid,
        "zonename": zone.name,
        "podid": pod.uuid if pod else None,
        "podname": pod.name if pod else None,
        "clusterid": cluster.uuid if cluster else None,
        "clustername": cluster.name if cluster else None,
        "clustertype": cluster.cluster_type if cluster else None,
    }


def _allocation(host: models.Host, related: _Related) -> dict[str, Any]:
    """CPU and memory claimed on the host (used + reserved), as CloudStack shows them."""
    figures = related.figures.get(host.id, {})
    ratios = related.ratios[host.cluster_id]
    cpu = figures.get(capacity.CapacityType.CPU, capacity.Amounts())
    memory = figures.get(capacity.CapacityType.MEMORY, capacity.Amounts())
    offered = (host.cpus or 0) * (host.speed or 0) * ratios.cpu
    share = (cpu.used + cpu.reserved) / offered * 100 if offered else 0.0
    return {
        "cpuallocated": f"{_number(share)}%",
        "cpuwithoverprovisioning": _number(offered),
        "memoryallocated": memory.used + memory.reserved,
    }


def _os_category(category: guest_os.GuestOsCategory | None) -> dict[str, Any]:
    if category is None:
        return {}
    return {"oscategoryid": category.uuid, "oscategoryname": category.name}


@functools.cache
def _events(status: str) -> str:
    events = machines.HOST_STATUS.events_from(machines.HOST_STATUS.parse(status))
    return "; ".join(sorted(event.value for event in events))


def _pinged(last_ping: int) -> datetime.datetime | None:
    if not last_ping:
        return None
    stamp = datetime.datetime.fromtimestamp((last_ping << 10) / 1000, datetime.UTC)
    return stamp.replace(tzinfo=None)


def _number(value: float) -> str:
    """Java's DecimalFormat("#.##"): at most two decimals, no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text or "0"
