"""addHost, listHosts, updateHost, deleteHost, prepareHostForMaintenance,
cancelHostMaintenance, and the simulator's configureSimulator."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from cirrostack.api import jobs, paging, registry, responses
from cirrostack.api.commands.common import P, T
from cirrostack.api.views import hosts as host_views
from cirrostack.api.views import infrastructure as views
from cirrostack.db import base, transactions
from cirrostack.db.models import infrastructure as models
from cirrostack.infrastructure import agents, clusters, hosts, maintenance, pods, simulation, zones
from cirrostack.states import bindings


def _agents(call: registry.Call) -> agents.Agents:
    """The server's agents, wired in by the composition root (``server.create_app``)."""
    return call.services.need_agents()


#: The jobs' instance type: the host bindings' resource type, which the reaper matches.
_HOST = bindings.HOST_RESOURCE_STATE.resource_type


def _acted_on(call: registry.Call, host: models.Host) -> models.Host:
    call.acted_on = ("Host", host.id, host.name)
    return host


def _host(call: registry.Call, host: models.Host) -> responses.Reply:
    return responses.Single("host", host_views.host_item(call.session, host))


def _new_host(args: dict[str, Any]) -> hosts.NewHost:
    return hosts.NewHost(
        url=args["url"],
        hypervisor=args["hypervisor"],
        cluster_id=args.get("clusterid"),
        cluster_name=args.get("clustername"),
        host_tags=args.get("hosttags") or [],
        allocation_state=args.get("allocationstate"),
        username=args.get("username"),
        password=args.get("password"),
    )


@dataclass(frozen=True)
class _Started:
    """What addHost's ``before`` step left: the inserted host and its agent's startup."""

    host_id: int
    startup: agents.Startup


def start_host(before: registry.Before) -> _Started:
    """addHost's ``before`` step: insert the host (a short transaction), then run the startup
    exchange with no transaction open; a failed startup removes the host again (another short
    transaction) and raises ResourceUnavailable."""
    connections = before.services.need_agents()
    new = _new_host(before.args)

    def insert(session: Session) -> agents.Target:
        zone = zones.by_uuid(session, before.args["zoneid"], "zoneid")
        pod = pods.by_uuid(session, before.args["podid"], "podid")
        return agents.target_of(
            session, hosts.insert(session, zone, pod, new, connections.backends)
        )

    target = transactions.run(before.sessions, insert, name="addHost")
    try:
        startup = hosts.start(connections, target)
    except Exception:
        connections.forget(target.guid)
        transactions.run(before.sessions, lambda s: hosts.discard(s, target.host_id))
        raise
    return _Started(target.host_id, startup)


def add_host(call: registry.Call) -> responses.Reply:
    started: _Started = call.prepared
    host = _acted_on(call, call.session.get_one(models.Host, started.host_id))
    hosts.finish(call.session, _agents(call), host, started.startup, _new_host(call.args))
    # CloudStack answers addHost with a list; Ansible reads host[0].
    return responses.Listing("host", [host_views.host_item(call.session, host)], 1)


def list_hosts(call: registry.Call) -> responses.Reply:
    wanted = hosts.HostFilter(
        id=hosts.by_uuid(call.session, call.get("id")).id if call.get("id") else None,
        name=call.get("name"),
        type=call.get("type"),
        zone_id=_id_of(call, "zoneid", zones.by_uuid),
        pod_id=_id_of(call, "podid", pods.by_uuid),
        cluster_id=_id_of(call, "clusterid", clusters.by_uuid),
        state=call.get("state"),
        resource_state=call.get("resourcestate"),
        hypervisor=call.get("hypervisor"),
        ha_host=call.get("hahost"),
        keyword=call.get("keyword"),
    )
    found, total = hosts.search(call.session, wanted, paging.page(call))
    return responses.Listing("host", host_views.host_items(call.session, found), total)


def update_host(call: registry.Call) -> responses.Reply:
    host = _acted_on(call, hosts.by_uuid(call.session, call.get("id")))
    changes = hosts.HostChanges(
        name=call.get("name"),
        allocation_state=call.get("allocationstate"),
        host_tags=call.get("hosttags"),
        os_category_id=call.get("oscategoryid"),
    )
    return _host(call, hosts.update(call.session, host, changes))


def delete_host(call: registry.Call) -> responses.Reply:
    host = _acted_on(call, hosts.by_uuid(call.session, call.get("id")))
    hosts.delete(call.session, _agents(call), host, forced=call.get("forced", False))
    return responses.Success()


def ask_maintenance(call: registry.Call) -> jobs.Instance:
    """At submit: the host goes PrepareForMaintenance together with its job."""
    host = _acted_on(call, hosts.by_uuid(call.session, call.get("id")))
    maintenance.ask_maintenance(call.session, host)
    return jobs.Instance(_HOST, host.id, host.uuid)


def enter_maintenance(call: registry.Call) -> responses.Reply:
    """In the job: the service drains the agent with no transaction open, then a fenced
    Maintenance (``maintenance.maintain``)."""
    host = hosts.by_uuid(call.session, call.get("id"))
    host = maintenance.maintain(call.session, _agents(call), host, call.job)
    return _host(call, _acted_on(call, host))


def find_host(call: registry.Call) -> jobs.Instance:
    """At submit: the host must exist (431 before any job otherwise)."""
    host = _acted_on(call, hosts.by_uuid(call.session, call.get("id")))
    return jobs.Instance(_HOST, host.id, host.uuid)


def cancel_maintenance(call: registry.Call) -> responses.Reply:
    host = _acted_on(call, hosts.by_uuid(call.session, call.get("id")))
    fence = call.job.fence() if call.job is not None else None
    return _host(call, maintenance.cancel_maintenance(call.session, host, fence))


