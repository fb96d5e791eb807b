"""Stopping and starting the server keeps the cloud: keys, accounts, admin.json, schema.

The operator's path: ``cirrostack serve`` on a data directory, SIGTERM, ``serve`` again on the
same directory (and database). The second start must find the migrations applied and the seed
in place, hand out the same admin credentials, and serve everything created before.
"""

from __future__ import annotations

import json
import signal
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from cs import CloudStack

from tests import databases
from tests.acceptance.conftest import Server, start_server, stop_server

pytestmark = pytest.mark.acceptance


def admin_client(server: Server) -> CloudStack:
    return CloudStack(
        endpoint=server.url, key=server.api_key, secret=server.secret_key, fetch_result=True
    )


def admin_file(data_dir: Path) -> dict[str, Any]:
    return dict(json.loads((data_dir / "admin.json").read_text()))


def file_mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@contextmanager
def database_for(backend: str, directory: Path) -> Iterator[str | None]:
    """None for SQLite (the data directory's default), else a scratch server database URL."""
    reason = databases.unreachable_reason(backend)
    if reason is not None:
        if databases.under_ci():
            pytest.fail(f"{reason} (CI is set: every database must be reachable)")
        pytest.skip(reason)
    if backend == "sqlite":
        yield None
        return
    with databases.scratch_database(backend, directory) as url:
        yield url.render_as_string(hide_password=False)


def test_admin_json_is_private_and_complete(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    server = start_server(data_dir)
    try:
        assert file_mode(data_dir / "admin.json") == 0o600
        content = admin_file(data_dir)
        assert set(content) == {"url", "apikey", "secretkey", "username", "password"}
        assert (content["url"], content["username"]) == (server.url, "admin")
        login = httpx.post(
            server.url,
            data={"command": "login", "username": "admin", "password": content["password"]},
        )
        assert login.status_code == 200
    finally:
        stop_server(server)


@pytest.mark.parametrize("backend", databases.BACKENDS)
def test_restart_keeps_keys_accounts_and_schema(tmp_path: Path, backend: str) -> None:
    data_dir = tmp_path / "var"
    with database_for(backend, tmp_path) as database_url:
        first = start_server(data_dir, database_url)
        try:
            before = admin_file(data_dir)
            api = admin_client(first)
            domain = api.createDomain(name="durable")["domain"]
            account = api.createAccount(
                username="survivor",
                password="survivor password",
                email="survivor@example.org",
                firstname="Sur",
                lastname="Vivor",
                accounttype=0,
                domainid=domain["id"],
            )["account"]
            keys = api.registerUserKeys(id=account["user"][0]["id"])["userkeys"]
            first_log = first.log.read_text()
        finally:
            stop_server(first)
        # uvicorn shuts down cleanly, then re-raises SIGTERM so the exit status reports it.
        assert first.process.returncode in (0, -signal.SIGTERM), first.log.read_text()
        assert "Running upgrade" in first_log

        second = start_server(data_dir, database_url)
        try:
            _assert_same_cloud(second, before, domain, account, keys)
        finally:
            stop_server(second)


def _assert_same_cloud(
    server: Server,
    before: dict[str, Any],
    domain: dict[str, Any],
    account: dict[str, Any],
    keys: dict[str, str],
) -> None:
    after = admin_file(server.data_dir)
    assert file_mode(server.data_dir / "admin.json") == 0o600
    assert {**after, "url": None} == {**before, "url": None}
    assert after["url"] == server.url
    assert "Running upgrade" not in server.log.read_text()

    api = admin_client(server)
    [admin] = api.listAccounts(name="admin")["account"]
    assert admin["user"][0]["apikey"] == before["apikey"]
    [found] = api.listAccounts(id=account["id"])["account"]
    assert {key: found[key] for key in ("name", "domainid", "state", "created")} == {
        key: account[key] for key in ("name", "domainid", "state", "created")
    }
    roots = api.listDomains(listall=True)["domain"]
    assert sorted(item["path"] for item in roots) == ["ROOT", "ROOT/durable"]
    assert [item["id"] for item in roots if item["path"] == "ROOT/durable"] == [domain["id"]]

    as_user = CloudStack(endpoint=server.url, key=keys["apikey"], secret=keys["secretkey"])
    assert [item["id"] for item in as_user.listAccounts()["account"]] == [account["id"]]

    login = httpx.post(
        server.url,
        data={"command": "login", "username": "admin", "password": before["password"]},
    )
    assert login.status_code == 200
