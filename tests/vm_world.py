"""A zone that can run VMs, built through the API and the real simulator: one pod, one
cluster of simulated hosts, a SharedMountPoint pool its hosts share, a qcow2 template Ready
on an NFS image store, a service offering. Shared by the VM integration tests.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from cirrostack.agent import qemu_img as qemu
from cirrostack.agent.backends import simulator
from cirrostack.db import base
from cirrostack.db.models import capacity, guest_os, templates
from cirrostack.db.models import infrastructure as infra
from cirrostack.db.models import storage as models
from cirrostack.protocol import storage as protocol
from cirrostack.storage import pool_targets
from tests.cloud import Cloud, content

GIB = 1024**3
MIB = 1024**2


class World:
    def __init__(
        self,
        cloud: Cloud,
        qemu_img: qemu.QemuImg,
        hosts: int = 2,
        knobs: str = "cpunumber=4&cpuspeed=1000&memory=4294967296",
    ) -> None:
        self.cloud = cloud
        self.qemu = qemu_img
        admin = cloud.admin.keys
        self.zone = cloud.ok(
            admin,
            "createZone",
            name="z1",
            dns1="8.8.8.8",
            internaldns1="10.0.0.1",
            networktype="Advanced",
        )["zone"]["id"]
        pod = cloud.ok(
            admin,
            "createPod",
            name="p1",
            zoneid=self.zone,
            gateway="172.16.0.1",
            netmask="255.255.255.0",
            startip="172.16.0.10",
            endip="172.16.0.200",
        )["pod"]["id"]
        self.cluster = cloud.ok(
            admin,
            "addCluster",
            clustername="c1",
            clustertype="CloudManaged",
            hypervisor="Simulator",
            zoneid=self.zone,
            podid=pod,
        )["cluster"][0]["id"]
        self.hosts: list[str] = []
        for number in range(1, hosts + 1):
            added = cloud.ok(
                admin,
                "addHost",
                zoneid=self.zone,
                podid=pod,
                clusterid=self.cluster,
                hypervisor="Simulator",
                url=f"http://sim-{number}?{knobs}",
            )
            self.hosts.append(added["host"][0]["id"])
        self.offering = cloud.ok(
            admin,
            "createServiceOffering",
            name="small",
            displaytext="small",
            cpunumber="1",
            cpuspeed="1000",
            memory="1024",
        )["serviceoffering"]["id"]
        self.disk_offering = cloud.ok(
            admin, "createDiskOffering", name="one", displaytext="one", disksize="1"
        )["diskoffering"]["id"]
        self.pool_id = self._pool()
        self.template_id, self.template = self._template(64 * MIB)

    def _pool(self) -> int:
        with self.cloud.sessions() as session:
            cluster_row = session.scalars(sa.select(infra.Cluster)).one()
            pool = models.StoragePool(
                name="pool1",
                pool_type="SharedMountPoint",
                host_address="localhost",
                path="/pool1",
                data_center_id=cluster_row.data_center_id,
                pod_id=cluster_row.pod_id,
                cluster_id=cluster_row.id,
                scope="CLUSTER",
                hypervisor="Simulator",
                capacity_bytes=100 * GIB,
                used_bytes=0,
                status="Up",
                created=base.utcnow(),
            )
            session.add(pool)
            session.flush()
            session.add(
                capacity.HostCapacity(
                    host_id=pool.id,
                    data_center_id=pool.data_center_id,
                    pod_id=pool.pod_id,
                    cluster_id=pool.cluster_id,
                    used_capacity=0,
                    total_capacity=100 * GIB,
                    capacity_type=3,
                    created=base.utcnow(),
                )
            )
            session.commit()
            pool_id = pool.id
            target = pool_targets.target_for(session, pool)
            store = pool_targets.store_of(pool)
        connect = protocol.ModifyStoragePoolCommand(add=True, pool=store)
        pool_targets.exchange(self.cloud.agents, target, connect, protocol.ModifyStoragePoolAnswer)
        return pool_id

    def _template(self, size: int) -> tuple[int, str]:
        export = self.common / "_nfs" / "nfs1" / "export"
        with self.cloud.sessions() as session:
            store = models.ImageStore(
                name="nfs1",
                protocol="nfs",
                url="nfs://nfs1/export",
                image_provider_name="NFS",
                data_center_id=session.scalars(sa.select(infra.DataCenter.id)).one(),
                scope="ZONE",
                role="Image",
            )
            os_id = session.scalars(sa.select(guest_os.GuestOs.id).limit(1)).one()
            template = templates.VmTemplate(
                name="tiny",
                unique_name="tiny",
                format="QCOW2",
                account_id=1,
                guest_os_id=os_id,
                hypervisor_type="Simulator",
                size=size,
                public=True,
                featured=True,
                state="Active",
            )
            session.add_all([store, template])
            session.flush()
            path = f"template/tmpl/1/{template.id}/{template.uuid}.qcow2"
            session.add(
                templates.TemplateStoreRef(
                    store_id=store.id,
                    template_id=template.id,
                    install_path=path,
                    size=size,
                    physical_size=0,
                    state="Ready",
                    download_state="DOWNLOADED",
                    created=base.utcnow(),
                )
            )
            session.commit()
            file = export / path
            file.parent.mkdir(parents=True, exist_ok=True)
            self.qemu.create(file, "qcow2", size)
            return template.id, template.uuid

    @property
    def common(self) -> Path:
        return Path(self.cloud.agents.fleet.common())  # type: ignore[attr-defined]

    @property
    def pool_dir(self) -> Path:
        return self.common / "_shared" / "pool1"

    def pool_files(self) -> set[str]:
        """The volume files on the pool (the templates directory aside)."""
        if not self.pool_dir.exists():
            return set()
        with self.cloud.sessions() as session:
            copies = set(session.scalars(sa.select(templates.TemplateSpoolRef.install_path)))
        names = {path.name for path in self.pool_dir.iterdir() if not path.name.startswith(".")}
        return {name for name in names if name not in copies}

    def sim(self, index: int) -> simulator.SimulatedHost:
        with self.cloud.sessions() as session:
            guid = session.scalars(
                sa.select(infra.Host.guid).where(infra.Host.uuid == self.hosts[index])
            ).one()
        found = self.cloud.agents.fleet.get(guid)  # type: ignore[attr-defined]
        assert isinstance(found, simulator.SimulatedHost)
        return found

    def host_used(self) -> dict[str, tuple[int, int]]:
        """Each host's (used, reserved) CPU MHz."""
        with self.cloud.sessions() as session:
            rows = session.execute(
                sa.select(
                    infra.Host.uuid,
                    capacity.HostCapacity.used_capacity,
                    capacity.HostCapacity.reserved_capacity,
                )
                .join(infra.Host, infra.Host.id == capacity.HostCapacity.host_id)
                .where(capacity.HostCapacity.capacity_type == 1)
            ).all()
        return {str(uuid): (int(used), int(reserved)) for uuid, used, reserved in rows}

    def deploy(self, keys: Any = None, **more: str) -> tuple[str, dict[str, Any]]:
        """deployVirtualMachine; the VM's id and the finished job."""
        keys = keys or self.cloud.admin.keys
        answer = self.cloud.call(
            keys,
            "deployVirtualMachine",
            zoneid=self.zone,
            serviceofferingid=self.offering,
            templateid=self.template,
            **more,
        )
        assert answer.status == 200, answer.body
        vm_id = str(content(answer)["id"])
        return vm_id, self.finished(keys, answer)

    def finished(self, keys: Any, answer: Any) -> dict[str, Any]:
        """The job's result once it has finished: with inline jobs a parallel request's
        thread may be the one running it (its own request then returns first)."""
        deadline = time.monotonic() + 120
        while True:
            job = self.cloud.job(keys, answer)
            if job["jobstatus"] != 0 or time.monotonic() > deadline:
                return job
            time.sleep(0.1)

    def run(self, command: str, keys: Any = None, **named: str) -> dict[str, Any]:
        keys = keys or self.cloud.admin.keys
        answer = self.cloud.call(keys, command, **named)
        assert answer.status == 200, answer.body
        return self.cloud.job(keys, answer)

    def vm(self, vm_id: str, keys: Any = None) -> dict[str, Any]:
        listed = self.cloud.ok(keys or self.cloud.admin.keys, "listVirtualMachines", id=vm_id)
        found: dict[str, Any] = listed["virtualmachine"][0]
        return found


def shared_network(world: World, first: str = "10.1.0.10", last: str = "10.1.0.11") -> str:
    """A shared guest network with addresses ``first``..``last`` (for every account)."""
    cloud, admin = world.cloud, world.cloud.admin.keys
    physical = cloud.job(
        admin, cloud.call(admin, "createPhysicalNetwork", name="phy", zoneid=world.zone)
    )["jobresult"]["physicalnetwork"]["id"]
    cloud.job(
        admin,
        cloud.call(admin, "addTrafficType", physicalnetworkid=physical, traffictype="Guest"),
    )
    offering = cloud.ok(admin, "listNetworkOfferings", name="DefaultSharedNetworkOffering")
    network = cloud.ok(
        admin,
        "createNetwork",
        name="guests",
        zoneid=world.zone,
        networkofferingid=offering["networkoffering"][0]["id"],
        vlan="100",
        gateway="10.1.0.1",
        netmask="255.255.255.0",
        startip=first,
        endip=last,
    )
    return str(network["network"]["id"])
