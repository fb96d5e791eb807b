"""What a VM is deployed with from the attachments: SSH key pairs (recorded on the VM, shown
as ``keypairs``), an instance group (made on first use, left on expunge) and tags (shown in
``tags``); a missing or foreign key pair refuses the deploy with nothing recorded."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from cirrostack.agent import qemu_img as qemu
from cirrostack.compute import vm_keys
from cirrostack.db.models import attachments, compute
from tests.cloud import Cloud
from tests.vm_world import World

_KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl "
    "test@cirrostack"
)


@pytest.fixture
def world(cloud: Cloud, qemu_img: qemu.QemuImg) -> World:
    return World(cloud, qemu_img)


def _vm_count(world: World) -> int:
    with world.cloud.sessions() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(compute.VmInstance)) or 0


def test_a_vm_gets_its_key_pair_group_and_tags(world: World) -> None:
    admin = world.cloud.admin.keys
    world.cloud.ok(admin, "registerSSHKeyPair", name="Deploy", publickey=_KEY)
    vm_id, job = world.deploy(name="web-1", keypair="deploy", group="web")
    assert job["jobstatus"] == 1, job
    shown = world.vm(vm_id)
    assert shown["keypairs"] == "Deploy" and shown["group"] == "web"
    group = world.cloud.ok(admin, "listInstanceGroups", name="web")["instancegroup"][0]
    assert shown["groupid"] == group["id"]
    assert "SSH.PublicKey" not in shown.get("details", {})
    with world.cloud.sessions() as session:
        stored = session.scalars(
            sa.select(compute.UserVmDetail.value).where(
                compute.UserVmDetail.name == vm_keys.PUBLIC_KEY_DETAIL
            )
        ).one()
    assert stored == _KEY.rsplit(" ", 1)[0]  # registered without its comment
    tagged = world.cloud.call(
        admin, "createTags", resourcetype="UserVm", resourceids=vm_id,
        **{"tags[0].key": "role", "tags[0].value": "front"},
    )  # fmt: skip
    assert world.finished(admin, tagged)["jobstatus"] == 1
    assert world.vm(vm_id)["tags"][0]["key"] == "role"
    done = world.run("destroyVirtualMachine", id=vm_id, expunge="true")
    assert done["jobstatus"] == 1, done
    with world.cloud.sessions() as session:
        left = session.scalar(sa.select(sa.func.count()).select_from(attachments.InstanceGroupVm))
    assert left == 0


def test_a_missing_key_pair_refuses_the_deploy_and_records_nothing(world: World) -> None:
    before = _vm_count(world)
    answer = world.cloud.call(
        world.cloud.admin.keys, "deployVirtualMachine", zoneid=world.zone,
        serviceofferingid=world.offering, templateid=world.template, keypair="nope",
    )  # fmt: skip
    assert answer.status == 431, answer.body
    assert "A key pair with name 'nope' was not found" in str(answer.body)
    assert _vm_count(world) == before
