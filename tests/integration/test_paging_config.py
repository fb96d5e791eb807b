"""default.page.size is a real setting: it limits unpaged lists and the largest pagesize."""

from __future__ import annotations

from tests.cloud import Cloud


def test_the_configured_page_size_bounds_lists(sqlite_cloud: Cloud) -> None:
    cloud, admin = sqlite_cloud, sqlite_cloud.admin.keys
    domain = cloud.domain("paged")
    for number in range(4):
        cloud.member(f"member{number}", domain)
    cloud.ok(admin, "updateConfiguration", name="default.page.size", value="3")
    unpaged = cloud.ok(admin, "listAccounts", domainid=domain)
    assert (unpaged["count"], len(unpaged["account"])) == (4, 3)
    assert cloud.call(admin, "listAccounts", domainid=domain, page="1", pagesize="4").status == 431
    assert cloud.ok(admin, "listCapabilities")["capability"]["maxpagesize"] == 3
    everything = cloud.ok(admin, "listAccounts", domainid=domain, pagesize="-1")
    assert len(everything["account"]) == 4
