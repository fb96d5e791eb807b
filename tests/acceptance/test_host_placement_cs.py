"""explainHostPlacement through the cs client against `cirrostack serve --demo`: the demo's
simulated hosts (connected by their agents, capacity rows written at connect) are judged."""

from __future__ import annotations

from pathlib import Path

import pytest
from cs import CloudStack

from tests.acceptance.conftest import start_server, stop_server

pytestmark = pytest.mark.acceptance


def test_explain_host_placement_judges_the_demo_hosts(tmp_path: Path) -> None:
    server = start_server(tmp_path / "var", extra=["--demo"])
    try:
        api = CloudStack(endpoint=server.url, key=server.api_key, secret=server.secret_key)
        [zone] = api.listZones()["zone"]
        made = api.createServiceOffering(
            name="planner", displaytext="planner", cpunumber=1, cpuspeed=100, memory=128
        )["serviceoffering"]
        explained = api.explainHostPlacement(zoneid=zone["id"], serviceofferingid=made["id"])[
            "hostplacement"
        ]
        routing = {h["id"] for h in api.listHosts(type="Routing")["host"]}
        judged = {h["id"]: h for h in explained["host"]}
        assert set(judged) == routing
        assert all(h["suitable"] for h in judged.values()), explained
        assert explained["summary"] == f"{len(routing)} suitable hosts"
        tagged = api.createServiceOffering(
            name="tagged", displaytext="tagged", cpunumber=1, cpuspeed=100, memory=128,
            hosttags="nowhere",
        )["serviceoffering"]  # fmt: skip
        refused = api.explainHostPlacement(zoneid=zone["id"], serviceofferingid=tagged["id"])[
            "hostplacement"
        ]
        assert refused["summary"].startswith(f"no suitable host: {len(routing)} rejected:")
        assert {h["reasons"][0]["code"] for h in refused["host"]} == {"host tags"}
    finally:
        stop_server(server)
