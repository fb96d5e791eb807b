"""The demo cloud: what ``cirrostack serve --demo`` seeds, once, for a first look.

A zone, a pod, a cluster and two simulated hosts, with the offerings CloudStack's simulator
image has (service offerings "Small Instance" and "Medium Instance", disk offering "Custom"),
so the examples of CloudStack's documentation and Ansible's integration tests find them.
Everything is made through the same services the API uses, as the admin. Its storage (two
primary pools, an image store, the built-in template) is ``demo_storage``'s.

"Once": the demo is seeded only if no zone of its name has ever existed (deleted ones count),
so deleting the demo cloud is not undone by the next start.

The two hosts are simulated **in the server's process** (their urls name no port): ``./run``
stays one command, opens no port but the API's, starts no other process and leaves nothing
running or to clean up when the server stops. A host whose agent is a ``cirrostack agent``
process is added to the demo's cluster like any other (README, "Running an agent";
docs/agents.md, "The demo's hosts").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import demo_network
from cirrostack.accounts import access, bootstrap
from cirrostack.db.models import accounts as account_models
from cirrostack.db.models import infrastructure as infra_models
from cirrostack.infrastructure import agents, clusters, hosts, pods, zones
from cirrostack.offerings import disk_offerings, service_offerings

ZONE = "Sandbox-simulator-advanced"
POD = "Sandbox-simulator-pod"
CLUSTER = "Sandbox-simulator-cluster"
HOST_URLS = (
    "http://sim-host-1?cpunumber=8&cpuspeed=2400&memory=17179869184",
    "http://sim-host-2?cpunumber=8&cpuspeed=2400&memory=17179869184",
)
#: CloudStack's default compute offerings: (name, display text, cores, MHz, MiB).
SERVICE_OFFERINGS = (
    ("Small Instance", "Small Instance", 1, 500, 512),
    ("Medium Instance", "Medium Instance", 1, 1000, 1024),
)


@dataclass(frozen=True)
class Seeded:
    """What ``ensure`` found or made."""

    created: bool
    zone: str
    hosts: Sequence[str]


def ensure(session: Session, fleet: agents.Agents) -> Seeded:
    """Seed the demo cloud unless it was seeded before; the caller commits."""
    if _ever_existed(session):
        return Seeded(False, ZONE, ())
    admin = access.caller_of(session, session.get_one(account_models.User, bootstrap.ADMIN_USER_ID))
    zone = zones.create(
        session, zones.NewZone(ZONE, "8.8.8.8", "10.147.28.6", network_type="Advanced")
    )
    pod = pods.create(
        session,
        zone,
        pods.NewPod(POD, "172.16.15.1", "255.255.255.0", "172.16.15.10", "172.16.15.200"),
    )
    cluster = clusters.create(
        session, pod, clusters.NewCluster(CLUSTER, "Simulator", "CloudManaged")
    )
    added = [
        hosts.add(session, fleet, zone, pod, hosts.NewHost(url, "Simulator", cluster.uuid))
        for url in HOST_URLS
    ]
    _offerings(session, admin)
    demo_network.ensure(session, admin, zone)
    return Seeded(True, ZONE, [host.name for host in added])


def _ever_existed(session: Session) -> bool:
    return (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(infra_models.DataCenter)
            .where(infra_models.DataCenter.name == ZONE)
        )
        or 0
    ) > 0


def _offerings(session: Session, admin: access.Caller) -> None:
    for name, text, cores, speed, memory in SERVICE_OFFERINGS:
        service_offerings.create(
            session,
            admin,
            service_offerings.NewServiceOffering(
                name, text, service_offerings.Compute(cores, speed, memory)
            ),
        )
    disk_offerings.create(
        session, admin, disk_offerings.NewDiskOffering("Custom", "Custom Disk", customized=True)
    )


def example(url: str) -> str:
    """What to type next, printed by ``serve --demo``."""
    return (
        f"demo cloud: zone {ZONE}, 2 simulated hosts (in this process), offerings "
        f"{', '.join(name for name, *_ in SERVICE_OFFERINGS)} and Custom, primary pools "
        "demo-primary-cluster and demo-primary-zone, image store demo-secondary, shared network "
        f"{demo_network.NETWORK} and the "
        "built-in template (files under the data directory's simulator/). Try:\n"
        '  eval "$(.venv/bin/cirrostack env)"\n'
        "  .venv/bin/cs listZones\n"
        "  .venv/bin/cs listHosts\n"
        "  .venv/bin/cs listServiceOfferings\n"
        "  .venv/bin/cs listStoragePools\n"
        "  .venv/bin/cs listNetworks\n"
        "  .venv/bin/cs listTemplates templatefilter=featured\n"
        f"(the API is at {url})"
    )
