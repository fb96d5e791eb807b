"""Every filter and ordering rule of the host planner, one test each, on every backend."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.allocators import hosts
from cirrostack.config import store
from cirrostack.config.definitions import Scope
from cirrostack.db.models import accounts, compute, guest_os, infrastructure, offerings
from tests import host_rows
from tests.conftest import Database
from tests.integration.test_host_planner import CPU, GIB, MEMORY, World, ask, set_global, world


def reasons(decision: hosts.HostDecision) -> dict[str, list[tuple[str, str]]]:
    return {v.host_name: [(r.code, r.text) for r in v.reasons] for v in decision.rejected}


def accepted(decision: hosts.HostDecision) -> list[str]:
    return [verdict.host_name for verdict in decision.accepted]


def test_state_type_and_resource_state(database: Database) -> None:
    with database.sessions() as session:
        place = world(session)
        host_rows.host(session, place.cluster, name="up")
        host_rows.host(session, place.cluster, name="down", status="Disconnected")
        host_rows.host(session, place.cluster, name="maint", resource_state="Maintenance")
        storage = host_rows.host(session, place.cluster, name="ssvm", host_type="SecondaryStorage")
        session.commit()
        decision = hosts.decide(session, ask(place))
        assert accepted(decision) == ["up"]
        assert reasons(decision) == {
            "down": [("state", "not Up (Disconnected)")],
            "maint": [("state", "not Enabled (Maintenance)")],
        }
        named = hosts.decide(session, ask(place, host_id=storage.id))
        assert reasons(named) == {"ssvm": [("type", "not a Routing host (SecondaryStorage)")]}


def test_disabled_zone_pod_cluster_and_the_admin_setting(database: Database) -> None:
    with database.sessions() as session:
        place = world(session)
        host_rows.host(session, place.cluster, name="h1")
        place.cluster.allocation_state = "Disabled"
        session.commit()
        assert reasons(hosts.decide(session, ask(place))) == {
            "h1": [("disabled", "its cluster is Disabled")]
        }
        assert not hosts.decide(session, ask(place, root_admin=True)).accepted
        set_global(session, "allow.admin.vm.on.disabled.resources", "true")
        session.commit()
        assert accepted(hosts.decide(session, ask(place, root_admin=True))) == ["h1"]
        assert not hosts.decide(session, ask(place)).accepted
        place.pod.allocation_state = "Disabled"
        place.cluster.allocation_state = "Enabled"
        session.commit()
        assert reasons(hosts.decide(session, ask(place))) == {
            "h1": [("disabled", "its pod is Disabled")]
        }


def test_hypervisor_and_host_tags_without_case(database: Database) -> None:
    with database.sessions() as session:
        place = world(session)
        host_rows.host(session, place.cluster, name="kvm", tags=["SSD", "gpu"])
        host_rows.host(session, place.cluster, name="xen", hypervisor="XenServer", tags=["ssd"])
        host_rows.host(session, place.cluster, name="plain")
        session.commit()
        decision = hosts.decide(session, ask(place, hypervisor="kvm", host_tags="ssd, GPU"))
        assert accepted(decision) == ["kvm"]
        assert reasons(decision) == {
            "xen": [
                ("hypervisor", "host runs XenServer, the template needs kvm"),
                ("host tags", "host tags ['ssd'] lack ['gpu']"),
            ],
            "plain": [("host tags", "host tags [] lack ['gpu', 'ssd']")],
        }
        assert sorted(accepted(hosts.decide(session, ask(place)))) == ["kvm", "plain", "xen"]


def test_cpu_capability_is_per_core_and_capacity_counts_reserved(database: Database) -> None:
    with database.sessions() as session:
        place = world(session)
        host_rows.host(session, place.cluster, name="slow", cpus=8, speed=1000)
        host_rows.host(session, place.cluster, name="few", cpus=1, speed=3000)
        busy = host_rows.host(session, place.cluster, name="busy", cpus=4, speed=2000, ram=4 * GIB)
        host_rows.set_used(session, busy.id, CPU, 4000, reserved=2500)
        host_rows.set_used(session, busy.id, MEMORY, 3 * GIB, reserved=512 << 20)
        session.commit()
        decision = hosts.decide(session, ask(place, cpus=2, speed=1500, memory=1 * GIB))
        assert reasons(decision) == {
            "slow": [("cpu capability", "2x1500 MHz asked, the host has 8x1000 MHz")],
            "few": [("cpu capability", "2x1500 MHz asked, the host has 1x3000 MHz")],
            "busy": [
                ("cpu", "2x1500 MHz asked, 1500 MHz free of 8000"),
                ("memory", "1024 MiB asked, 512 MiB free of 4096 MiB"),
            ],
        }


def test_cluster_thresholds_apply_when_enabled_or_on_first_deploy(database: Database) -> None:
    with database.sessions() as session:
        place = world(session)
        first = host_rows.host(session, place.cluster, name="h1", cpus=4, speed=1000, ram=10 * GIB)
        host_rows.set_used(session, first.id, MEMORY, 8 * GIB)
        store.write_scoped(
            session, store.Place(Scope.CLUSTER, place.cluster.id),
            "cluster.memory.allocated.capacity.disablethreshold", "0.85",
        )  # fmt: skip
        session.commit()
        decision = hosts.decide(session, ask(place, memory=1 * GIB))
        assert reasons(decision) == {
            "h1": [
                (
                    "cluster threshold",
                    "cluster memory 90% allocated with this VM > 85% "
                    "(cluster.memory.allocated.capacity.disablethreshold)",
                )
            ]
        }
        # A restart (the VM has run: a last host) with the thresholds off is not checked.
        set_global(session, "cluster.threshold.enabled", "false")
        session.commit()
        restart = ask(place, memory=1 * GIB, last_host_id=first.id)
        assert accepted(hosts.decide(session, restart)) == ["h1"]
        assert not hosts.decide(session, ask(place, memory=1 * GIB)).accepted


def test_avoid_set_requested_host_and_explain_scope(database: Database) -> None:
    with database.sessions() as session:
        place = world(session)
        one = host_rows.host(session, place.cluster, name="h1")
        two = host_rows.host(session, place.cluster, name="h2")
        host_rows.host(session, place.other, name="h3")
        session.commit()
        assert accepted(hosts.decide(session, ask(place, avoid=frozenset({one.id})))) != []
        assert "h1" in reasons(hosts.decide(session, ask(place, avoid=frozenset({one.id}))))
        only = hosts.decide(session, ask(place, host_id=two.id))
        assert accepted(only) == ["h2"] and not only.rejected
        placed = hosts.place(session, ask(place, host_id=two.id))
        assert placed.host.id == two.id
        every = hosts.decide(session, ask(place, cluster_id=place.cluster.id), every_host=True)
        assert reasons(every) == {"h3": [("scope", "not in the requested cluster")]}
        with pytest.raises(errors.InsufficientCapacity, match="in the avoid set"):
            hosts.place(session, ask(place, host_id=two.id, avoid=frozenset({two.id})))


def _spread(session: Session, place: World) -> tuple[infrastructure.Host, ...]:
    """c1: a (4000 MHz free), b (6000 free); c2: c (16000 free), d (1000 free)."""
    a = host_rows.host(session, place.cluster, name="a", cpus=4, speed=1000)
    b = host_rows.host(session, place.cluster, name="b", cpus=6, speed=1000)
    c = host_rows.host(session, place.other, name="c", cpus=16, speed=1000)
    d = host_rows.host(session, place.other, name="d", cpus=2, speed=1000)
    host_rows.set_used(session, d.id, CPU, 1000)
    for name in ("cluster.cpu.allocated.capacity.disablethreshold",
                 "cluster.memory.allocated.capacity.disablethreshold"):  # fmt: skip
        set_global(session, name, "1.0")
    return a, b, c, d


@pytest.mark.parametrize(
    ("algorithm", "order"),
    [
        ("firstfit", ["c", "d", "a", "b"]),
        ("firstfitleastconsumed", ["c", "d", "b", "a"]),
        ("userconcentratedpod_firstfit", ["c", "d", "a", "b"]),
    ],
)
def test_clusters_by_free_cpu_then_the_algorithm(
    database: Database, algorithm: str, order: list[str]
) -> None:
    with database.sessions() as session:
        place = world(session)
        _spread(session, place)
        set_global(session, "vm.allocation.algorithm", algorithm)
        session.commit()
        decision = hosts.decide(session, ask(place))
        assert decision.algorithm == algorithm and accepted(decision) == order


def test_clusters_by_free_ram(database: Database) -> None:
    with database.sessions() as session:
        place = world(session)
        _spread(session, place)
        host_rows.host(session, place.cluster, name="e", ram=64 * GIB)
        set_global(session, "vm.allocation.algorithm", "firstfit")
        set_global(session, "host.capacityType.to.order.clusters", "RAM")
        session.commit()
        assert accepted(hosts.decide(session, ask(place))) == ["a", "b", "e", "c", "d"]


def test_random_shuffles_within_a_cluster(database: Database) -> None:
    with database.sessions() as session:
        place = world(session)
        _spread(session, place)
        session.commit()
        orders = {tuple(accepted(hosts.decide(session, ask(place), seed=s))) for s in range(20)}
        assert len(orders) > 1
        assert all(order[:2] in (("c", "d"), ("d", "c")) for order in orders)


@dataclasses.dataclass(frozen=True)
class Owner:
    account: int
    domain: int
    guest_os: int
    offering: int


def _owner(session: Session) -> Owner:
    """A domain, an account, a guest OS and a service offering for VM rows."""
    domain = accounts.Domain(name="ROOT", path="/")
    category = guest_os.GuestOsCategory(name="Debian")
    session.add_all([domain, category])
    session.flush()
    account = accounts.Account(account_name="u1", type=0, domain_id=domain.id)
    os_row = guest_os.GuestOs(category_id=category.id, display_name="Debian 12")
    offering = offerings.ServiceOffering(name="small")
    session.add_all([account, os_row, offering])
    session.flush()
    return Owner(account.id, domain.id, os_row.id, offering.id)


def _vm(session: Session, host: infrastructure.Host, owner: Owner, name: str) -> None:
    session.add(
        compute.VmInstance(
            name=name, instance_name=f"i-{name}", state="Running", type="User", vm_type="User",
            guest_os_id=owner.guest_os, service_offering_id=owner.offering,
            data_center_id=host.data_center_id, pod_id=host.pod_id, host_id=host.id,
            account_id=owner.account, domain_id=owner.domain, vnc_password="x",
        )
    )  # fmt: skip


def test_userdispersing_puts_the_owners_emptiest_cluster_and_host_first(
    database: Database,
) -> None:
    with database.sessions() as session:
        place = world(session)
        a, _, c, d = _spread(session, place)
        owner = _owner(session)
        for n, host in enumerate((c, c, d, a)):
            _vm(session, host, owner, f"v{n}")
        set_global(session, "vm.allocation.algorithm", "userdispersing")
        session.commit()
        decision = hosts.decide(session, ask(place, account_id=owner.account))
        assert accepted(decision) == ["b", "a", "d", "c"]
        assert decision.accepted[0].factors["owner vms"] == 0.0


def test_userconcentratedpod_puts_the_owners_pods_first(database: Database) -> None:
    with database.sessions() as session:
        place = world(session)
        _spread(session, place)
        pod2 = infrastructure.HostPod(
            name="pod2", data_center_id=place.zone.id, gateway="10.0.1.1",
            cidr_address="10.0.1.0", cidr_size=24,
        )  # fmt: skip
        session.add(pod2)
        session.flush()
        far = infrastructure.Cluster(
            name="c3", pod_id=pod2.id, data_center_id=place.zone.id, hypervisor_type="KVM"
        )
        session.add(far)
        session.flush()
        lone = host_rows.host(session, far, name="lone", cpus=2, speed=1000)
        owner = _owner(session)
        _vm(session, lone, owner, "v1")
        set_global(session, "vm.allocation.algorithm", "userconcentratedpod_firstfit")
        session.commit()
        decision = hosts.decide(session, ask(place, account_id=owner.account))
        assert accepted(decision) == ["lone", "c", "d", "a", "b"]
