"""Instance groups and affinity groups through the dispatcher on every backend: names unique
per account regardless of case, a foreign group answered exactly like a missing one, the VM
slice's ``assign``/``of_vms`` and ``add_vm``/``members``, and an affinity group refused for
deletion while VMs are in it."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from cirrostack import errors
from cirrostack.accounts import access
from cirrostack.compute import affinity_groups, instance_groups
from cirrostack.db.models import accounts as account_models
from tests.attachments_world import vm
from tests.cloud import Cloud, Keys, content


def _account_id(cloud: Cloud, name: str) -> int:
    with cloud.sessions() as session:
        return int(
            session.scalars(
                sa.select(account_models.Account.id).where(
                    account_models.Account.account_name == name
                )
            ).one()
        )


def _job(cloud: Cloud, keys: Keys, command: str, **named: str) -> dict[str, Any]:
    answer = cloud.call(keys, command, **named)
    assert answer.status == 200, answer.body
    return cloud.job(keys, answer)


def test_instance_group_life(cloud: Cloud) -> None:
    domain = cloud.domain("D")
    user, other = cloud.member("u", domain), cloud.member("o", domain)
    group = cloud.ok(user.keys, "createInstanceGroup", name="Web")["instancegroup"]
    assert group["name"] == "Web" and group["account"] == "u" and group["domainid"] == domain
    clash = cloud.call(user.keys, "createInstanceGroup", name="wEB")
    assert clash.status == 431 and "already exists" in content(clash)["errortext"]
    cloud.ok(other.keys, "createInstanceGroup", name="web")  # another account's own
    renamed = cloud.ok(user.keys, "updateInstanceGroup", id=group["id"], name="front")
    assert renamed["instancegroup"]["name"] == "front"
    assert cloud.ok(user.keys, "listInstanceGroups", name="FRONT")["count"] == 1
    foreign = cloud.call(other.keys, "deleteInstanceGroup", id=group["id"])
    missing = cloud.call(
        other.keys, "deleteInstanceGroup", id="0f0f0f0f-0000-4000-8000-000000000000"
    )
    assert foreign.status == missing.status == 431
    assert content(foreign)["errortext"].replace(group["id"], "X") == content(missing)[
        "errortext"
    ].replace("0f0f0f0f-0000-4000-8000-000000000000", "X")
    assert cloud.ok(user.keys, "deleteInstanceGroup", id=group["id"]) == {"success": True}
    cloud.ok(user.keys, "createInstanceGroup", name="front")  # a removed group frees its name


def test_assign_creates_or_joins_and_of_vms_reads_one_query(cloud: Cloud) -> None:
    cloud.member("u", cloud.domain("D"))
    account = _account_id(cloud, "u")
    first, _ = vm(cloud, "u")
    second, _ = vm(cloud, "u")
    with cloud.sessions() as session:
        made = instance_groups.assign(session, first, account, "batch")
        joined = instance_groups.assign(session, second, account, "BATCH")
        assert made.id == joined.id
        moved = instance_groups.assign(session, second, account, "other")
        session.commit()
        found = instance_groups.of_vms(session, [first, second, 999999])
        assert {vm_id: group.name for vm_id, group in found.items()} == {
            first: "batch",
            second: moved.name,
        }


def test_affinity_group_life(cloud: Cloud) -> None:
    domain = cloud.domain("D")
    user, other = cloud.member("u", domain), cloud.member("o", domain)
    kinds = cloud.ok(user.keys, "listAffinityGroupTypes")
    assert [kind["type"] for kind in kinds["affinityGroupType"]] == [
        "host affinity",
        "host anti-affinity",
    ]
    job = _job(cloud, user.keys, "createAffinityGroup", name="Spread", type="host anti-affinity")
    group = job["jobresult"]["affinitygroup"]
    assert job["jobinstancetype"] == "AffinityGroup" and job["jobinstanceid"] == group["id"]
    assert group["type"] == "host anti-affinity" and group["virtualmachineIds"] == []
    clash = cloud.call(user.keys, "createAffinityGroup", name="SPREAD", type="host affinity")
    assert clash.status == 431 and "already exists" in content(clash)["errortext"]
    bad = cloud.call(user.keys, "createAffinityGroup", name="x", type="rack affinity")
    assert bad.status == 431 and "invalid affinity group type" in content(bad)["errortext"]
    foreign = cloud.call(other.keys, "deleteAffinityGroup", id=group["id"])
    assert foreign.status == 431
    assert content(foreign)["errortext"] == f"Unable to find affinity group {group['id']}"
    assert cloud.ok(other.keys, "listAffinityGroups", listall="true") == {}

    vm_id, vm_uuid = vm(cloud, "u")
    with cloud.sessions() as session:
        group_id = affinity_groups.by_uuid(session, _caller(session, "u"), group["id"]).id
        affinity_groups.add_vm(session, vm_id, [group_id])
        affinity_groups.add_vm(session, vm_id, [group_id])  # already in: unchanged
        session.commit()
        assert affinity_groups.members(session, [group_id, 999999]) == {group_id: [vm_id]}
    listed = cloud.ok(user.keys, "listAffinityGroups", virtualmachineid=vm_uuid)
    assert listed["affinitygroup"][0]["virtualmachineIds"] == [vm_uuid]
    refused = _job(cloud, user.keys, "deleteAffinityGroup", name="spread")
    assert refused["jobstatus"] == 2 and refused["jobresultcode"] == 536, refused
    with cloud.sessions() as session:
        session.execute(sa.text("DELETE FROM affinity_group_vm_map"))
        session.commit()
    done = _job(cloud, user.keys, "deleteAffinityGroup", id=group["id"])
    assert done["jobstatus"] == 1 and done["jobresult"] == {"success": True}
    assert cloud.ok(user.keys, "listAffinityGroups") == {}


def _caller(session: Any, username: str) -> Any:
    user = session.scalars(
        sa.select(account_models.User).where(account_models.User.username == username)
    ).one()
    return access.caller_of(session, user)


def test_add_vm_to_a_missing_affinity_group_is_refused(cloud: Cloud) -> None:
    cloud.member("u", cloud.domain("D"))
    vm_id, _ = vm(cloud, "u")
    with cloud.sessions() as session, pytest.raises(errors.InvalidParameterValue):
        affinity_groups.add_vm(session, vm_id, [999999])


def test_deleting_an_account_removes_what_nothing_else_holds(cloud: Cloud) -> None:
    domain = cloud.domain("D")
    user, other = cloud.member("gone", domain), cloud.member("stays", domain)
    cloud.ok(user.keys, "createSSHKeyPair", name="k")
    cloud.ok(user.keys, "createInstanceGroup", name="g")
    _job(cloud, user.keys, "createAffinityGroup", name="a", type="host affinity")
    _job(cloud, user.keys, "createAffinityGroup", name="busy", type="host affinity")
    cloud.ok(user.keys, "createSecurityGroup", name="s")
    source = {"usersecuritygrouplist[0].account": "gone", "usersecuritygrouplist[0].group": "s"}
    _job(cloud, cloud.admin.keys, "authorizeSecurityGroupIngress", securitygroupname="default",
         account="stays", domainid=domain, protocol="all", **source)  # fmt: skip
    vm_id, _ = vm(cloud, "gone")
    with cloud.sessions() as session:
        busy = affinity_groups.by_name(session, _account_id(cloud, "gone"), "busy")
        affinity_groups.add_vm(session, vm_id, [busy.id])
        session.commit()
    deleted = _job(cloud, cloud.admin.keys, "deleteAccount", id=user.account_id)
    assert deleted["jobstatus"] == 1, deleted
    with cloud.sessions() as session:
        count = {
            table: session.scalar(sa.text(f"SELECT count(*) FROM {table}"))
            for table in ("ssh_keypairs", "affinity_group", "security_group_rule")
        }
        live_groups = session.scalar(
            sa.text("SELECT count(*) FROM instance_group WHERE removed IS NULL")
        )
    # The VM's affinity group stays (the VM work removes VMs); the other account's rule that
    # named the removed group went with it.
    assert count == {"ssh_keypairs": 0, "affinity_group": 1, "security_group_rule": 0}
    assert live_groups == 0
    [default] = cloud.ok(other.keys, "listSecurityGroups")["securitygroup"]
    assert default["ingressrule"] == []
