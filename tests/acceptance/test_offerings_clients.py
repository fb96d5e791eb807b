"""Offerings and the guest OS catalogue through real clients over HTTP: ``cs`` and libcloud.

``cs`` is what Ansible's cs_service_offering and cs_disk_offering send through: lists become
comma-joined values and a list of dicts becomes ``name[i].key``/``name[i].value``. libcloud
reads offerings as sizes (``list_sizes``: id, name, memory, cpunumber) and disk offerings
(``ex_list_disk_offerings``: id, name, disksize, iscustomized).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from cs import CloudStack, CloudStackApiException
from libcloud.compute.providers import get_driver
from libcloud.compute.types import Provider

from tests.acceptance.conftest import Server, start_server, stop_server

pytestmark = pytest.mark.acceptance


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("offerings") / "var")
    yield running
    stop_server(running)


@pytest.fixture
def api(cloud: Server) -> CloudStack:
    return CloudStack(
        endpoint=cloud.url, key=cloud.api_key, secret=cloud.secret_key, fetch_result=True
    )


def libcloud_driver(server: Server) -> Any:
    cls = get_driver(Provider.CLOUDSTACK)
    return cls(server.api_key, server.secret_key, url=server.url, secure=False)


def test_cs_manages_service_offerings_as_ansible_sends_them(api: CloudStack) -> None:
    created = api.createServiceOffering(
        name="Tiny",
        displaytext="Tiny 1gb 1cpu",
        cpunumber=1,
        cpuspeed=2198,
        memory=1024,
        storagetype="shared",
        isvolatile=True,
        hosttags=["eco", "fast"],
        tags=["eco"],
        serviceofferingdetails=[{"key": "vgpuType", "value": "GRID K180Q"}],
    )["serviceoffering"]
    assert (created["hosttags"], created["storagetags"], created["tags"]) == (
        "eco,fast",
        "eco",
        "eco",
    )
    assert created["serviceofferingdetails"] == {"vgpuType": "GRID K180Q"}
    assert (created["isvolatile"], created["storagetype"], created["provisioningtype"]) == (
        True,
        "shared",
        "thin",
    )
    found = api.listServiceOfferings(name="Tiny", issystem=False)["serviceoffering"]
    assert found == [created]
    updated = api.updateServiceOffering(id=created["id"], name="Tiny", displaytext="Tiny one")
    assert updated["serviceoffering"]["displaytext"] == "Tiny one"
    assert api.deleteServiceOffering(id=created["id"]) == {"success": True}
    assert api.listServiceOfferings(name="Tiny") == {}


def test_cs_manages_disk_offerings_and_sees_431_for_bad_values(api: CloudStack) -> None:
    created = api.createDiskOffering(
        name="Small disk",
        displaytext="Small disk, 5 GB",
        disksize=5,
        tags=["ssd", "fast"],
        provisioningtype="sparse",
        miniops=100,
        maxiops=500,
    )["diskoffering"]
    assert (created["disksize"], created["tags"], created["provisioningtype"]) == (
        5,
        "ssd,fast",
        "sparse",
    )
    assert (created["miniops"], created["maxiops"]) == (100, 500)
    custom = api.createDiskOffering(name="Custom", displaytext="Custom", customized=True)
    assert custom["diskoffering"]["iscustomized"] is True
    updated = api.updateDiskOffering(id=created["id"], displayoffering=False)
    assert updated["diskoffering"]["displayoffering"] is False
    with pytest.raises(CloudStackApiException) as refused:
        api.createDiskOffering(name="Huge", displaytext="Huge", disksize=100000)
    assert refused.value.response.status_code == 431
    assert "2000 GB" in refused.value.error["errortext"]
    assert api.deleteDiskOffering(id=created["id"]) == {"success": True}
    names = [item["name"] for item in api.listDiskOfferings(fetch_list=True)]
    assert "Small disk" not in names and "Custom" in names


def test_libcloud_reads_offerings_as_sizes_and_disk_offerings(
    cloud: Server, api: CloudStack
) -> None:
    small = api.createServiceOffering(
        name="Small Instance", displaytext="Small", cpunumber=1, cpuspeed=500, memory=512
    )["serviceoffering"]
    medium = api.createServiceOffering(
        name="Medium Instance", displaytext="Medium", cpunumber=2, cpuspeed=1000, memory=1024
    )["serviceoffering"]
    disk = api.createDiskOffering(name="Data 20", displaytext="Data", disksize=20)["diskoffering"]
    driver = libcloud_driver(cloud)
    sizes = {size.id: size for size in driver.list_sizes()}
    assert (sizes[small["id"]].name, sizes[small["id"]].ram) == ("Small Instance", 512)
    assert (sizes[medium["id"]].ram, sizes[medium["id"]].extra["cpu"]) == (1024, 2)
    offerings = {offering.id: offering for offering in driver.ex_list_disk_offerings()}
    assert (offerings[disk["id"]].name, offerings[disk["id"]].size) == ("Data 20", 20)
    assert offerings[disk["id"]].customizable is False
    os_types = driver.ex_list_os_types()
    assert "Other Linux (64-bit)" in {os["description"] for os in os_types}


def test_cs_lists_os_types_and_categories(api: CloudStack) -> None:
    types = api.listOsTypes(fetch_list=True)
    linux = next(item for item in types if item["description"] == "Other Linux (64-bit)")
    assert linux["oscategoryname"] == "Other"
    categories = api.listOsCategories()["oscategory"]
    assert linux["oscategoryid"] in {category["id"] for category in categories}
