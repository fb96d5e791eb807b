"""explainHostPlacement (cirrostack's own): the host planner's decision shown to a root
admin, never acted on (nothing is claimed). Every host of the zone is answered: suitable ones
in the order ``hosts.place`` would try them, the others with typed reasons, and the one-line
summary a failed deployment reports. The VM's size comes from the service offering (or,
for a custom offering, from ``cpunumber``, ``cpuspeed`` and ``memory``), its hypervisor
from the template, its owner is the caller (a root admin).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.allocators import hosts
from cirrostack.api import registry, responses
from cirrostack.api.commands.common import P, T
from cirrostack.api.views import host_placement as views
from cirrostack.db.models import infrastructure, templates
from cirrostack.infrastructure import clusters, pods, zones
from cirrostack.infrastructure import hosts as host_rows
from cirrostack.offerings import service_offerings

MIB = 1 << 20


def _figure(call: registry.Call, offered: int | None, parameter: str) -> int:
    value = offered if offered else call.get(parameter)
    if value is None or int(value) <= 0:
        raise errors.InvalidParameterValue(
            f"The service offering is custom: give {parameter} (a positive number)"
        )
    return int(value)


def _hypervisor(session: Session, uuid: str | None) -> str | None:
    if not uuid:
        return None
    found = session.execute(
        sa.select(templates.VmTemplate.id, templates.VmTemplate.hypervisor_type).where(
            templates.VmTemplate.uuid == uuid, templates.VmTemplate.removed.is_(None)
        )
    ).first()
    if found is None:
        raise errors.InvalidParameterValue(f"Unable to find template with ID {uuid} (templateid)")
    return None if found[1] in (None, "", "None", "Any") else str(found[1])


def _in_zone(ident: int, zone_id: int, zone: infrastructure.DataCenter, parameter: str) -> int:
    if zone_id != zone.id:
        raise errors.InvalidParameterValue(f"The {parameter} given is not in zone {zone.uuid}")
    return ident


def _request(call: registry.Call) -> hosts.HostRequest:
    session = call.session
    zone = zones.by_uuid(session, call.get("zoneid"), "zoneid")
    offering = service_offerings.by_uuid(
        session, call.get("serviceofferingid"), parameter="serviceofferingid"
    )
    pod_id = cluster_id = host_id = None
    if call.get("podid"):
        pod = pods.by_uuid(session, call.get("podid"), "podid")
        pod_id = _in_zone(pod.id, pod.data_center_id, zone, "podid")
    if call.get("clusterid"):
        cluster = clusters.by_uuid(session, call.get("clusterid"), "clusterid")
        cluster_id = _in_zone(cluster.id, cluster.data_center_id, zone, "clusterid")
    if call.get("hostid"):
        host = host_rows.by_uuid(session, call.get("hostid"), "hostid")
        host_id = _in_zone(host.id, host.data_center_id, zone, "hostid")
    return hosts.HostRequest(
        zone_id=zone.id,
        cpus=_figure(call, offering.cpu, "cpunumber"),
        speed=_figure(call, offering.speed, "cpuspeed"),
        memory=_figure(call, offering.ram_size, "memory") * MIB,
        account_id=call.who.account_id,
        domain_id=call.who.domain_id,
        hypervisor=_hypervisor(session, call.get("templateid")),
        host_tags=offering.host_tag,
        pod_id=pod_id,
        cluster_id=cluster_id,
        host_id=host_id,
        root_admin=True,
    )


def _cluster_uuids(session: Session, decision: hosts.HostDecision) -> dict[int, str]:
    ids = {v.cluster_id for v in decision.verdicts if v.cluster_id is not None}
    if not ids:
        return {}
    cluster = infrastructure.Cluster
    found = session.execute(sa.select(cluster.id, cluster.uuid).where(cluster.id.in_(ids)))
    return {ident: uuid for ident, uuid in found}


def explain_host_placement(call: registry.Call) -> responses.Reply:
    decision = hosts.decide(call.session, _request(call), every_host=True)
    item = views.placement_item(decision, _cluster_uuids(call.session, decision))
    return responses.Single("hostplacement", item)


COMMANDS = (
    registry.Command(
        "explainHostPlacement",
        explain_host_placement,
        "cirrostack: explains which host the planner would choose for a VM and why every "
        "other host of the zone was not chosen; claims nothing",
        (
            P("zoneid", T.UUID, "the zone of the VM", required=True, related=("listZones",)),
            P(
                "serviceofferingid",
                T.UUID,
                "the service offering (its CPU, memory and host tag apply)",
                required=True,
                related=("listServiceOfferings",),
            ),
            P(
                "templateid",
                T.UUID,
                "the template (its hypervisor applies)",
                related=("listTemplates",),
            ),
            P("podid", T.UUID, "only hosts of this pod", related=("listPods",)),
            P("clusterid", T.UUID, "only hosts of this cluster", related=("listClusters",)),
            P("hostid", T.UUID, "only this host", related=("listHosts",)),
            P("cpunumber", T.INTEGER, "the cores, for a custom offering"),
            P("cpuspeed", T.INTEGER, "the MHz per core, for a custom offering"),
            P("memory", T.INTEGER, "the memory in MB, for a custom offering"),
        ),
        views.PLACEMENT,
        authorized=registry.ADMINS,
    ),
)
