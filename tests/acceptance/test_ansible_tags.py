"""Tags through ngine_io.cloudstack's ``tags`` option (the collection has no cs_resourcetags
module): cs_volume tags, retags and untags a data volume of the demo cloud of a real
``cirrostack serve --demo`` process (playbook ``ansible/tags.yml``), each state asked twice,
the second changing nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from cs import CloudStack

from tests.acceptance.conftest import Server, start_server, stop_server
from tests.acceptance.test_ansible import run_playbook

pytestmark = pytest.mark.acceptance

TASKS = tuple(
    name for base in ("Tagged", "Retagged", "Untagged") for name in (base, f"{base} again")
)


def test_cs_volume_keeps_its_tags(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    demo: Server = start_server(tmp_path_factory.mktemp("ansible-tags") / "var", extra=["--demo"])
    try:
        results = run_playbook(demo, tmp_path, "tags.yml", TASKS)
        changed = {name: result["changed"] for name, result in results.items()}
        assert changed == {name: not name.endswith(" again") for name in TASKS}
        assert sorted((t["key"], t["value"]) for t in results["Tagged again"]["tags"]) == [
            ("env", "prod"),
            ("team", "db"),
        ]
        assert results["Retagged again"]["tags"] == [{"key": "env", "value": "test"}]
        api = CloudStack(endpoint=demo.url, key=demo.api_key, secret=demo.secret_key)
        [volume] = api.listVolumes(name="ansible-tagged")["volume"]
        assert volume["tags"] == [] and api.listTags(resourcetype="Volume") == {}
    finally:
        stop_server(demo)
