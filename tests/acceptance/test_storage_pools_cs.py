"""Primary storage pools with ``cs`` (the library and the CLI) against a real server: a pool
created in a cluster of simulated hosts comes Up, is listed, updated, put into maintenance and
back (async jobs), and deleted; what Ansible's cs_storage_pool reads is in the answers.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cs import CloudStack, CloudStackApiException

from tests.acceptance.conftest import Server, client_env, simulator_cluster

pytestmark = pytest.mark.acceptance

GIB = 1024**3


def test_a_pool_lives_and_dies_through_cs(server: Server) -> None:
    api = CloudStack(
        endpoint=server.url, key=server.api_key, secret=server.secret_key, fetch_result=True
    )
    zone, pod, cluster = simulator_cluster(api)
    api.addHost(
        zoneid=zone,
        podid=pod,
        clusterid=cluster,
        hypervisor="Simulator",
        url="http://sim-1",
        username="root",
        password="password",
    )
    providers = api.listStorageProviders(type="primary")["dataStoreProvider"]
    assert providers == [{"name": "DefaultPrimary", "type": "PRIMARY"}]
    created = api.createStoragePool(
        name="primary-1",
        url="nfs://nfs.test/export/primary-1",
        zoneid=zone,
        podid=pod,
        clusterid=cluster,
        provider="DefaultPrimary",
        scope="cluster",
        tags="ssd",
    )["storagepool"]
    assert (created["state"], created["type"], created["scope"]) == (
        "Up",
        "NetworkFilesystem",
        "CLUSTER",
    )
    # cs_storage_pool rebuilds the url as type://ipaddress/path.
    assert (created["ipaddress"], created["path"]) == ("nfs.test", "/export/primary-1")
    pool_id = created["id"]
    updated = api.updateStoragePool(id=pool_id, capacitybytes=str(50 * GIB), tags="ssd,gold")
    assert (updated["storagepool"]["disksizetotal"], updated["storagepool"]["tags"]) == (
        50 * GIB,
        "ssd,gold",
    )
    maintained = api.enableStorageMaintenance(id=pool_id)
    assert maintained["storagepool"]["state"] == "Maintenance"
    back = api.cancelStorageMaintenance(id=pool_id)
    assert back["storagepool"]["state"] == "Up"

    shown = subprocess.run(
        [str(Path(sys.executable).with_name("cs")), "listStoragePools", f"id={pool_id}"],
        env=client_env(server),
        capture_output=True,
        text=True,
        check=True,
    )
    listed = json.loads(shown.stdout)["storagepool"][0]
    assert (listed["state"], listed["disksizetotal"], listed["overprovisionfactor"]) == (
        "Up",
        50 * GIB,
        "2.0",
    )
    assert api.deleteStoragePool(id=pool_id)["success"] in (True, "true")
    assert api.listStoragePools().get("count", 0) == 0
    with pytest.raises(CloudStackApiException) as refused:
        api.createStoragePool(name="bad", url="ftp://x/y", zoneid=zone, clusterid=cluster)
    assert refused.value.error["errorcode"] == 431