def configure_simulator(call: registry.Call) -> responses.Reply:
    scope = simulation.Scope(
        zone_id=_id_of(call, "zoneid", zones.by_uuid),
        pod_id=_id_of(call, "podid", pods.by_uuid),
        cluster_id=_id_of(call, "clusterid", clusters.by_uuid),
        host_id=_id_of(call, "hostid", hosts.by_uuid),
    )
    count = simulation.configure(
        call.session,
        _agents(call),
        scope,
        call.get("name"),
        call.get("value"),
        call.get("count"),
    )
    return responses.Success(f"configured {count} simulated host(s)")


def _id_of(
    call: registry.Call, name: str, find: Callable[[Session, str, str], base.Entity]
) -> int | None:
    """The internal id of the live row a UUID parameter names (None when not given)."""
    uuid = call.get(name)
    return None if uuid is None else find(call.session, uuid, name).id


_ID = P("id", T.UUID, "the host ID", required=True, related=("listHosts",))

COMMANDS = (
    registry.Command(
        "addHost",
        add_host,
        "Adds a new host.",
        (
            P("zoneid", T.UUID, "the Zone ID for the host", required=True, related=("listZones",)),
            P("podid", T.UUID, "the Pod ID for the host", required=True, related=("listPods",)),
            P(
                "url",
                T.STRING,
                "the host URL: http://<name>[?cpunumber=..&memory=..]",
                required=True,
            ),
            P("hypervisor", T.STRING, "hypervisor type of the host", required=True),
            P("clusterid", T.UUID, "the cluster ID for the host", related=("listClusters",)),
            P("clustername", T.STRING, "the cluster name for the host (created if new)"),
            P("username", T.STRING, "the username for the host (unused by the simulator)"),
            P(
                "password",
                T.STRING,
                "the password for the host: for an agent process (url http[s]://H:P) its "
                "secret, from its agent.json; stored sealed, never shown",
            ),
            P("hosttags", T.LIST, "list of tags to be added to the host"),
            P("allocationstate", T.STRING, "Allocation state of this Host: Enabled or Disabled"),
        ),
        views.HOST,
        authorized=registry.ADMINS,
        event="HOST.CREATE",
        before=start_host,
    ),
    registry.Command(
        "listHosts",
        list_hosts,
        "Lists hosts.",
        (
            P("id", T.UUID, "the id of the host", related=("listHosts",)),
            P("name", T.STRING, "the name of the host"),
            P("type", T.STRING, "the host type (Routing)"),
            P("zoneid", T.UUID, "the Zone ID for the host", related=("listZones",)),
            P("podid", T.UUID, "the Pod ID for the host", related=("listPods",)),
            P("clusterid", T.UUID, "lists hosts existing in particular cluster"),
            P("state", T.STRING, "the state of the host"),
            P("resourcestate", T.STRING, "list hosts by resource state"),
            P("hypervisor", T.STRING, "hypervisor type of host: KVM, Simulator"),
            P("hahost", T.BOOLEAN, "if true, list only hosts dedicated to HA"),
            P("details", T.LIST, "comma separated list of host details requested (all shown)"),
            *paging.PARAMS,
        ),
        views.HOST,
        authorized=registry.ADMINS,
    ),
    registry.Command(
        "updateHost",
        update_host,
        "Updates a host.",
        (
            P("id", T.UUID, "the ID of the host to update", required=True, related=("listHosts",)),
            P("name", T.STRING, "the new name of the host"),
            P("allocationstate", T.STRING, "Change resource state of host: Enable or Disable"),
            P("hosttags", T.LIST, "list of tags to be added to the host"),
            P("oscategoryid", T.UUID, "the id of Os category to update the host with"),
            P("url", T.STRING, "the new uri for the secondary storage (unused)"),
        ),
        views.HOST,
        authorized=registry.ADMINS,
        event="HOST.UPDATE",
    ),
    registry.Command(
        "deleteHost",
        delete_host,
        "Deletes a host.",
        (
            _ID,
            P("forced", T.BOOLEAN, "Force delete the host even if it is not in maintenance"),
            P("forcedestroylocalstorage", T.BOOLEAN, "Force destroy local storage (unused)"),
        ),
        authorized=registry.ADMINS,
        event="HOST.DELETE",
    ),
    registry.Command(
        "prepareHostForMaintenance",
        enter_maintenance,
        "Prepares a host for maintenance.",
        (_ID,),
        views.HOST,
        is_async=True,
        authorized=registry.ADMINS,
        instance_type=_HOST,
        event="MAINT.PREPARE",
        prepare=ask_maintenance,
    ),
    registry.Command(
        "cancelHostMaintenance",
        cancel_maintenance,
        "Cancels host maintenance.",
        (_ID,),
        views.HOST,
        is_async=True,
        authorized=registry.ADMINS,
        instance_type=_HOST,
        event="MAINT.CANCEL",
        prepare=find_host,
    ),
    registry.Command(
        "configureSimulator",
        configure_simulator,
        "Configures simulated hosts to fail a command (result:fail) or not (result:success)",
        (
            P("name", T.STRING, "the command to configure, e.g. PingCommand", required=True),
            P("value", T.STRING, "result:fail or result:success", required=True),
            P("count", T.INTEGER, "how many times to fail (default: until result:success)"),
            P("zoneid", T.UUID, "configure the simulated hosts of this zone"),
            P("podid", T.UUID, "configure the simulated hosts of this pod"),
            P("clusterid", T.UUID, "configure the simulated hosts of this cluster"),
            P("hostid", T.UUID, "configure this simulated host"),
        ),
        authorized=registry.ADMINS,
    ),
)
