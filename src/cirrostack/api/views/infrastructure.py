"""Response objects for zones, pods, clusters, hosts and hypervisors: spec + serializer.

List, create and update commands answer with the same serializer, so what Ansible compares
after an update is exactly what the next list shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from cirrostack.api import responses
from cirrostack.api.registry import Field, ObjectSpec
from cirrostack.api.views import batch
from cirrostack.db.models import accounts
from cirrostack.db.models import infrastructure as models
from cirrostack.infrastructure import clusters, pods, zones

_S, _B, _I, _L, _D = "string", "boolean", "integer", "long", "date"

ZONE = ObjectSpec(
    "zone",
    (
        Field("id", _S, "Zone id"),
        Field("name", _S, "Zone name"),
        Field("description", _S, "Zone description"),
        Field("dns1", _S, "the first DNS for the Zone"),
        Field("dns2", _S, "the second DNS for the Zone"),
        Field("ip6dns1", _S, "the first IPv6 DNS for the Zone"),
        Field("ip6dns2", _S, "the second IPv6 DNS for the Zone"),
        Field("internaldns1", _S, "the first internal DNS for the Zone"),
        Field("internaldns2", _S, "the second internal DNS for the Zone"),
        Field("guestcidraddress", _S, "the guest CIDR address for the Zone"),
        Field("domain", _S, "Network domain name for the networks in the zone"),
        Field("domainid", _S, "the UUID of the containing domain, null for public zones"),
        Field("domainname", _S, "the name of the containing domain, null for public zones"),
        Field("networktype", _S, "the network type of the zone; can be Basic or Advanced"),
        Field("type", _S, "the type of the zone: Core or Edge"),
        Field("allocationstate", _S, "the allocation state of the zone"),
        Field("zonetoken", _S, "Zone Token"),
        Field("dhcpprovider", _S, "the dhcp Provider for the Zone"),
        Field("securitygroupsenabled", _B, "true if security groups support is enabled"),
        Field("localstorageenabled", _B, "true if local storage offering enabled"),
        Field("tags", "set", "the list of resource tags associated with zone"),
        Field("resourcedetails", "map", "Meta data associated with the zone (key/value pairs)"),
    ),
)

POD = ObjectSpec(
    "pod",
    (
        Field("id", _S, "the ID of the Pod"),
        Field("name", _S, "the name of the Pod"),
        Field("zoneid", _S, "the Zone ID of the Pod"),
        Field("zonename", _S, "the Zone name of the Pod"),
        Field("gateway", _S, "the gateway of the Pod"),
        Field("netmask", _S, "the netmask of the Pod"),
        Field("startip", "list", "the starting IP for the Pod"),
        Field("endip", "list", "the ending IP for the Pod"),
        Field("allocationstate", _S, "the allocation state of the Pod"),
    ),
)

CLUSTER = ObjectSpec(
    "cluster",
    (
        Field("id", _S, "the cluster ID"),
        Field("name", _S, "the cluster name"),
        Field("podid", _S, "the Pod ID of the cluster"),
        Field("podname", _S, "the Pod name of the cluster"),
        Field("zoneid", _S, "the Zone ID of the cluster"),
        Field("zonename", _S, "the Zone name of the cluster"),
        Field("hypervisortype", _S, "the hypervisor type of the cluster"),
        Field("clustertype", _S, "the type of the cluster"),
        Field("allocationstate", _S, "the allocation state of the cluster"),
        Field("managedstate", _S, "whether this cluster is managed by cloudstack"),
        Field("cpuovercommitratio", _S, "The cpu overcommit ratio of the cluster"),
        Field("memoryovercommitratio", _S, "The memory overcommit ratio of the cluster"),
    ),
)

HOST = ObjectSpec(
    "host",
    (
        Field("id", _S, "the ID of the host"),
        Field("name", _S, "the name of the host"),
        Field("type", "type", "the host type"),
        Field("state", "status", "the state of the host"),
        Field("resourcestate", _S, "the resource state of the host"),
        Field("ipaddress", _S, "the IP address of the host"),
        Field("hypervisor", "hypervisortype", "the host hypervisor"),
        Field("hypervisorversion", _S, "the hypervisor version"),
        Field("version", _S, "the host version"),
        Field("zoneid", _S, "the Zone ID of the host"),
        Field("zonename", _S, "the Zone name of the host"),
        Field("podid", _S, "the Pod ID of the host"),
        Field("podname", _S, "the Pod name of the host"),
        Field("clusterid", _S, "the cluster ID of the host"),
        Field("clustername", _S, "the cluster name of the host"),
        Field("clustertype", _S, "the cluster type of the cluster that host belongs to"),
        Field("cpunumber", _I, "the CPU number of the host"),
        Field("cpusockets", _I, "the number of CPU sockets on the host"),
        Field("cpuspeed", _L, "the CPU speed of the host"),
        Field("cpuallocated", _S, "the amount of the host's CPU currently allocated"),
        Field("cpuwithoverprovisioning", _S, "the host's CPU MHz with the overcommit ratio"),
        Field("memorytotal", _L, "the memory total of the host"),
        Field("memoryallocated", _L, "the amount of the host's memory currently allocated"),
        Field("disksizetotal", _L, "the total local disk size of the host"),
        Field("hosttags", _S, "comma-separated list of tags for the host"),
        Field("capabilities", _S, "capabilities of the host"),
        Field("islocalstorageactive", _B, "true if local storage is active"),
        Field("hahost", _B, "true if the host is dedicated to VMs started by HA"),
        Field("lastpinged", _D, "the date and time the host was last pinged"),
        Field("created", _D, "the date and time the host was created"),
        Field("disconnected", _D, "the date and time the host was last disconnected"),
        Field("events", _S, "events available for the host"),
        Field("oscategoryid", _S, "the OS category ID of the host"),
        Field("oscategoryname", _S, "the OS category name of the host"),
    ),
)

HYPERVISOR = ObjectSpec("hypervisor", (Field("name", _S, "Hypervisor name"),))


def zone_item(session: Session, zone: models.DataCenter, *, full: bool) -> dict[str, Any]:
    return zone_items(session, [zone], full=full)[0]


def zone_items(
    session: Session, found: Sequence[models.DataCenter], *, full: bool
) -> list[dict[str, Any]]:
    """Zones as answers show them; ``full`` (root admins) adds the DNS servers and the guest
    CIDR. Domains and details are read in one query each."""
    domains = batch.by_id(session, accounts.Domain, [zone.domain_id for zone in found])
    shown = zones.details_of(session, [zone.id for zone in found])
    return [
        _zone(zone, domains.get(zone.domain_id or 0), shown.get(zone.id), full=full)
        for zone in found
    ]


def _zone(
    zone: models.DataCenter,
    domain: accounts.Domain | None,
    shown: dict[str, str] | None,
    *,
    full: bool,
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": zone.uuid,
        "name": zone.name,
        "description": zone.description,
        "domain": zone.domain,
        "domainid": domain.uuid if domain else None,
        "domainname": domain.name if domain else None,
        "networktype": zone.networktype,
        "type": zone.type,
        "allocationstate": zone.allocation_state,
        "zonetoken": zone.zone_token,
        "dhcpprovider": "VirtualRouter",
        "securitygroupsenabled": zone.is_security_group_enabled,
        "localstorageenabled": zone.is_local_storage_enabled,
        "tags": [],
        "resourcedetails": shown or None,
    }
    if full:
        item.update(
            dns1=zone.dns1,
            dns2=zone.dns2,
            ip6dns1=zone.ip6_dns1,
            ip6dns2=zone.ip6_dns2,
            internaldns1=zone.internal_dns1,
            internaldns2=zone.internal_dns2,
            guestcidraddress=zone.guest_network_cidr,
        )
    return responses.compact(item)


def pod_item(session: Session, pod: models.HostPod) -> dict[str, Any]:
    return pod_items(session, [pod])[0]


def pod_items(session: Session, found: Sequence[models.HostPod]) -> list[dict[str, Any]]:
    """Pods as answers show them; their zones in one query."""
    in_zones = batch.by_id(session, models.DataCenter, [pod.data_center_id for pod in found])
    return [_pod(pod, in_zones[pod.data_center_id]) for pod in found]


def _pod(pod: models.HostPod, zone: models.DataCenter) -> dict[str, Any]:
    span = pods.ip_range(pod)
    return responses.compact(
        {
            "id": pod.uuid,
            "name": pod.name,
            "zoneid": zone.uuid,
            "zonename": zone.name,
            "gateway": pod.gateway,
            "netmask": str(span.network.netmask),
            "startip": [str(span.start)],
            "endip": [str(span.end)],
            "allocationstate": pod.allocation_state,
        }
    )


def cluster_item(session: Session, cluster: models.Cluster) -> dict[str, Any]:
    return cluster_items(session, [cluster])[0]


def cluster_items(session: Session, found: Sequence[models.Cluster]) -> list[dict[str, Any]]:
    """Clusters as answers show them; pods, zones and details in one query each."""
    in_pods = batch.by_id(session, models.HostPod, [cluster.pod_id for cluster in found])
    in_zones = batch.by_id(session, models.DataCenter, [c.data_center_id for c in found])
    ratios = clusters.details_of(session, [cluster.id for cluster in found])
    return [
        _cluster(
            cluster,
            in_pods[cluster.pod_id],
            in_zones[cluster.data_center_id],
            ratios.get(cluster.id, {}),
        )
        for cluster in found
    ]


def _cluster(
    cluster: models.Cluster,
    pod: models.HostPod,
    zone: models.DataCenter,
    ratios: dict[str, str],
) -> dict[str, Any]:
    return responses.compact(
        {
            "id": cluster.uuid,
            "name": cluster.name,
            "podid": pod.uuid,
            "podname": pod.name,
            "zoneid": zone.uuid,
            "zonename": zone.name,
            "hypervisortype": cluster.hypervisor_type,
            "clustertype": cluster.cluster_type,
            "allocationstate": cluster.allocation_state,
            "managedstate": cluster.managed_state,
            "cpuovercommitratio": ratios.get(clusters.CPU_OVERCOMMIT, clusters.DEFAULT_RATIO),
            "memoryovercommitratio": ratios.get(clusters.MEMORY_OVERCOMMIT, clusters.DEFAULT_RATIO),
        }
    )


def hypervisor_item(name: str) -> dict[str, Any]:
    return {"name": name}
