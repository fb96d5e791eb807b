"""ngine_io.cloudstack's cs_sshkeypair, cs_instancegroup, cs_affinitygroup, cs_securitygroup
and cs_securitygroup_rule converge against a real server process (playbook
``ansible/attachments.yml``): each state asked twice, the first of a pair changes, the second
changes nothing (the module found what it asked for, field by field).

The rule playbook names ``user_security_group: default``: the account's default group exists
by then because creating ``ansible-sg`` made it (CloudStack's first use).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cs import CloudStack

from tests.acceptance.conftest import Server
from tests.acceptance.test_ansible import run_playbook

pytestmark = pytest.mark.acceptance

BASES = (
    "Key pair",
    "Registered key",
    "Key pair absent",
    "Instance group",
    "Instance group absent",
    "Affinity group",
    "Affinity group absent",
    "Security group",
    "SSH rule",
    "Rule from a group",
    "Egress ping",
    "SSH rule absent",
    "Security group absent",
)
TASKS = tuple(name for base in BASES for name in (base, f"{base} again"))


def test_attachment_modules_converge(server: Server, tmp_path: Path) -> None:
    public = (
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    )
    results = run_playbook(
        server,
        tmp_path,
        "attachments.yml",
        TASKS,
        extra_vars={"public_key": f"{public.decode()} ansible@test"},
    )
    changed = {name: result["changed"] for name, result in results.items()}
    assert changed == {name: not name.endswith(" again") for name in TASKS}
    assert results["Key pair"]["private_key"].startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert "private_key" not in results["Key pair again"]
    assert (
        results["Registered key"]["fingerprint"] == results["Registered key again"]["fingerprint"]
    )
    assert results["SSH rule again"]["start_port"] == 22
    assert results["Rule from a group"]["user_security_group"] == "default"
    api = CloudStack(endpoint=server.url, key=server.api_key, secret=server.secret_key)
    assert [pair["name"] for pair in api.listSSHKeyPairs()["sshkeypair"]] == ["ansible-registered"]
    assert [group["name"] for group in api.listSecurityGroups()["securitygroup"]] == ["default"]
    assert api.listInstanceGroups() == {} and api.listAffinityGroups() == {}
