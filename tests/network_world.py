"""A zone with a guest physical network and networks on it, built through the API, and bare
VM rows to hang NICs on (shared by the network tests)."""

from __future__ import annotations

import itertools
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack.db.models import accounts as account_models
from cirrostack.db.models import compute, guest_os, infrastructure, offerings
from tests.cloud import Cloud

_VMS = itertools.count(1)


def finished(cloud: Cloud, command: str, **named: str) -> dict[str, Any]:
    """Run an async command as the admin; its job's result (which must succeed)."""
    answer = cloud.call(cloud.admin.keys, command, **named)
    job = cloud.job(cloud.admin.keys, answer)
    assert job["jobstatus"] == 1, job
    result: dict[str, Any] = job["jobresult"]
    return result


def zone(cloud: Cloud, name: str = "z1", networktype: str = "Advanced") -> str:
    created = cloud.ok(
        cloud.admin.keys,
        "createZone",
        name=name,
        dns1="8.8.8.8",
        internaldns1="10.0.0.1",
        networktype=networktype,
    )
    return str(created["zone"]["id"])


def guest_physical_network(cloud: Cloud, zone_id: str, vlan: str = "100-199") -> str:
    created = finished(
        cloud, "createPhysicalNetwork", name="phy1", zoneid=zone_id, vlan=vlan,
        isolationmethods="VLAN",
    )  # fmt: skip
    physical = str(created["physicalnetwork"]["id"])
    finished(
        cloud, "addTrafficType", physicalnetworkid=physical, traffictype="Guest",
        kvmnetworklabel="cloudbr1",
    )  # fmt: skip
    return physical


def offering_id(cloud: Cloud, name: str) -> str:
    listed = cloud.ok(cloud.admin.keys, "listNetworkOfferings", name=name)
    return str(listed["networkoffering"][0]["id"])


def shared_network(
    cloud: Cloud,
    zone_id: str,
    *,
    name: str = "shared1",
    vlan: str = "100",
    gateway: str = "10.1.1.1",
    netmask: str = "255.255.255.0",
    startip: str = "10.1.1.100",
    endip: str = "10.1.1.199",
    offering: str = "DefaultSharedNetworkOffering",
) -> dict[str, Any]:
    created = cloud.ok(
        cloud.admin.keys,
        "createNetwork",
        name=name,
        displaytext=name,
        zoneid=zone_id,
        networkofferingid=offering_id(cloud, offering),
        vlan=vlan,
        gateway=gateway,
        netmask=netmask,
        startip=startip,
        endip=endip,
    )
    network: dict[str, Any] = created["network"]
    return network


def vm_rows(session: Session, zone_uuid: str, account_id: int, count: int) -> list[int]:
    """``count`` bare Stopped VM rows of ``account_id`` in the zone (for NIC tests)."""
    zone = session.scalars(
        sa.select(infrastructure.DataCenter).where(infrastructure.DataCenter.uuid == zone_uuid)
    ).one()
    account = session.get_one(account_models.Account, account_id)
    os_id = session.scalars(sa.select(guest_os.GuestOs.id).limit(1)).one()
    offering = session.scalars(sa.select(offerings.ServiceOffering.id).limit(1)).one()
    made = []
    for _ in range(count):
        number = next(_VMS)
        vm = compute.VmInstance(
            name=f"vm{number}",
            instance_name=f"i-{account_id}-{number}-VM",
            type="User",
            vm_type="User",
            guest_os_id=os_id,
            service_offering_id=offering,
            data_center_id=zone.id,
            account_id=account.id,
            domain_id=account.domain_id,
            vnc_password="secret",
        )
        session.add(vm)
        session.flush()
        made.append(vm.id)
    return made


def service_offering(cloud: Cloud) -> None:
    cloud.ok(
        cloud.admin.keys, "createServiceOffering", name="small", displaytext="small",
        cpunumber="1", cpuspeed="500", memory="512",
    )  # fmt: skip
