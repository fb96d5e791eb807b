"""The README's promise: start the server, and `cs listApis` answers."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.acceptance.conftest import Server, client_env


def cs_cli() -> str:
    found = shutil.which("cs", path=str(Path(sys.executable).parent))
    assert found, "the cs CLI is installed with the test extras"
    return found


def test_cs_cli_lists_apis(server: Server) -> None:
    result = subprocess.run(
        [cs_cli(), "listApis"], env=client_env(server), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    names = {api["name"] for api in answer["api"]}
    assert {"listApis", "listAccounts", "createAccount", "login"} <= names
    assert answer["count"] == len(answer["api"])


def test_every_backend_serves_listaccounts(server_on: Server) -> None:
    result = subprocess.run(
        [cs_cli(), "listAccounts"],
        env=client_env(server_on),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert [account["name"] for account in json.loads(result.stdout)["account"]] == ["admin"]
