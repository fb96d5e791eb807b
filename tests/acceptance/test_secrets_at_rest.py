"""Secrets at rest on a real server process (issue 6 finding 6).

The data directory is 0700 and every file the server writes in it 0600 (SQLite's -wal and -shm
too); API secret keys are sealed with a server key kept apart from the database, so the
database file holds none in clear, and clients still sign after a restart; ``db upgrade`` seeds
the admin as ``serve`` does and writes admin.json; a server started with a key that does not
open the database's keys, or with a key file that is missing, refuses to start, clearly.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from cs import CloudStack

from tests.acceptance.conftest import Server, start_server, stop_server
from tests.acceptance.test_restart import admin_file

pytestmark = pytest.mark.acceptance


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def cli(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cirrostack.cli.main", *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def client(server: Server, key: str | None = None, secret: str | None = None) -> CloudStack:
    return CloudStack(
        endpoint=server.url,
        key=key or server.api_key,
        secret=secret or server.secret_key,
        fetch_result=True,
    )


def _user_with_keys(server: Server) -> dict[str, str]:
    api = client(server)
    account = api.createAccount(
        username="keeper",
        password="keeper password",
        email="keeper@example.org",
        firstname="Kee",
        lastname="Per",
        accounttype=0,
    )["account"]
    keys: dict[str, str] = api.registerUserKeys(id=account["user"][0]["id"])["userkeys"]
    return keys


def test_the_data_directory_and_every_file_the_server_writes_are_private(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "var"
    data_dir.mkdir(mode=0o755)
    os.chmod(data_dir, 0o755)
    server = start_server(data_dir)
    try:
        _user_with_keys(server)
        written = {
            path.name: mode(path) for path in data_dir.iterdir() if path.name != "server.log"
        }
    finally:
        stop_server(server)
    assert mode(data_dir) == 0o700
    assert {"cloud.db", "cloud.db-wal", "admin.json", "server.key"} <= set(written)
    assert written == dict.fromkeys(written, 0o600)


def test_no_secret_key_in_the_database_file_and_clients_sign_after_a_restart(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "var"
    first = start_server(data_dir)
    try:
        keys = _user_with_keys(first)
    finally:
        stop_server(first)
    stored = b"".join(path.read_bytes() for path in data_dir.glob("cloud.db*"))
    assert first.api_key.encode() in stored  # the file is readable: the test looks at the rows
    for secret in (first.secret_key, keys["secretkey"]):
        assert secret.encode() not in stored
    second = start_server(data_dir)
    try:
        as_user = client(second, keys["apikey"], keys["secretkey"])
        assert [each["name"] for each in as_user.listAccounts()["account"]] == ["keeper"]
        assert client(second).listAccounts(name="admin")["account"]
    finally:
        stop_server(second)


def test_db_upgrade_seeds_the_admin_and_writes_admin_json(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    done = cli("db", "upgrade", "--data-dir", str(data_dir))
    assert done.returncode == 0, done.stderr
    assert mode(data_dir) == 0o700
    assert mode(data_dir / "admin.json") == mode(data_dir / "server.key") == 0o600
    written = admin_file(data_dir)
    assert {"apikey", "secretkey", "username", "password", "url"} <= set(written)
    server = start_server(data_dir)
    try:
        assert admin_file(data_dir)["password"] == written["password"]
        assert server.secret_key == written["secretkey"]
        login = httpx.post(
            server.url,
            data={"command": "login", "username": "admin", "password": written["password"]},
        )
        assert login.status_code == 200, login.text
        assert client(server).listAccounts(name="admin")["account"]
    finally:
        stop_server(server)


def test_an_operator_key_file_is_used_and_another_key_is_refused(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    key_file = tmp_path / "keys" / "cirrostack.key"
    missing = cli("db", "upgrade", "--data-dir", str(data_dir), "--secret-key-file", str(key_file))
    assert missing.returncode == 2
    assert f"the server key file {key_file} does not exist" in missing.stderr
    key_file.parent.mkdir()
    key_file.write_text(subprocess.check_output(["openssl", "rand", "-base64", "32"], text=True))
    server = start_server(data_dir, extra=["--secret-key-file", str(key_file)])
    try:
        assert client(server).listAccounts(name="admin")["account"]
    finally:
        stop_server(server)
    assert not (data_dir / "server.key").exists()
    # The data directory's own key (created now) is not the one that sealed this database.
    refused = cli("db", "upgrade", "--data-dir", str(data_dir))
    assert refused.returncode == 2
    assert "every server on one database needs the same key" in refused.stderr
