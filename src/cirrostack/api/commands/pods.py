"""createPod, listPods, updatePod, deletePod."""

from __future__ import annotations

from cirrostack.api import paging, registry, responses
from cirrostack.api.commands.common import P, T
from cirrostack.api.views import infrastructure as views
from cirrostack.db.models import infrastructure as models
from cirrostack.infrastructure import pods, zones


def _acted_on(call: registry.Call, pod: models.HostPod) -> models.HostPod:
    call.acted_on = ("Pod", pod.id, pod.name)
    return pod


def create_pod(call: registry.Call) -> responses.Reply:
    zone = zones.by_uuid(call.session, call.get("zoneid"), "zoneid")
    new = pods.NewPod(
        name=call.get("name"),
        gateway=call.get("gateway"),
        netmask=call.get("netmask"),
        start_ip=call.get("startip"),
        end_ip=call.get("endip"),
        allocation_state=call.get("allocationstate"),
    )
    pod = _acted_on(call, pods.create(call.session, zone, new))
    return responses.Single("pod", views.pod_item(call.session, pod))


def list_pods(call: registry.Call) -> responses.Reply:
    zone = zones.by_uuid(call.session, call.get("zoneid"), "zoneid") if call.get("zoneid") else None
    wanted = pods.PodFilter(
        id=pods.by_uuid(call.session, call.get("id")).id if call.get("id") else None,
        name=call.get("name"),
        zone_id=zone.id if zone else None,
        allocation_state=call.get("allocationstate"),
        keyword=call.get("keyword"),
    )
    found, total = pods.search(call.session, wanted, paging.page(call))
    return responses.Listing("pod", views.pod_items(call.session, found), total)


def update_pod(call: registry.Call) -> responses.Reply:
    pod = _acted_on(call, pods.by_uuid(call.session, call.get("id")))
    changes = pods.PodChanges(
        name=call.get("name"),
        gateway=call.get("gateway"),
        netmask=call.get("netmask"),
        start_ip=call.get("startip"),
        end_ip=call.get("endip"),
        allocation_state=call.get("allocationstate"),
    )
    pod = pods.update(call.session, pod, changes)
    return responses.Single("pod", views.pod_item(call.session, pod))


def delete_pod(call: registry.Call) -> responses.Reply:
    pod = _acted_on(call, pods.by_uuid(call.session, call.get("id")))
    pods.delete(call.session, pod)
    return responses.Success()


_ID = P("id", T.UUID, "the ID of the Pod", required=True, related=("listPods",))
_STATE = P("allocationstate", T.STRING, "Allocation state of this Pod: Enabled or Disabled")

COMMANDS = (
    registry.Command(
        "createPod",
        create_pod,
        "Creates a new Pod.",
        (
            P("name", T.STRING, "the name of the Pod", required=True),
            P("zoneid", T.UUID, "the Zone ID in which the Pod will be created", required=True),
            P("gateway", T.STRING, "the gateway for the Pod", required=True),
            P("netmask", T.STRING, "the netmask for the Pod", required=True),
            P("startip", T.STRING, "the starting IP address for the Pod", required=True),
            P("endip", T.STRING, "the ending IP address for the Pod"),
            _STATE,
        ),
        views.POD,
        authorized=registry.ADMINS,
        event="POD.CREATE",
    ),
    registry.Command(
        "listPods",
        list_pods,
        "Lists all Pods.",
        (
            P("id", T.UUID, "list Pods by ID", related=("listPods",)),
            P("name", T.STRING, "list Pods by name"),
            P("zoneid", T.UUID, "list Pods by Zone ID", related=("listZones",)),
            P("allocationstate", T.STRING, "list pods by allocation state"),
            P("showcapacities", T.BOOLEAN, "flag to display the capacity of the pods"),
            *paging.PARAMS,
        ),
        views.POD,
        authorized=registry.ADMINS,
    ),
    registry.Command(
        "updatePod",
        update_pod,
        "Updates a Pod.",
        (
            _ID,
            P("name", T.STRING, "the name of the Pod"),
            P("gateway", T.STRING, "the gateway for the Pod"),
            P("netmask", T.STRING, "the netmask of the Pod"),
            P("startip", T.STRING, "the starting IP address for the Pod"),
            P("endip", T.STRING, "the ending IP address for the Pod"),
            _STATE,
        ),
        views.POD,
        authorized=registry.ADMINS,
        event="POD.EDIT",
    ),
    registry.Command(
        "deletePod",
        delete_pod,
        "Deletes a Pod.",
        (_ID,),
        authorized=registry.ADMINS,
        event="POD.DELETE",
    ),
)
