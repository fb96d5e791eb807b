"""The README's run command: `cirrostack serve --demo` gives a cloud to look at, once, with
storage a new user can create volumes on at once (README "Storage")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cs import CloudStack

from cirrostack import demo, demo_storage
from cirrostack.agent.backends.simulator import BACKEND
from tests import agent_processes
from tests.acceptance.conftest import client_env, free_port, start_server, stop_server

pytestmark = pytest.mark.acceptance

#: The virtual environment's scripts (cirrostack, cs), as the README runs them.
BIN = Path(sys.executable).parent


def test_the_demo_cloud_is_seeded_once_and_the_printed_example_works(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    server = start_server(data_dir, extra=["--demo"])
    try:
        printed = server.log.read_text()
        assert "cs listZones" in printed
        cs = CloudStack(endpoint=server.url, key=server.api_key, secret=server.secret_key)
        [zone] = cs.listZones()["zone"]
        assert zone["name"] == "Sandbox-simulator-advanced"
        hosts = cs.listHosts(type="Routing")["host"]
        # Named as CloudStack's simulator names its hosts.
        assert len(hosts) == 2
        assert all(host["name"].startswith("SimulatedAgent.") for host in hosts), hosts
        assert {host["state"] for host in hosts} == {"Up"}
        offerings = {o["name"] for o in cs.listServiceOfferings()["serviceoffering"]}
        assert {"Small Instance", "Medium Instance"} <= offerings
        [custom] = cs.listDiskOfferings(name="Custom")["diskoffering"]
        assert custom["iscustomized"] is True
        # The printed example, run the way the README says (env from admin.json, cs CLI).
        exports = subprocess.run(
            [
                str(BIN / "cirrostack"),
                "env",
                "--data-dir",
                str(data_dir),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        env = dict(os.environ)
        for line in exports.splitlines():
            name, _, value = line.removeprefix("export ").partition("=")
            env[name] = value.strip("'")
        listed = subprocess.run(
            [str(BIN / "cs"), "listHosts"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert listed.returncode == 0 and "SimulatedAgent." in listed.stdout, listed.stderr
        stop_server(server)
        server = start_server(data_dir, extra=["--demo"])
        assert "not seeding again" in server.log.read_text()
        cs = CloudStack(endpoint=server.url, key=server.api_key, secret=server.secret_key)
        assert cs.listZones()["count"] == 1
        assert len(cs.listHosts(type="Routing")["host"]) == 2
    finally:
        stop_server(server)


def test_an_agent_process_joins_the_demo_cloud_as_the_readme_says(tmp_path: Path) -> None:
    """README "Running an agent": the demo's hosts are in the server's process (no agent
    process runs for them), and an agent started beside it is added with the cs CLI into the
    demo's cluster, found by name."""
    data_dir = tmp_path / "var"
    server = start_server(data_dir, extra=["--demo"])
    agent_dir, listen = data_dir / "agent-1", f"127.0.0.1:{free_port()}"
    agent = agent_processes.start(agent_dir, listen)
    try:
        env = client_env(server)

        def cs(*arguments: str) -> dict[str, Any]:
            done = subprocess.run(
                [str(BIN / "cs"), *arguments], env=env, capture_output=True, text=True, timeout=60
            )
            assert done.returncode == 0, done.stderr
            loaded: dict[str, Any] = json.loads(done.stdout)
            return loaded

        assert not any(BACKEND.parse_url(url).own_process for url in demo.HOST_URLS)
        assert len(cs("listHosts", "type=Routing")["host"]) == 2
        [cluster] = cs("listClusters", "name=Sandbox-simulator-cluster")["cluster"]
        secret = json.loads((agent_dir / "agent.json").read_text())["secret"]
        [added] = cs(
            "addHost",
            f"zoneid={cluster['zoneid']}",
            f"podid={cluster['podid']}",
            f"clusterid={cluster['id']}",
            "hypervisor=Simulator",
            "username=root",
            f"url=http://{listen}",
            f"password={secret}",
        )["host"]
        assert added["state"] == "Up" and added["clustername"] == "Sandbox-simulator-cluster"
        assert len(cs("listHosts", "type=Routing")["host"]) == 3
    finally:
        agent_processes.stop(agent)
        stop_server(server)


