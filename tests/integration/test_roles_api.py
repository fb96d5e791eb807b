"""Dynamic roles through the dispatcher on every backend: the commands, CloudStack's rules,
and a rule change deciding the caller's very next request."""

from __future__ import annotations

from typing import Any

from tests.cloud import Cloud, Keys, content


def _role(cloud: Cloud, **named: str) -> dict[str, Any]:
    return dict(cloud.ok(cloud.admin.keys, "createRole", **named)["role"])


def _rules(cloud: Cloud, role_id: str) -> list[dict[str, Any]]:
    found = cloud.ok(cloud.admin.keys, "listRolePermissions", roleid=role_id)
    return list(found.get("rolepermission", []))


def test_a_deny_rule_stops_the_next_call_and_removing_it_lets_it_through(cloud: Cloud) -> None:
    role = _role(cloud, name="Restricted", type="User", description="no zones")
    allow_all = cloud.ok(
        cloud.admin.keys, "createRolePermission", roleid=role["id"], rule="*", permission="allow"
    )["rolepermission"]
    deny = cloud.ok(
        cloud.admin.keys,
        "createRolePermission",
        roleid=role["id"],
        rule="listZones",
        permission="deny",
    )["rolepermission"]
    domain = cloud.domain("D")
    cloud.ok(
        cloud.admin.keys,
        "createAccount",
        username="limited",
        password="Pa55-word-for-tests",
        email="l@x",
        firstname="L",
        lastname="T",
        roleid=role["id"],
        domainid=domain,
    )
    user = cloud.ok(cloud.admin.keys, "listUsers", username="limited", domainid=domain)["user"][0]
    pair = cloud.ok(cloud.admin.keys, "registerUserKeys", id=user["id"])["userkeys"]
    keys = Keys(pair["apikey"], pair["secretkey"])
    # The * rule comes first, so listZones is allowed until the deny rule moves up.
    assert cloud.call(keys, "listZones").status == 200
    cloud.ok(
        cloud.admin.keys,
        "updateRolePermission",
        roleid=role["id"],
        ruleorder=f"{deny['id']},{allow_all['id']}",
    )
    refused = cloud.call(keys, "listZones")
    assert refused.status == 401
    assert cloud.call(keys, "listAccounts").status == 200
    cloud.ok(
        cloud.admin.keys,
        "updateRolePermission",
        roleid=role["id"],
        ruleid=deny["id"],
        permission="allow",
    )
    assert cloud.call(keys, "listZones").status == 200
    cloud.ok(cloud.admin.keys, "deleteRolePermission", id=allow_all["id"])
    assert cloud.call(keys, "listAccounts").status == 401
    # Rules match regardless of case, as CloudStack's Rule does.
    cloud.ok(
        cloud.admin.keys,
        "createRolePermission",
        roleid=role["id"],
        rule="LISTACCOUNTS",
        permission="allow",
    )
    assert cloud.call(keys, "listAccounts").status == 200
    # The role is in use: it may neither be deleted nor change its type.
    assert cloud.call(cloud.admin.keys, "deleteRole", id=role["id"]).status == 531
    assert cloud.call(cloud.admin.keys, "updateRole", id=role["id"], type="Admin").status == 531


def test_default_roles_cannot_be_changed_or_deleted(cloud: Cloud) -> None:
    found = cloud.ok(cloud.admin.keys, "listRoles", name="user")["role"]
    assert [role["name"] for role in found] == ["User"] and found[0]["isdefault"] is True
    user_role = found[0]["id"]
    assert cloud.call(cloud.admin.keys, "deleteRole", id=user_role).status == 531
    assert cloud.call(cloud.admin.keys, "updateRole", id=user_role, name="x").status == 531
    answer = cloud.call(
        cloud.admin.keys, "createRolePermission", roleid=user_role, rule="x", permission="deny"
    )
    assert answer.status == 531
    rule = _rules(cloud, user_role)[0]
    assert (rule["rule"], rule["permission"]) == ("*", "allow")
    assert cloud.call(cloud.admin.keys, "deleteRolePermission", id=rule["id"]).status == 531


def test_rules_must_be_api_names_or_wildcards_and_unique(cloud: Cloud) -> None:
    role = _role(cloud, name="R", type="User")
    for bad in ("list Zones", "list?", "a;b", "*.*"):
        answer = cloud.call(
            cloud.admin.keys,
            "createRolePermission",
            roleid=role["id"],
            rule=bad,
            permission="allow",
        )
        assert answer.status == 431, bad
    answer = cloud.call(
        cloud.admin.keys, "createRolePermission", roleid=role["id"], rule="x", permission="maybe"
    )
    assert answer.status == 431
    cloud.ok(
        cloud.admin.keys,
        "createRolePermission",
        roleid=role["id"],
        rule="list*",
        permission="allow",
    )
    again = cloud.call(
        cloud.admin.keys, "createRolePermission", roleid=role["id"], rule="list*", permission="deny"
    )
    assert again.status == 431
    assert "already exists" in content(again)["errortext"]
    assert len(_rules(cloud, role["id"])) == 1


def test_clone_copies_type_and_rules_and_unused_roles_are_deleted(cloud: Cloud) -> None:
    source = _role(cloud, name="Source", type="DomainAdmin")
    for rule, permission in (("listZones", "deny"), ("*", "allow")):
        cloud.ok(
            cloud.admin.keys,
            "createRolePermission",
            roleid=source["id"],
            rule=rule,
            permission=permission,
        )
    clone = _role(cloud, name="Clone", roleid=source["id"])
    assert clone["type"] == "DomainAdmin"
    assert [(r["rule"], r["permission"]) for r in _rules(cloud, clone["id"])] == [
        ("listZones", "deny"),
        ("*", "allow"),
    ]
    assert cloud.call(cloud.admin.keys, "createRole", name="x").status == 431
    assert cloud.call(cloud.admin.keys, "createRole", name="x", type="Superuser").status == 431
    cloud.ok(cloud.admin.keys, "updateRole", id=clone["id"], type="User", name="Renamed")
    cloud.ok(cloud.admin.keys, "deleteRole", id=clone["id"])
    assert cloud.ok(cloud.admin.keys, "listRoles", id=clone["id"]) == {}
    assert cloud.call(cloud.admin.keys, "deleteRole", id=clone["id"]).status == 431


def test_domain_admins_list_roles_without_admin_ones_and_cannot_change_them(
    cloud: Cloud,
) -> None:
    domain = cloud.domain("D")
    da = cloud.member("da", domain, account_type=2)
    found = cloud.ok(da.keys, "listRoles")["role"]
    assert {role["type"] for role in found} == {"ResourceAdmin", "DomainAdmin", "User"}
    admin_role = cloud.ok(cloud.admin.keys, "listRoles", type="Admin")["role"][0]["id"]
    assert cloud.ok(da.keys, "listRoles", id=admin_role) == {}
    for command, named in (
        ("createRole", {"name": "mine", "type": "Admin"}),
        ("updateRole", {"id": admin_role, "name": "x"}),
        ("listRolePermissions", {}),
    ):
        assert cloud.call(da.keys, command, **named).status == 401
