"""listResourceLimits, updateResourceLimit and updateResourceCount through the dispatcher, on
every backend: CloudStack's answers and rules, and a limit set by the API bounding reserve."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from cirrostack import errors
from cirrostack.accounts import limits
from cirrostack.accounts.resources import GIB, ResourceType
from cirrostack.db.models import accounts as models
from tests.cloud import Cloud, content


def _limits(cloud: Cloud, keys: object, **named: str) -> dict[str, int]:
    found = cloud.ok(keys, "listResourceLimits", **named)  # type: ignore[arg-type]
    return {item["resourcetypename"]: item["max"] for item in found["resourcelimit"]}


def test_defaults_are_listed_for_every_type(cloud: Cloud) -> None:
    domain = cloud.domain("D")
    user = cloud.member("u", domain)
    own = cloud.ok(user.keys, "listResourceLimits")["resourcelimit"]
    assert [item["resourcetype"] for item in own] == [str(n) for n in range(12)]
    assert {item["account"] for item in own} == {"u"}
    assert _limits(cloud, user.keys)["primary_storage"] == 200
    assert _limits(cloud, cloud.admin.keys, domainid=domain)["cpu"] == 80
    assert _limits(cloud, cloud.admin.keys, domainid=domain, account="u", resourcetype="0") == {
        "user_vm": 20
    }


def test_update_limits_and_reserve_obeys_them(cloud: Cloud) -> None:
    domain = cloud.domain("D")
    cloud.member("u", domain)
    set_account = cloud.ok(
        cloud.admin.keys,
        "updateResourceLimit",
        resourcetype="10",
        max="3",
        account="u",
        domainid=domain,
    )["resourcelimit"]
    assert (set_account["max"], set_account["account"]) == (3, "u")
    cloud.ok(cloud.admin.keys, "updateResourceLimit", resourcetype="0", max="1", domainid=domain)
    cloud.ok(cloud.admin.keys, "updateResourceLimit", resourcetype="0", max="2", domainid=domain)
    assert _limits(cloud, cloud.admin.keys, domainid=domain)["user_vm"] == 2
    with cloud.sessions() as session:
        account = session.scalars(
            sa.select(models.Account).where(models.Account.account_name == "u")
        ).one()
        limits.reserve(session, account, ResourceType.PRIMARY_STORAGE, 3 * GIB)
        with pytest.raises(errors.ResourceAllocation):
            limits.reserve(session, account, ResourceType.PRIMARY_STORAGE, 1)
        limits.reserve(session, account, ResourceType.USER_VM, 2)
        with pytest.raises(errors.ResourceAllocation, match="domain id="):
            limits.reserve(session, account, ResourceType.USER_VM, 1)


def test_limit_rules_of_cloudstack(cloud: Cloud) -> None:
    parent = cloud.domain("P")
    child = cloud.domain("C", parent)
    da = cloud.member("da", parent, account_type=2)
    cloud.member("u", child)
    admin = cloud.admin.keys

    def code(keys: object, **named: str) -> int:
        return cloud.call(keys, "updateResourceLimit", **named).status  # type: ignore[arg-type]

    assert code(admin, resourcetype="12", max="1", domainid=parent) == 431
    assert code(admin, resourcetype="0", max="-2", domainid=parent) == 431
    assert code(admin, resourcetype="0", max="5", domainid=cloud.root_id) == 531
    assert code(admin, resourcetype="0", max="5", account="admin", domainid=cloud.root_id) == 431
    assert code(admin, resourcetype="0", max="5") == 431
    # A domain admin cannot raise itself: neither its own account nor its own domain.
    assert code(da.keys, resourcetype="0", max="500", account="da", domainid=parent) == 531
    assert code(da.keys, resourcetype="0", max="500", domainid=parent) == 531
    # It may set the limits below it, within its parent's.
    cloud.ok(admin, "updateResourceLimit", resourcetype="8", max="10", domainid=parent)
    assert code(da.keys, resourcetype="8", max="11", domainid=child) == 431
    assert code(da.keys, resourcetype="8", max="-1", domainid=child) == 431
    cloud.ok(da.keys, "updateResourceLimit", resourcetype="8", max="4", domainid=child)
    cloud.ok(da.keys, "updateResourceLimit", resourcetype="8", max="4", account="u", domainid=child)
    # Users do not set limits; a foreign domain is out of reach, answered like a missing one.
    other = cloud.domain("O")
    assert code(da.keys, resourcetype="8", max="1", domainid=other) == 431


def test_update_resource_count_recounts_what_exists(cloud: Cloud) -> None:
    domain = cloud.domain("D")
    cloud.member("u", domain)
    with cloud.sessions() as session:
        account = session.scalars(
            sa.select(models.Account).where(models.Account.account_name == "u")
        ).one()
        limits.reserve(session, account, ResourceType.VOLUME, 5)
        session.commit()
    answer = cloud.ok(cloud.admin.keys, "updateResourceCount", domainid=domain, account="u")
    counts = {item["resourcetypename"]: item["resourcecount"] for item in answer["resourcecount"]}
    assert set(counts) == {kind.wire for kind in ResourceType}
    assert counts["volume"] == 0  # no volume rows exist: the stray count is corrected
    domain_answer = cloud.ok(
        cloud.admin.keys, "updateResourceCount", domainid=domain, resourcetype="2"
    )
    assert domain_answer["resourcecount"][0]["resourcecount"] == 0
    with cloud.sessions() as session:
        assert limits.count_of(session, ResourceType.VOLUME, account_id=account.id) == 0
    assert cloud.call(cloud.admin.keys, "updateResourceCount").status == 431
    user = cloud.member("x", domain)
    refused = cloud.call(user.keys, "updateResourceCount", domainid=domain)
    assert refused.status == 401, content(refused)