def test_the_demo_has_storage_and_a_volume_lands_where_explain_says(tmp_path: Path) -> None:
    """README "Storage": the demo's two pools, its image store and the built-in template are
    listed; explainStoragePlacement names the pool a volume would go to, and createVolume
    with that pool (storageid) makes the volume Ready there, a real qcow2 file. A restart on
    the same data directory makes nothing again."""
    data_dir = tmp_path / "var"
    server = start_server(data_dir, extra=["--demo"])
    try:
        assert "demo storage: made" in server.log.read_text()
        api = CloudStack(
            endpoint=server.url, key=server.api_key, secret=server.secret_key, fetch_result=True
        )
        pools = {p["name"]: p for p in api.listStoragePools()["storagepool"]}
        assert {name: p["state"] for name, p in pools.items()} == {
            "demo-primary-cluster": "Up",
            "demo-primary-zone": "Up",
        }
        [store] = api.listImageStores()["imagestore"]
        assert store["name"] == "demo-secondary"
        [template] = api.listTemplates(templatefilter="featured")["template"]
        assert (template["name"], template["isready"]) == (demo_storage.TEMPLATE, True)

        [zone] = api.listZones()["zone"]
        [custom] = api.listDiskOfferings(name="Custom")["diskoffering"]
        explained = api.explainStoragePlacement(
            zoneid=zone["id"], diskofferingid=custom["id"], size=5
        )["storageplacement"]
        best = next(p for p in explained["storagepool"] if p["suitable"])
        assert best["name"] == "demo-primary-cluster"  # the cluster allocator is asked first
        volume = api.createVolume(
            name="data-1",
            zoneid=zone["id"],
            diskofferingid=custom["id"],
            size=5,
            storageid=best["id"],
        )["volume"]
        assert (volume["state"], volume["storageid"]) == ("Ready", best["id"])
        shared = data_dir / "simulator" / "_shared" / "demo" / "primary-cluster"
        assert (shared / volume["path"]).is_file()

        stop_server(server)
        server = start_server(data_dir, extra=["--demo"])
        assert "demo storage:" not in server.log.read_text()
        api = CloudStack(endpoint=server.url, key=server.api_key, secret=server.secret_key)
        assert api.listStoragePools()["count"] == 2
        assert api.listTemplates(templatefilter="featured")["count"] == 1
        assert api.listVolumes(name="data-1")["volume"][0]["state"] == "Ready"
    finally:
        stop_server(server)


def test_without_qemu_img_the_demo_starts_and_says_what_is_missing(tmp_path: Path) -> None:
    """A machine without qemu-img (the server's PATH holds no qemu-img): the server starts,
    prints that the pools and the built-in template are missing and why; the rest is there."""
    empty = tmp_path / "bin"
    empty.mkdir()
    env = dict(os.environ, PATH=str(empty))
    server = start_server(tmp_path / "var", extra=["--demo"], env=env)
    try:
        printed = server.log.read_text()
        assert "built-in template 'CentOS 5.3(64-bit) no GUI (Simulator)' is missing" in printed
        assert "qemu-img is not installed" in printed and "apt install qemu-utils" in printed
        assert "primary pool demo-primary-cluster is missing (tried again" in printed
        cs = CloudStack(endpoint=server.url, key=server.api_key, secret=server.secret_key)
        assert len(cs.listHosts(type="Routing")["host"]) == 2
        assert [s["name"] for s in cs.listImageStores()["imagestore"]] == ["demo-secondary"]
        assert cs.listTemplates(templatefilter="featured").get("count", 0) == 0
    finally:
        stop_server(server)
