"""NIC allocation on guest networks (``network.nics``) on every backend: addresses from a
shared network's range or an isolated CIDR, MACs, release, lookups, the default network, and
the race of many allocations for few addresses on PostgreSQL and MariaDB."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa

from cirrostack import errors
from cirrostack.api.views import batch
from cirrostack.api.views import networks as network_views
from cirrostack.db.models import accounts as account_models
from cirrostack.db.models import network as models
from cirrostack.db.models import physical_network
from cirrostack.network import implement, nics
from cirrostack.states import gate
from tests import network_world as world
from tests.cloud import Cloud

SOURCE_NAT = "DefaultIsolatedNetworkOfferingWithSourceNatService"
MAC = re.compile(r"^02:00:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}$")


def _network(session: Any, uuid: str) -> models.Network:
    return session.scalars(sa.select(models.Network).where(models.Network.uuid == uuid)).one()


def _shared_cloud(cloud: Cloud, **named: str) -> tuple[str, dict[str, Any]]:
    zone = world.zone(cloud)
    world.guest_physical_network(cloud, zone)
    world.service_offering(cloud)
    return zone, world.shared_network(cloud, zone, **named)


def test_shared_network_with_a_range(cloud: Cloud) -> None:
    _zone, network = _shared_cloud(cloud)
    assert network["type"] == "Shared" and network["state"] == "Setup"
    assert network["broadcasturi"] == "vlan://100" and network["vlan"] == "100"
    assert network["acltype"] == "Domain" and network["subdomainaccess"] is True
    assert network["cidr"] == "10.1.1.0/24" and network["netmask"] == "255.255.255.0"
    assert network["gateway"] == "10.1.1.1" and network["tags"] == []
    assert network["canusefordeploy"] is True and network["traffictype"] == "Guest"
    services = {item["name"]: item["provider"] for item in network["service"]}
    assert services["Dhcp"] == [{"name": "VirtualRouter"}]
    with cloud.sessions() as session:
        row = _network(session, network["id"])
        assert row.guru_name == "DirectNetworkGuru" and row.related == row.id
        free = session.scalar(
            sa.select(sa.func.count())
            .select_from(models.UserIpAddress)
            .where(models.UserIpAddress.source_network_id == row.id)
        )
        assert free == 100
        vlan = session.scalars(sa.select(models.Vlan).where(models.Vlan.network_id == row.id)).one()
        assert vlan.vlan_type == "DirectAttached" and vlan.vlan_id == "vlan://100"
    listed = cloud.ok(cloud.admin.keys, "listNetworks", id=network["id"])
    assert listed["count"] == 1 and listed["network"][0] == network


def test_allocate_and_release_on_a_shared_network(cloud: Cloud) -> None:
    zone, network = _shared_cloud(cloud, startip="10.1.1.100", endip="10.1.1.102")
    with cloud.sessions() as session:
        row = _network(session, network["id"])
        vms = world.vm_rows(session, zone, 2, 4)
        first = nics.allocate(session, vm_id=vms[0], vm_type="User", network=row,
                              device_id=0, default=True)  # fmt: skip
        second = nics.allocate(session, vm_id=vms[1], vm_type="User", network=row,
                               device_id=0, default=True, requested_ip="10.1.1.102")  # fmt: skip
        assert first.ip4_address == "10.1.1.100" and second.ip4_address == "10.1.1.102"
        assert first.netmask == "255.255.255.0" and first.gateway == "10.1.1.1"
        assert first.broadcast_uri == "vlan://100" and first.isolation_uri == "vlan://100"
        assert MAC.match(first.mac_address or "") and first.mac_address != second.mac_address
        with pytest.raises(errors.InvalidParameterValue, match=r"10\.1\.1\.102"):
            nics.allocate(session, vm_id=vms[2], vm_type="User", network=row, device_id=0,
                          default=True, requested_ip="10.1.1.102")  # fmt: skip
        with pytest.raises(errors.InvalidParameterValue, match=r"10\.1\.1\.50"):
            nics.allocate(session, vm_id=vms[2], vm_type="User", network=row, device_id=0,
                          default=True, requested_ip="10.1.1.50")  # fmt: skip
        third = nics.allocate(session, vm_id=vms[2], vm_type="User", network=row,
                              device_id=0, default=True)  # fmt: skip
        assert third.ip4_address == "10.1.1.101"
        with pytest.raises(errors.InsufficientCapacity, match="Insufficient address capacity"):
            nics.allocate(session, vm_id=vms[3], vm_type="User", network=row, device_id=0,
                          default=True)  # fmt: skip
        claimed = session.scalars(
            sa.select(models.UserIpAddress).where(
                models.UserIpAddress.public_ip_address == "10.1.1.100"
            )
        ).one()
        assert claimed.state == "Allocated" and claimed.network_id == row.id
        found = nics.for_vms(session, vms)
        assert [nic.id for nic in found[vms[0]]] == [first.id] and vms[3] not in found
        items = network_views.nic_items(
            found[vms[0]], batch.by_id(session, models.Network, [row.id])
        )
        assert items[0]["ipaddress"] == "10.1.1.100" and items[0]["isdefault"] is True
        assert items[0]["networkid"] == network["id"] and items[0]["type"] == "Shared"
        assert items[0]["traffictype"] == "Guest" and items[0]["deviceid"] == "0"
        assert items[0]["networkname"] == "shared1" and items[0]["macaddress"] == first.mac_address
        nics.release(session, first)
        session.refresh(claimed)
        assert claimed.state == "Free" and claimed.network_id is None
        assert vms[0] not in nics.for_vms(session, vms)
        fourth = nics.allocate(session, vm_id=vms[3], vm_type="User", network=row,
                               device_id=0, default=True)  # fmt: skip
        assert fourth.ip4_address == "10.1.1.100"
        mapped = session.scalars(
            sa.select(models.VmNetworkMap.vm_id).where(models.VmNetworkMap.network_id == row.id)
        ).all()
        assert sorted(mapped) == sorted([vms[1], vms[2], vms[3]])
        session.commit()
    answer = cloud.call(cloud.admin.keys, "deleteNetwork", id=network["id"])
    job = cloud.job(cloud.admin.keys, answer)
    assert job["jobstatus"] == 2 and job["jobresultcode"] == 536, job
    assert "3 NIC(s)" in job["jobresult"]["errortext"]


def test_isolated_network_addresses_come_from_its_cidr(cloud: Cloud) -> None:
    zone = world.zone(cloud)
    world.guest_physical_network(cloud, zone)
    world.service_offering(cloud)
    created = cloud.ok(
        cloud.admin.keys, "createNetwork", name="iso", displaytext="iso", zoneid=zone,
        networkofferingid=world.offering_id(cloud, SOURCE_NAT),
        gateway="192.168.5.1", netmask="255.255.255.248",
    )["network"]  # fmt: skip
    assert created["type"] == "Isolated" and created["state"] == "Allocated"
    assert created["cidr"] == "192.168.5.0/29" and "broadcasturi" not in created
    assert created["acltype"] == "Account" and created["account"] == "admin"
    with cloud.sessions() as session:
        row = _network(session, created["id"])
        assert row.guru_name == "ExternalGuestNetworkGuru"
        vms = world.vm_rows(session, zone, 2, 7)
        got = [
            nics.allocate(session, vm_id=vm, vm_type="User", network=row, device_id=0,
                          default=True).ip4_address
            for vm in vms[:5]
        ]  # fmt: skip
        assert got == [f"192.168.5.{n}" for n in (2, 3, 4, 5, 6)]
        with pytest.raises(errors.InsufficientCapacity):
            nics.allocate(session, vm_id=vms[5], vm_type="User", network=row, device_id=0,
                          default=True)  # fmt: skip
        with pytest.raises(errors.InvalidParameterValue):
            nics.allocate(session, vm_id=vms[5], vm_type="User", network=row, device_id=0,
                          default=True, requested_ip="192.168.6.2")  # fmt: skip


def test_l2_network_nics_have_no_address(cloud: Cloud) -> None:
    zone = world.zone(cloud)
    world.guest_physical_network(cloud, zone)
    world.service_offering(cloud)
    created = cloud.ok(
        cloud.admin.keys, "createNetwork", name="l2", displaytext="l2", zoneid=zone,
        networkofferingid=world.offering_id(cloud, "DefaultL2NetworkOfferingVlan"), vlan="300",
    )["network"]  # fmt: skip
    assert created["type"] == "L2" and created["broadcasturi"] == "vlan://300"
    assert "cidr" not in created and created["state"] == "Setup"
    with cloud.sessions() as session:
        row = _network(session, created["id"])
        vm = world.vm_rows(session, zone, 2, 1)[0]
        nic = nics.allocate(session, vm_id=vm, vm_type="User", network=row, device_id=0,
                            default=True)  # fmt: skip
        assert nic.ip4_address is None and nic.broadcast_uri == "vlan://300"
        item = network_views.nic_items([nic], [row])[0]
        assert "ipaddress" not in item and item["type"] == "L2"


def test_default_network_is_the_domain_shared_one_for_an_account_without_networks(
    cloud: Cloud,
) -> None:
    _zone, network = _shared_cloud(cloud)
    domain = cloud.domain("D")
    user = cloud.member("u", domain)
    with cloud.sessions() as session:
        account = session.scalars(
            sa.select(account_models.Account).where(account_models.Account.uuid == user.account_id)
        ).one()
        zone_id = _network(session, network["id"]).data_center_id
        chosen = nics.default_network(session, zone_id, account.id)
        assert chosen is not None and chosen.uuid == network["id"]
    # The user sees the domain-wide network it may deploy on.
    listed = cloud.ok(user.keys, "listNetworks")
    assert [item["id"] for item in listed["network"]] == [network["id"]]
    assert "broadcasturi" not in listed["network"][0]


def test_implement_gives_an_isolated_network_a_vlan_and_delete_releases_it(
    cloud: Cloud,
) -> None:
    zone = world.zone(cloud)
    world.guest_physical_network(cloud, zone, vlan="700-701")
    made = [
        cloud.ok(cloud.admin.keys, "createNetwork", name=f"iso{n}", zoneid=zone,
                 networkofferingid=world.offering_id(cloud, SOURCE_NAT))["network"]["id"]
        for n in range(3)
    ]  # fmt: skip
    with cloud.sessions() as session:
        rows = [_network(session, uuid) for uuid in made]
        implement.implement(session, rows[0], gate.SYSTEM)
        implement.implement(session, rows[1], gate.SYSTEM)
        assert [r.state for r in rows[:2]] == ["Implemented", "Implemented"]
        assert {r.broadcast_uri for r in rows[:2]} == {"vlan://700", "vlan://701"}
        with pytest.raises(errors.InsufficientCapacity, match="no free guest VLAN"):
            implement.implement(session, rows[2], gate.SYSTEM)
        session.rollback()
    with cloud.sessions() as session:
        first = _network(session, made[0])
        implement.implement(session, first, gate.SYSTEM)
        session.commit()
        vlan = first.broadcast_uri
    world.finished(cloud, "deleteNetwork", id=made[0])
    with cloud.sessions() as session:
        left = session.scalars(sa.select(physical_network.VnetAllocation.vnet)).all()
        assert left == []
        assert _network(session, made[0]).state == "Destroy"
    assert vlan == "vlan://700"
