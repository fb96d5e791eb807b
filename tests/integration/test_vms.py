"""VMs end to end over the test app: deploy (records, planner, volumes on the pool, the
simulator's StartCommand), list, stop, start, reboot, destroy, recover, expunge, and the
failure paths: an agent that refuses is retried on another host; when every host refuses a
first deploy ends in Error with nothing left on the pool and everything released.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from cirrostack.agent import qemu_img as qemu
from cirrostack.api import registry
from cirrostack.compute import vm_start
from cirrostack.db.models import compute, events
from cirrostack.db.models import storage as models
from cirrostack.infrastructure import monitor
from cirrostack.jobs import reaper
from cirrostack.protocol import compute as protocol
from tests import job_seam, vm_world
from tests.cloud import Cloud
from tests.vm_world import GIB, World


@pytest.fixture
def world(cloud: Cloud, qemu_img: qemu.QemuImg) -> World:
    return World(cloud, qemu_img)


def _usage(world: World) -> list[str]:
    with world.cloud.sessions() as session:
        return list(
            session.scalars(sa.select(events.UsageEvent.type).order_by(events.UsageEvent.id))
        )


def test_deploy_runs_the_vm_on_a_host_with_its_root_disk_on_the_pool(world: World) -> None:
    vm_id, job = world.deploy(name="web-1", displayname="Web one")
    assert job["jobstatus"] == 1, job
    shown = job["jobresult"]["virtualmachine"]
    assert shown["id"] == vm_id and shown["state"] == "Running"
    assert shown["name"] == "web-1" and shown["displayname"] == "Web one"
    assert shown["cpunumber"] == 1 and shown["cpuspeed"] == 1000 and shown["memory"] == 1024
    assert shown["nic"] == [] and shown["tags"] == [] and shown["rootdeviceid"] == 0
    assert shown["hostid"] in world.hosts and shown["templateid"] == world.template
    listed = world.vm(vm_id)
    assert listed["state"] == "Running" and listed["instancename"].startswith("i-2-")
    running = {sim for i in range(2) for sim in world.sim(i).domains.running()}
    assert running == {listed["instancename"]}
    root = world.cloud.ok(world.cloud.admin.keys, "listVolumes", virtualmachineid=vm_id)["volume"]
    assert [(v["type"], v["state"], v["deviceid"], v["vmname"]) for v in root] == [
        ("ROOT", "Ready", 0, "web-1")
    ]
    assert root[0]["vmstate"] == "Running" and root[0]["size"] == GIB
    assert world.pool_files() == {root[0]["path"]}
    assert world.host_used()[shown["hostid"]] == (1000, 0)
    assert _usage(world) == ["VOLUME.CREATE", "VM.CREATE", "VM.START"]
    with world.cloud.sessions() as session:
        kinds = set(session.scalars(sa.select(events.Event.type)))
    assert {"VM.CREATE", "VM.STATE", "VOLUME.STATE"} <= kinds


def test_stop_start_reboot_and_destroy_with_expunge(world: World) -> None:
    vm_id, _ = world.deploy(name="app")
    host = world.vm(vm_id)["hostid"]
    stopped = world.run("stopVirtualMachine", id=vm_id)["jobresult"]["virtualmachine"]
    assert stopped["state"] == "Stopped" and "hostid" not in stopped
    assert world.host_used()[host] == (0, 1000)  # used moved to reserved
    assert not any(world.sim(i).domains.running() for i in range(2))
    started = world.run("startVirtualMachine", id=vm_id)["jobresult"]["virtualmachine"]
    assert started["state"] == "Running"
    assert sum(used for used, _ in world.host_used().values()) == 1000
    assert sum(reserved for _, reserved in world.host_used().values()) == 0
    rebooted = world.run("rebootVirtualMachine", id=vm_id)
    assert rebooted["jobstatus"] == 1, rebooted
    gone = world.run("destroyVirtualMachine", id=vm_id, expunge="true")
    assert gone["jobstatus"] == 1, gone
    listed = world.cloud.ok(world.cloud.admin.keys, "listVirtualMachines", id=vm_id)
    assert listed == {}
    assert world.pool_files() == set()
    assert world.host_used() == {h: (0, 0) for h in world.hosts}
    assert not any(world.sim(i).domains.running() for i in range(2))
    kinds = _usage(world)
    assert kinds.count("VM.START") == 2 and "VM.STOP" in kinds and "VM.DESTROY" in kinds
    assert kinds[-1] == "VOLUME.DELETE"


def test_destroy_then_recover_then_expunge(world: World) -> None:
    vm_id, _ = world.deploy(name="keep", diskofferingid=world.disk_offering)
    volumes = world.cloud.ok(world.cloud.admin.keys, "listVolumes", virtualmachineid=vm_id)
    data = next(v for v in volumes["volume"] if v["type"] == "DATADISK")
    assert data["deviceid"] == 1 and data["state"] == "Ready"
    destroyed = world.run("destroyVirtualMachine", id=vm_id)["jobresult"]["virtualmachine"]
    assert destroyed["state"] == "Destroyed"
    kept = world.cloud.ok(world.cloud.admin.keys, "listVolumes", id=data["id"])["volume"][0]
    assert "virtualmachineid" not in kept  # data disks are detached, not deleted
    recovered = world.cloud.ok(world.cloud.admin.keys, "recoverVirtualMachine", id=vm_id)
    assert recovered["virtualmachine"]["state"] == "Stopped"
    world.run("destroyVirtualMachine", id=vm_id)
    assert world.run("expungeVirtualMachine", id=vm_id)["jobstatus"] == 1
    with world.cloud.sessions() as session:
        row = session.scalars(sa.select(compute.VmInstance)).one()
        assert row.removed is not None
    assert world.pool_files() == {kept["path"]}  # only the detached data disk is left


def test_a_refusing_host_is_avoided_and_the_start_retried_on_another(world: World) -> None:
    world.sim(0).fail("StartCommand")
    vm_id, job = world.deploy(name="retry")
    assert job["jobstatus"] == 1, job
    assert world.vm(vm_id)["hostid"] == world.hosts[1]
    assert world.host_used()[world.hosts[0]] == (0, 0)
    assert world.host_used()[world.hosts[1]] == (1000, 0)


def test_when_every_host_refuses_the_first_deploy_ends_in_error_and_leaves_nothing(
    world: World,
) -> None:
    for index in range(2):
        world.sim(index).fail("StartCommand")
    vm_id, job = world.deploy(name="doomed")
    assert job["jobstatus"] == 2
    text = job["jobresult"]["errortext"]
    assert "Unable to start instance 'doomed'" in text and "StartCommand failed" in text
    assert text.count("StartCommand failed") == 2  # one attempt per host, then none left
    assert world.vm(vm_id)["state"] == "Error"
    assert world.pool_files() == set()
    assert world.host_used() == {h: (0, 0) for h in world.hosts}
    with world.cloud.sessions() as session:
        volume_states = session.scalars(sa.select(models.Volume.state)).all()
        assert set(volume_states) == {"Expunged"}
    listed = world.cloud.ok(world.cloud.admin.keys, "listVolumes")
    assert listed == {}
    assert world.run("destroyVirtualMachine", id=vm_id)["jobstatus"] == 1
    assert world.cloud.ok(world.cloud.admin.keys, "listVirtualMachines") == {}


def test_a_start_of_a_stopped_vm_that_fails_leaves_it_stopped(world: World) -> None:
    vm_id, _ = world.deploy(name="later", startvm="false")
    assert world.vm(vm_id)["state"] == "Stopped"
    assert world.pool_files() == set()  # nothing made before the start
    for index in range(2):
        world.sim(index).fail("StartCommand")
    job = world.run("startVirtualMachine", id=vm_id)
    assert job["jobstatus"] == 2 and job["jobresultcode"] == 534
    assert world.vm(vm_id)["state"] == "Stopped"
    assert world.host_used() == {h: (0, 0) for h in world.hosts}


def test_host_names_are_checked_and_unique_per_account(world: World) -> None:
    answer = world.cloud.call(
        world.cloud.admin.keys,
        "deployVirtualMachine",
        zoneid=world.zone,
        serviceofferingid=world.offering,
        templateid=world.template,
        name="1-bad-",
    )
    assert answer.status == 431 and "Invalid name" in str(answer.body)
    world.deploy(name="Same", startvm="false")
    again = world.cloud.call(
        world.cloud.admin.keys,
        "deployVirtualMachine",
        zoneid=world.zone,
        serviceofferingid=world.offering,
        templateid=world.template,
        name="same",
    )
    assert again.status == 431 and "already exists" in str(again.body)


def test_a_users_vm_is_invisible_to_another_user(world: World) -> None:
    alice = world.cloud.member("alice", world.cloud.root_id)
    bob = world.cloud.member("bob", world.cloud.root_id)
    vm_id, job = world.deploy(alice.keys, name="mine", startvm="false")
    assert job["jobstatus"] == 1, job
    assert world.cloud.ok(bob.keys, "listVirtualMachines") == {}
    answer = world.cloud.call(bob.keys, "stopVirtualMachine", id=vm_id)
    assert answer.status == 431 and "Unable to find virtual machine" in str(answer.body)
    mine = world.cloud.ok(alice.keys, "listVirtualMachines")["virtualmachine"]
    assert [vm["id"] for vm in mine] == [vm_id] and "hostid" not in mine[0]


def test_bad_user_data_is_refused(world: World) -> None:
    answer = world.cloud.call(
        world.cloud.admin.keys,
        "deployVirtualMachine",
        zoneid=world.zone,
        serviceofferingid=world.offering,
        templateid=world.template,
        userdata="not base64!",
    )
    assert answer.status == 431 and "base64" in str(answer.body)


class _Died(Exception):
    pass


class _DiesAfterPlanning(job_seam.TestJob):
    """A start job whose worker dies right after its first checkpoint (host claimed, VM
    Starting committed)."""

    def checkpoint(self) -> None:
        super().checkpoint()
        raise _Died


def test_the_reaper_puts_a_dead_start_back_to_stopped_with_its_capacity_released(
    world: World,
) -> None:
    vm_id, _ = world.deploy(name="orphan", startvm="false")
    with world.cloud.sessions() as session:
        vm = session.scalars(sa.select(compute.VmInstance)).one()
        with pytest.raises(_Died):
            vm_start.start(
                session,
                world.cloud.sessions,
                registry.Services(agents=world.cloud.agents),
                _DiesAfterPlanning(session),
                vm.id,
                vm_start.Start(None),
            )
    assert world.vm(vm_id)["state"] == "Starting"
    assert sum(used for used, _ in world.host_used().values()) == 1000
    swept = reaper.sweep(world.cloud.sessions, max_attempts=3)
    assert any(vm_id in label for label in swept.recovered), swept
    shown = world.vm(vm_id)
    assert shown["state"] == "Stopped" and "hostid" not in shown
    assert world.host_used() == {h: (0, 0) for h in world.hosts}
    assert world.run("startVirtualMachine", id=vm_id)["jobstatus"] == 1  # and it starts again


def test_a_vm_gets_a_nic_on_its_network_and_gives_the_address_back(world: World) -> None:
    network = vm_world.shared_network(world)
    vm_id, job = world.deploy(name="netted", networkids=network, ipaddress="10.1.0.11")
    assert job["jobstatus"] == 1, job
    (nic,) = world.vm(vm_id)["nic"]
    assert nic["networkid"] == network and nic["ipaddress"] == "10.1.0.11"
    assert nic["isdefault"] is True and nic["macaddress"].startswith("02:")
    assert nic["broadcasturi"] == "vlan://100"
    other, _ = world.deploy(name="second", networkids=network, startvm="false")
    assert world.vm(other)["nic"][0]["ipaddress"] == "10.1.0.10"
    full = world.cloud.call(
        world.cloud.admin.keys,
        "deployVirtualMachine",
        zoneid=world.zone,
        serviceofferingid=world.offering,
        templateid=world.template,
        networkids=network,
    )
    assert full.status == 533, full.body  # no address left
    world.run("destroyVirtualMachine", id=vm_id, expunge="true")
    again, job = world.deploy(name="third", networkids=network)
    assert job["jobstatus"] == 1 and world.vm(again)["nic"][0]["ipaddress"] == "10.1.0.11"


def test_without_networkids_a_vm_uses_the_zones_shared_network(world: World) -> None:
    network = vm_world.shared_network(world)
    vm_id, _ = world.deploy(name="defaulted")
    assert [nic["networkid"] for nic in world.vm(vm_id)["nic"]] == [network]


def _power(world: World) -> tuple[str, int | None]:
    with world.cloud.sessions() as session:
        row = session.scalars(sa.select(compute.VmInstance)).one()
        return row.power_state, row.power_host


def test_the_hosts_pings_report_which_vms_are_powered_on(world: World) -> None:
    vm_id, _ = world.deploy(name="watched")
    name = world.vm(vm_id)["instancename"]
    monitor.sweep(world.cloud.sessions, world.cloud.agents, monitor.Timings())
    state, host = _power(world)
    assert state == "PowerOn" and host is not None
    for index in range(2):  # the domain goes away behind the server's back
        world.sim(index).domains.stop(protocol.StopCommand(vm_name=name))
    monitor.sweep(world.cloud.sessions, world.cloud.agents, monitor.Timings())
    assert _power(world)[0] == "PowerOff"
    assert world.vm(vm_id)["state"] == "Running"  # reports are recorded, not acted on yet


def test_update_renames_only_a_stopped_vm_and_keeps_names_unique(world: World) -> None:
    vm_id, _ = world.deploy(name="first")
    world.deploy(name="taken", startvm="false")
    answer = world.cloud.call(world.cloud.admin.keys, "updateVirtualMachine", id=vm_id, name="x")
    assert answer.status == 431 and "stop it" in str(answer.body)
    world.run("stopVirtualMachine", id=vm_id)
    clash = world.cloud.call(world.cloud.admin.keys, "updateVirtualMachine", id=vm_id, name="TAKEN")
    assert clash.status == 431 and "already exists" in str(clash.body)
    renamed = world.cloud.ok(
        world.cloud.admin.keys, "updateVirtualMachine", id=vm_id, name="second", displayname="Two"
    )["virtualmachine"]
    assert (renamed["name"], renamed["displayname"]) == ("second", "Two")


def test_hostid_pins_the_host_and_destroy_deletes_the_listed_data_disk(world: World) -> None:
    vm_id, job = world.deploy(hostid=world.hosts[1], diskofferingid=world.disk_offering)
    assert job["jobstatus"] == 1 and world.vm(vm_id)["hostid"] == world.hosts[1]
    disks = world.cloud.ok(world.cloud.admin.keys, "listVolumes", virtualmachineid=vm_id)
    data = next(v["id"] for v in disks["volume"] if v["type"] == "DATADISK")
    assert len(world.pool_files()) == 2
    world.run("destroyVirtualMachine", id=vm_id, volumeids=data)
    assert world.cloud.ok(world.cloud.admin.keys, "listVolumes", id=data) == {}
    assert len(world.pool_files()) == 1  # the ROOT stays until the VM is expunged


def test_a_user_may_not_expunge_unless_the_setting_allows_it(world: World) -> None:
    alice = world.cloud.member("alice", world.cloud.root_id)
    vm_id, _ = world.deploy(alice.keys, name="hers", startvm="false")
    answer = world.cloud.call(alice.keys, "destroyVirtualMachine", id=vm_id, expunge="true")
    assert answer.status != 200 and "Admin only" in str(answer.body), answer.body
    assert world.run("destroyVirtualMachine", alice.keys, id=vm_id)["jobstatus"] == 1
    refused = world.cloud.call(alice.keys, "recoverVirtualMachine", id=vm_id)
    assert "allow.user.expunge.recover.vm" in str(refused.body)
