"""The ``cs`` client against a real server: key pairs, security groups with rules (async,
polled by the client), affinity groups and tags, as a user of its own account; another
account's group or key pair is refused exactly as a missing one."""

from __future__ import annotations

import pytest
from cs import CloudStack, CloudStackApiException

from tests.acceptance.conftest import Server

pytestmark = pytest.mark.acceptance


def _user(server: Server, admin: CloudStack, name: str) -> CloudStack:
    account = admin.createAccount(
        account=name,
        username=name,
        password="Attach-pw-12345",
        email=f"{name}@example.org",
        firstname="A",
        lastname="B",
        accounttype=0,
    )["account"]
    keys = admin.registerUserKeys(id=account["user"][0]["id"])["userkeys"]
    return CloudStack(
        endpoint=server.url, key=keys["apikey"], secret=keys["secretkey"], fetch_result=True
    )


def _refusal(call: object, **named: str) -> tuple[int, str]:
    with pytest.raises(CloudStackApiException) as refused:
        call(**named)  # type: ignore[operator]
    return int(refused.value.response.status_code), str(refused.value.error["errortext"])


def test_cs_drives_what_users_attach(server: Server) -> None:
    admin = CloudStack(endpoint=server.url, key=server.api_key, secret=server.secret_key)
    user, other = _user(server, admin, "alice"), _user(server, admin, "bob")
    pair = user.createSSHKeyPair(name="laptop")["keypair"]
    assert pair["privatekey"].startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert (
        user.listSSHKeyPairs(name="LAPTOP")["sshkeypair"][0]["fingerprint"] == pair["fingerprint"]
    )
    group = user.createSecurityGroup(name="web")["securitygroup"]
    ruled = user.authorizeSecurityGroupIngress(
        securitygroupid=group["id"], protocol="tcp", startport=80, endport=443, cidrlist="0.0.0.0/0"
    )
    [rule] = ruled["securitygroup"]["ingressrule"]
    assert (rule["startport"], rule["endport"], rule["cidr"]) == (80, 443, "0.0.0.0/0")
    user.createTags(
        resourcetype="SecurityGroup",
        resourceids=group["id"],
        tags=[{"key": "tier", "value": "front"}],
    )
    [listed] = user.listSecurityGroups(securitygroupname="web")["securitygroup"]
    assert listed["tags"][0]["key"] == "tier" and listed["ingressrule"][0]["ruleid"]
    affinity = user.createAffinityGroup(name="spread", type="host anti-affinity")
    assert affinity["affinitygroup"]["name"] == "spread"

    assert _refusal(other.deleteSecurityGroup, id=group["id"])[0] == 431
    assert _refusal(other.deleteSSHKeyPair, name="laptop") == (
        431,
        "A key pair with name 'laptop' was not found.",
    )
    assert other.listSecurityGroups(listall=True).get("securitygroup", []) == []
    user.revokeSecurityGroupIngress(id=rule["ruleid"])
    user.deleteSecurityGroup(name="web")
    user.deleteAffinityGroup(name="spread")
    user.deleteSSHKeyPair(name="laptop")
    assert user.listSSHKeyPairs() == {}
    assert [g["name"] for g in user.listSecurityGroups()["securitygroup"]] == ["default"]
