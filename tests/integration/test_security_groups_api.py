"""Security groups and their rules through the dispatcher on every backend: the account's
``default`` group made on first use, names unique per account regardless of case, rules of
every protocol kind with their checks, the async authorize/revoke answers Ansible reads, a
foreign group or rule answered exactly like a missing one, and the refusals of delete."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from cirrostack.compute import security_groups, security_rules
from cirrostack.db.models import attachments as models
from tests.attachments_world import vm
from tests.cloud import Cloud, Keys, content

_MISSING = "0f0f0f0f-0000-4000-8000-000000000000"


def _job(cloud: Cloud, keys: Keys, command: str, **named: str) -> dict[str, Any]:
    answer = cloud.call(keys, command, **named)
    assert answer.status == 200, answer.body
    return cloud.job(keys, answer)


def _error(cloud: Cloud, keys: Keys, command: str, **named: str) -> tuple[int, str]:
    answer = cloud.call(keys, command, **named)
    return answer.status, str(content(answer).get("errortext"))


def test_groups_and_the_default_group(cloud: Cloud) -> None:
    domain = cloud.domain("D")
    user, other = cloud.member("u", domain), cloud.member("o", domain)
    assert cloud.ok(user.keys, "listSecurityGroups") == {}
    web = cloud.ok(user.keys, "createSecurityGroup", name="Web", description="front")
    assert web["securitygroup"]["ingressrule"] == [] and web["securitygroup"]["egressrule"] == []
    listed = cloud.ok(user.keys, "listSecurityGroups")
    assert [g["name"] for g in listed["securitygroup"]] == ["default", "Web"]
    assert listed["securitygroup"][0]["description"] == "Default Security Group"
    for name in ("web", "DEFAULT"):
        status, text = _error(cloud, user.keys, "createSecurityGroup", name=name)
        assert status == 431 and "already exists" in text
    status, text = _error(cloud, user.keys, "deleteSecurityGroup", name="default")
    assert status == 431 and text == "The network default group can't be removed"
    foreign = _error(cloud, other.keys, "deleteSecurityGroup", id=web["securitygroup"]["id"])
    missing = _error(cloud, other.keys, "deleteSecurityGroup", id=_MISSING)
    assert foreign[0] == missing[0] == 431
    assert foreign[1].replace(web["securitygroup"]["id"], "X") == missing[1].replace(_MISSING, "X")
    assert cloud.ok(other.keys, "listSecurityGroups", listall="true") == {}
    assert cloud.ok(user.keys, "deleteSecurityGroup", name="WEB") == {"success": True}
    assert cloud.ok(user.keys, "listSecurityGroups", securitygroupname="web") == {}


def test_rules_of_every_kind(cloud: Cloud) -> None:
    user = cloud.member("u", cloud.domain("D"))
    job = _job(
        cloud,
        user.keys,
        "authorizeSecurityGroupIngress",
        securitygroupname="default",
        protocol="TCP",
        startport="22",
        endport="22",
        cidrlist="10.0.0.0/8,192.168.1.7/24",
    )
    assert job["jobstatus"] == 1, job
    group = job["jobresult"]["securitygroup"]
    rules = group["ingressrule"]
    assert [(r["protocol"], r["startport"], r["endport"], r["cidr"]) for r in rules] == [
        ("tcp", 22, 22, "10.0.0.0/8"),
        ("tcp", 22, 22, "192.168.1.0/24"),
    ]
    again = _job(
        cloud,
        user.keys,
        "authorizeSecurityGroupIngress",
        securitygroupid=group["id"],
        protocol="tcp",
        startport="22",
        cidrlist="10.0.0.0/8",
    )
    assert again["jobresult"]["securitygroup"]["ingressrule"][0]["ruleid"] == rules[0]["ruleid"]
    icmp = _job(
        cloud,
        user.keys,
        "authorizeSecurityGroupEgress",
        securitygroupid=group["id"],
        protocol="icmp",
        icmptype="-1",
        icmpcode="-1",
        cidrlist="0.0.0.0/0",
    )["jobresult"]["securitygroup"]["egressrule"]
    assert icmp[0]["icmptype"] == -1 and icmp[0]["icmpcode"] == -1 and "startport" not in icmp[0]
    cloud.ok(user.keys, "createSecurityGroup", name="db")
    cloud.ok(user.keys, "createSecurityGroup", name="src")
    from_group = _job(
        cloud,
        user.keys,
        "authorizeSecurityGroupIngress",
        securitygroupname="db",
        protocol="all",
        **{"usersecuritygrouplist[0].account": "u", "usersecuritygrouplist[0].group": "src"},
    )["jobresult"]["securitygroup"]["ingressrule"]
    assert from_group[0]["securitygroupname"] == "src" and from_group[0]["account"] == "u"
    listed = cloud.ok(user.keys, "listSecurityGroups", securitygroupname="default")
    assert len(listed["securitygroup"][0]["ingressrule"]) == 2
    assert len(listed["securitygroup"][0]["egressrule"]) == 1
    status, text = _error(cloud, user.keys, "deleteSecurityGroup", name="src")
    assert status == 536 and "rules of other groups refer to it" in text
    revoked = _job(cloud, user.keys, "revokeSecurityGroupIngress", id=rules[1]["ruleid"])
    assert revoked["jobresult"] == {"success": True}
    wrong_way = _error(cloud, user.keys, "revokeSecurityGroupEgress", id=rules[0]["ruleid"])
    assert wrong_way[0] == 431


def test_bad_rules_are_refused_before_any_job(cloud: Cloud) -> None:
    user = cloud.member("u", cloud.domain("D"))
    base = {"securitygroupname": "default", "cidrlist": "0.0.0.0/0"}
    for named, text in (
        ({"protocol": "tcp"}, "Specify startport"),
        ({"protocol": "tcp", "startport": "80", "endport": "70"}, "Invalid port range 80:70"),
        ({"protocol": "udp", "startport": "70000"}, "Invalid port range"),
        ({"protocol": "icmp", "icmptype": "8"}, "Specify icmpcode"),
        ({"protocol": "gopher"}, "Invalid protocol gopher"),
        ({"protocol": "300"}, "Invalid protocol 300"),
        ({"protocol": "all", "cidrlist": "10.0.0.0/33"}, "Invalid cidr 10.0.0.0/33"),
    ):
        status, error = _error(
            cloud, user.keys, "authorizeSecurityGroupIngress", **{**base, **named}
        )
        assert status == 431 and text in error, (named, error)
    status, error = _error(
        cloud,
        user.keys,
        "authorizeSecurityGroupIngress",
        securitygroupname="default",
        protocol="all",
    )
    assert status == 431 and "At least one cidr" in error
    assert cloud.ok(user.keys, "listAsyncJobs") == {}


def test_foreign_rules_and_source_groups_are_answered_like_missing_ones(cloud: Cloud) -> None:
    domain = cloud.domain("D")
    owner, other = cloud.member("owner", domain), cloud.member("other", domain)
    rule = _job(
        cloud,
        owner.keys,
        "authorizeSecurityGroupIngress",
        securitygroupname="default",
        protocol="47",
        cidrlist="0.0.0.0/0",
    )["jobresult"]["securitygroup"]["ingressrule"][0]
    assert rule["protocol"] == "47"
    foreign = _error(cloud, other.keys, "revokeSecurityGroupIngress", id=rule["ruleid"])
    missing = _error(cloud, other.keys, "revokeSecurityGroupIngress", id=_MISSING)
    assert foreign[0] == missing[0] == 431
    assert foreign[1].replace(rule["ruleid"], "X") == missing[1].replace(_MISSING, "X")
    source = {
        "usersecuritygrouplist[0].account": "owner",
        "usersecuritygrouplist[0].group": "default",
    }
    nobody = {
        "usersecuritygrouplist[0].account": "nobody",
        "usersecuritygrouplist[0].group": "default",
    }
    seen = _error(
        cloud,
        other.keys,
        "authorizeSecurityGroupIngress",
        securitygroupname="default",
        protocol="all",
        **source,
    )
    unseen = _error(
        cloud,
        other.keys,
        "authorizeSecurityGroupIngress",
        securitygroupname="default",
        protocol="all",
        **nobody,
    )
    assert seen[0] == unseen[0] == 431
    assert seen[1].replace("owner", "X") == unseen[1].replace("nobody", "X")


def test_vm_membership_blocks_delete_and_gives_the_vm_its_rules(cloud: Cloud) -> None:
    user = cloud.member("u", cloud.domain("D"))
    group = cloud.ok(user.keys, "createSecurityGroup", name="app")["securitygroup"]
    _job(
        cloud,
        user.keys,
        "authorizeSecurityGroupIngress",
        securitygroupid=group["id"],
        protocol="tcp",
        startport="443",
        cidrlist="0.0.0.0/0",
    )
    vm_id, vm_uuid = vm(cloud, "u")
    with cloud.sessions() as session:
        app = session.scalars(
            sa.select(models.SecurityGroup).where(models.SecurityGroup.uuid == group["id"])
        ).one()
        security_groups.add_vm(session, vm_id, [app.id])
        session.commit()
        assert [
            (r.protocol, r.start_port) for r in security_rules.rules_for_vm(session, vm_id)
        ] == [("tcp", 443)]
    listed = cloud.ok(user.keys, "listSecurityGroups", virtualmachineid=vm_uuid)["securitygroup"]
    assert [g["name"] for g in listed] == ["app"]
    assert listed[0]["virtualmachinecount"] == 1 and listed[0]["virtualmachineids"] == [vm_uuid]
    status, text = _error(cloud, user.keys, "deleteSecurityGroup", id=group["id"])
    assert status == 536 and "in use" in text
