"""addCluster, listClusters, updateCluster, deleteCluster."""

from __future__ import annotations

from cirrostack import errors
from cirrostack.api import paging, registry, responses
from cirrostack.api.commands.common import P, T
from cirrostack.api.views import infrastructure as views
from cirrostack.db.models import infrastructure as models
from cirrostack.infrastructure import clusters, pods, zones


def _acted_on(call: registry.Call, cluster: models.Cluster) -> models.Cluster:
    call.acted_on = ("Cluster", cluster.id, cluster.name)
    return cluster


def add_cluster(call: registry.Call) -> responses.Reply:
    zone = zones.by_uuid(call.session, call.get("zoneid"), "zoneid")
    pod = pods.by_uuid(call.session, call.get("podid"), "podid")
    if pod.data_center_id != zone.id:
        raise errors.InvalidParameterValue(f"Pod {pod.name} is not in zone {zone.name}")
    new = clusters.NewCluster(
        name=call.get("clustername"),
        hypervisor=call.get("hypervisor"),
        cluster_type=call.get("clustertype"),
        allocation_state=call.get("allocationstate"),
    )
    cluster = _acted_on(call, clusters.create(call.session, pod, new))
    # CloudStack answers addCluster with a list (CLOUDSTACK-9205).
    return responses.Listing("cluster", [views.cluster_item(call.session, cluster)], 1)


def list_clusters(call: registry.Call) -> responses.Reply:
    zone = zones.by_uuid(call.session, call.get("zoneid"), "zoneid") if call.get("zoneid") else None
    pod = pods.by_uuid(call.session, call.get("podid"), "podid") if call.get("podid") else None
    wanted = clusters.ClusterFilter(
        id=clusters.by_uuid(call.session, call.get("id")).id if call.get("id") else None,
        name=call.get("name"),
        zone_id=zone.id if zone else None,
        pod_id=pod.id if pod else None,
        hypervisor=call.get("hypervisor"),
        cluster_type=call.get("clustertype"),
        allocation_state=call.get("allocationstate"),
        managed_state=call.get("managedstate"),
        keyword=call.get("keyword"),
    )
    found, total = clusters.search(call.session, wanted, paging.page(call))
    items = views.cluster_items(call.session, found)
    return responses.Listing("cluster", items, total)


def update_cluster(call: registry.Call) -> responses.Reply:
    cluster = _acted_on(call, clusters.by_uuid(call.session, call.get("id")))
    changes = clusters.ClusterChanges(
        name=call.get("clustername"),
        hypervisor=call.get("hypervisor"),
        cluster_type=call.get("clustertype"),
        allocation_state=call.get("allocationstate"),
        managed_state=call.get("managedstate"),
    )
    cluster = clusters.update(call.session, cluster, changes)
    return responses.Single("cluster", views.cluster_item(call.session, cluster))


def delete_cluster(call: registry.Call) -> responses.Reply:
    cluster = _acted_on(call, clusters.by_uuid(call.session, call.get("id")))
    clusters.delete(call.session, cluster)
    return responses.Success()


_IGNORED = tuple(
    P(name, T.STRING, f"{what} (VMware/OVM3 only; ignored)")
    for name, what in (
        ("guestvswitchname", "Name of virtual switch used for guest traffic"),
        ("guestvswitchtype", "Type of virtual switch used for guest traffic"),
        ("publicvswitchname", "Name of virtual switch used for public traffic"),
        ("publicvswitchtype", "Type of virtual switch used for public traffic"),
        ("vsmipaddress", "the ipaddress of the VSM associated with this cluster"),
        ("vsmusername", "the username for the VSM associated with this cluster"),
        ("vsmpassword", "the password for the VSM associated with this cluster"),
        ("ovm3cluster", "Ovm3 native OCFS2 clustering enabled for cluster"),
        ("ovm3pool", "Ovm3 native pooling enabled for cluster"),
        ("ovm3vip", "Ovm3 vip to use for pool (and cluster)"),
    )
)

COMMANDS = (
    registry.Command(
        "addCluster",
        add_cluster,
        "Adds a new cluster",
        (
            P("clustername", T.STRING, "the cluster name", required=True),
            P(
                "clustertype",
                T.STRING,
                "type of the cluster: CloudManaged, ExternalManaged",
                required=True,
            ),
            P(
                "hypervisor",
                T.STRING,
                "hypervisor type of the cluster: KVM, Simulator",
                required=True,
            ),
            P("podid", T.UUID, "the Pod ID for the host", required=True, related=("listPods",)),
            P(
                "zoneid",
                T.UUID,
                "the Zone ID for the cluster",
                required=True,
                related=("listZones",),
            ),
            P("allocationstate", T.STRING, "Allocation state of this cluster: Enabled or Disabled"),
            P("url", T.STRING, "the URL (ignored for KVM and Simulator)"),
            P("username", T.STRING, "the username for the cluster (ignored)"),
            P("password", T.STRING, "the password for the host (ignored)"),
            *_IGNORED,
        ),
        views.CLUSTER,
        authorized=registry.ADMINS,
        event="CLUSTER.CREATE",
    ),
    registry.Command(
        "listClusters",
        list_clusters,
        "Lists clusters.",
        (
            P("id", T.UUID, "lists clusters by the cluster ID", related=("listClusters",)),
            P("name", T.STRING, "lists clusters by the cluster name"),
            P("zoneid", T.UUID, "lists clusters by Zone ID", related=("listZones",)),
            P("podid", T.UUID, "lists clusters by Pod ID", related=("listPods",)),
            P("hypervisor", T.STRING, "lists clusters by hypervisor type"),
            P("clustertype", T.STRING, "lists clusters by cluster type"),
            P("allocationstate", T.STRING, "lists clusters by allocation state"),
            P("managedstate", T.STRING, "whether this cluster is managed by cloudstack"),
            P("showcapacities", T.BOOLEAN, "flag to display the capacity of the clusters"),
            *paging.PARAMS,
        ),
        views.CLUSTER,
        authorized=registry.ADMINS,
    ),
    registry.Command(
        "updateCluster",
        update_cluster,
        "Updates an existing cluster",
        (
            P("id", T.UUID, "the ID of the Cluster", required=True, related=("listClusters",)),
            P("clustername", T.STRING, "the cluster name"),
            P("clustertype", T.STRING, "the type of the cluster"),
            P("hypervisor", T.STRING, "hypervisor type of the cluster"),
            P("allocationstate", T.STRING, "Allocation state of this cluster"),
            P("managedstate", T.STRING, "whether this cluster is managed by cloudstack"),
        ),
        views.CLUSTER,
        authorized=registry.ADMINS,
        event="CLUSTER.EDIT",
    ),
    registry.Command(
        "deleteCluster",
        delete_cluster,
        "Deletes a cluster.",
        (P("id", T.UUID, "the cluster ID", required=True, related=("listClusters",)),),
        authorized=registry.ADMINS,
        event="CLUSTER.DELETE",
    ),
)
