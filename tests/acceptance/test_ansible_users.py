"""Ansible's cs_user module locks, disables and enables a user against a real server process.

The module lists users, then calls createUser + registerUserKeys, lockUser, disableUser (async,
polled) and enableUser, and compares states to decide whether anything changed: each state
asked a second time must change nothing. Before lockUser, disableUser and enableUser existed the
playbook failed at "Locked".
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cs import CloudStack

from tests.acceptance.conftest import Server
from tests.acceptance.test_ansible import run_playbook

pytestmark = pytest.mark.acceptance

EXPECTED = {
    "Present": ("enabled", True),
    "Locked": ("locked", True),
    "Locked again": ("locked", False),
    "Disabled": ("disabled", True),
    "Disabled again": ("disabled", False),
    "Enabled": ("enabled", True),
    "Enabled again": ("enabled", False),
}


def test_cs_user_walks_a_user_through_its_states(server: Server, tmp_path: Path) -> None:
    admin = CloudStack(endpoint=server.url, key=server.api_key, secret=server.secret_key)
    admin.createAccount(
        account="ansible-team",
        username="ansible-lead",
        password="Ansible-lead-pw-1",
        email="lead@example.org",
        firstname="Ansible",
        lastname="Lead",
        accounttype=0,
    )
    results = run_playbook(server, tmp_path, "users.yml", tasks=None)
    got = {name: (result.get("state"), result["changed"]) for name, result in results.items()}
    assert got == EXPECTED
    assert results["Present"]["user_api_key"] and results["Present"]["user_api_secret"]
    [user] = admin.listUsers(username="ansible-member")["user"]
    assert user["state"] == "enabled"
