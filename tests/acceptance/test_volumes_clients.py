"""Volumes through real clients over HTTP: ``cs`` as Ansible's cs_volume sends its calls, and
libcloud's ``create_volume``/``list_volumes``/``destroy_volume``.

cs_volume: listVolumes (type=DATADISK, zoneid, fetch_list), listDiskOfferings, createVolume
(async: ``name, diskofferingid, size, zoneid, displayvolume``), reads ``name`` (case-
insensitive), ``size`` in bytes and whether ``attached`` is present, then deleteVolume (sync).
libcloud picks the offering whose disksize equals the size or a customizable one, and reads
``jobresult.volume``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cs import CloudStack, CloudStackApiException
from libcloud.compute.providers import get_driver
from libcloud.compute.types import Provider

from tests.acceptance.conftest import Server, start_server, stop_server

pytestmark = pytest.mark.acceptance

GIB = 1024**3


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("volumes") / "var")
    yield running
    stop_server(running)


@pytest.fixture
def api(cloud: Server) -> CloudStack:
    return CloudStack(
        endpoint=cloud.url, key=cloud.api_key, secret=cloud.secret_key, fetch_result=True
    )


@pytest.fixture
def zone(api: CloudStack) -> str:
    found = api.listZones(name="vz").get("zone")
    if found:
        return str(found[0]["id"])
    created = api.createZone(
        name="vz", dns1="8.8.8.8", internaldns1="10.0.0.1", networktype="Advanced"
    )
    return str(created["zone"]["id"])


def test_cs_volume_creates_lists_and_deletes_as_ansible_does(api: CloudStack, zone: str) -> None:
    offering = api.createDiskOffering(name="Custom", displaytext="Custom", customized=True)
    offering_id = offering["diskoffering"]["id"]
    assert api.listVolumes(type="DATADISK", zoneid=zone, fetch_list=True) == []
    volume = api.createVolume(
        name="Data-1", diskofferingid=offering_id, size=20, zoneid=zone, displayvolume=True
    )["volume"]
    assert volume["size"] == 20 * GIB and volume["state"] == "Allocated"
    assert "attached" not in volume
    found = api.listVolumes(type="DATADISK", zoneid=zone, fetch_list=True)
    assert [item["name"].lower() for item in found] == ["data-1"]
    with pytest.raises(CloudStackApiException) as refused:
        api.createVolume(name="big", diskofferingid=offering_id, size=100000, zoneid=zone)
    assert refused.value.error["errorcode"] == 431
    assert api.deleteVolume(id=volume["id"]) == {"success": True}
    assert api.listVolumes(type="DATADISK", zoneid=zone, fetch_list=True) == []


def test_libcloud_creates_lists_and_destroys_a_volume(
    cloud: Server, api: CloudStack, zone: str
) -> None:
    api.createDiskOffering(name="Ten", displaytext="Ten", disksize=10)
    driver = get_driver(Provider.CLOUDSTACK)(
        cloud.api_key, cloud.secret_key, url=cloud.url, secure=False
    )
    location = next(item for item in driver.list_locations() if item.id == zone)
    volume = driver.create_volume(size=10, name="lib-1", location=location)
    assert (volume.name, volume.size) == ("lib-1", 10)  # libcloud keeps the GB it asked for
    assert volume.id in {item.id for item in driver.list_volumes()}
    assert driver.destroy_volume(volume) is True
    assert volume.id not in {item.id for item in driver.list_volumes()}
