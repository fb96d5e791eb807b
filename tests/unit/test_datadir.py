"""The data directory is private and the server key file is created 0600 (finding 6)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from cirrostack import datadir
from cirrostack.accounts import vault


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_prepare_makes_the_directory_and_what_is_in_it_private(tmp_path: Path) -> None:
    directory = tmp_path / "var"
    directory.mkdir(mode=0o755)
    os.chmod(directory, 0o755)
    for name in ("cloud.db", "cloud.db-wal", "cloud.db-shm", "admin.json"):
        (directory / name).write_text("x")
        os.chmod(directory / name, 0o644)
    previous = os.umask(0o022)
    try:
        datadir.prepare(directory)
        assert os.umask(0o022) == 0o077
    finally:
        os.umask(previous)
    assert mode(directory) == 0o700
    assert {path.name: mode(path) for path in directory.iterdir()} == dict.fromkeys(
        ("cloud.db", "cloud.db-wal", "cloud.db-shm", "admin.json"), 0o600
    )


def test_prepare_creates_a_missing_directory_0700(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        datadir.prepare(tmp_path / "new" / "var")
    finally:
        os.umask(previous)
    assert mode(tmp_path / "new" / "var") == 0o700


def test_the_default_key_file_is_created_0600_once(tmp_path: Path) -> None:
    path = tmp_path / datadir.KEY_FILE_NAME
    first = datadir.server_key(path, create=True)
    assert mode(path) == 0o600
    assert datadir.server_key(path, create=True) == first
    assert len(first) == vault.KEY_BYTES


def test_a_key_file_the_operator_names_must_exist_and_hold_a_key(tmp_path: Path) -> None:
    with pytest.raises(vault.ServerKeyUnusable, match="does not exist"):
        datadir.server_key(tmp_path / "missing.key", create=False)
    bad = tmp_path / "bad.key"
    bad.write_text("not a key\n")
    with pytest.raises(vault.ServerKeyUnusable, match="32 random bytes"):
        datadir.server_key(bad, create=False)
    good = tmp_path / "good.key"
    good.write_text(datadir.encode_key(vault.new_key()) + "\n")
    assert len(datadir.server_key(good, create=False)) == vault.KEY_BYTES
