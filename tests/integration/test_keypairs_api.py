"""createSSHKeyPair, registerSSHKeyPair, listSSHKeyPairs, deleteSSHKeyPair through the
dispatcher on every backend: CloudStack's fingerprint, names unique per account regardless of
case, a foreign key pair answered exactly like a missing one, and 30 parallel creates of one
name making one pair on PostgreSQL and MariaDB."""

from __future__ import annotations

import base64
import hashlib
import threading
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from cirrostack import errors
from cirrostack.compute import keypairs
from cirrostack.db import engine as db_engine
from cirrostack.db.models import accounts as account_models
from cirrostack.db.models import attachments as models
from tests import databases
from tests.cloud import Cloud, content
from tests.conftest import Database


def _public(key: Any) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )


def _md5(public: str) -> str:
    digest = hashlib.md5(base64.b64decode(public.split()[1])).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, 32, 2))


def test_create_answers_the_private_key_once_and_stores_none(cloud: Cloud) -> None:
    user = cloud.member("u", cloud.domain("D"))
    created = cloud.ok(user.keys, "createSSHKeyPair", name="Laptop")["keypair"]
    private = serialization.load_pem_private_key(created["privatekey"].encode(), None)
    public = _public(private)
    assert created["fingerprint"] == _md5(public)
    assert created["name"] == "Laptop" and created["account"] == "u"
    listed = cloud.ok(user.keys, "listSSHKeyPairs")
    assert listed["count"] == 1
    assert "privatekey" not in listed["sshkeypair"][0]
    with cloud.sessions() as session:
        row = session.scalars(sa.select(models.SshKeyPair)).one()
        assert row.public_key == public
        stored = " ".join(str(value) for value in row.__dict__.values())
        assert "PRIVATE" not in stored


def test_register_validates_and_fingerprints_every_key_type(cloud: Cloud) -> None:
    user = cloud.member("u", cloud.domain("D"))
    for name, key in (
        ("ed", ed25519.Ed25519PrivateKey.generate()),
        ("ec", ec.generate_private_key(ec.SECP256R1())),
    ):
        public = _public(key)
        answer = cloud.ok(
            user.keys, "registerSSHKeyPair", name=name, publickey=f"{public} me@host"
        )["keypair"]
        assert answer["fingerprint"] == _md5(public)
    for bad in (
        "ssh-rsa",
        "ssh-rsa AAAA!!!",
        "ssh-foo AAAAB3NzaC1yc2E=",
        "ssh-ed25519 AAAAB3NzaC1yc2E=",
    ):
        answer = cloud.call(user.keys, "registerSSHKeyPair", name="bad", publickey=bad)
        assert answer.status == 431, answer.body
        assert content(answer)["errortext"] == "Public key is invalid"
    found = cloud.ok(user.keys, "listSSHKeyPairs", fingerprint=_md5(public).upper())
    assert [pair["name"] for pair in found["sshkeypair"]] == ["ec"]


def test_names_are_unique_per_account_regardless_of_case(cloud: Cloud) -> None:
    domain = cloud.domain("D")
    first, second = cloud.member("first", domain), cloud.member("second", domain)
    cloud.ok(first.keys, "createSSHKeyPair", name="Key")
    answer = cloud.call(first.keys, "createSSHKeyPair", name="kEY")
    assert answer.status == 431
    assert content(answer)["errortext"] == (
        "A key pair with name 'kEY' already exists for this account."
    )
    cloud.ok(second.keys, "createSSHKeyPair", name="key")  # another account: its own name
    public = _public(ed25519.Ed25519PrivateKey.generate())
    cloud.ok(first.keys, "registerSSHKeyPair", name="one", publickey=public)
    again = cloud.call(first.keys, "registerSSHKeyPair", name="two", publickey=public)
    assert again.status == 431 and "already exists for this account" in content(again)["errortext"]
    assert cloud.ok(first.keys, "listSSHKeyPairs", name="KEY")["count"] == 1


def test_a_foreign_key_pair_is_answered_like_a_missing_one(cloud: Cloud) -> None:
    domain = cloud.domain("D")
    owner, other = cloud.member("owner", domain), cloud.member("other", domain)
    cloud.ok(owner.keys, "createSSHKeyPair", name="mine")
    foreign = cloud.call(other.keys, "deleteSSHKeyPair", name="mine")
    missing = cloud.call(other.keys, "deleteSSHKeyPair", name="never")
    assert foreign.status == missing.status == 431
    assert content(foreign)["errortext"] == "A key pair with name 'mine' was not found."
    assert content(missing)["errortext"] == "A key pair with name 'never' was not found."
    named = cloud.call(other.keys, "listSSHKeyPairs", account="owner", domainid=domain)
    unknown = cloud.call(other.keys, "listSSHKeyPairs", account="nobody", domainid=domain)
    assert named.status == unknown.status == 431
    assert cloud.ok(other.keys, "listSSHKeyPairs", listall="true") == {}
    with cloud.sessions() as session:
        owner_id = session.scalars(
            sa.select(account_models.Account.id).where(
                account_models.Account.account_name == "owner"
            )
        ).one()
        assert keypairs.by_name(session, owner_id, "MINE").keypair_name == "mine"
        with pytest.raises(errors.InvalidParameterValue, match="was not found"):
            keypairs.by_name(session, owner_id + 1, "mine")
    # The admin acts for the owner by account and domain.
    cloud.ok(cloud.admin.keys, "deleteSSHKeyPair", name="mine", account="owner", domainid=domain)
    assert cloud.ok(owner.keys, "listSSHKeyPairs") == {}


def test_thirty_parallel_creates_of_one_name_make_one_pair(database: Database) -> None:
    if database.backend == "sqlite":
        pytest.skip("SQLite's single writer serialises the creates: nothing races")
    engine = db_engine.make_engine(database.url, pool_size=34, max_overflow=0)
    try:
        cloud = Cloud(databases.sessions_for(engine))
        user = cloud.member("racer", cloud.domain("D"))
        barrier = threading.Barrier(30)
        statuses: list[tuple[int, str]] = []

        def create() -> None:
            barrier.wait(timeout=60)
            answer = cloud.call(user.keys, "createSSHKeyPair", name="same")
            statuses.append((answer.status, str(content(answer).get("errortext"))))

        threads = [threading.Thread(target=create) for _ in range(30)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=180)
        assert len(statuses) == 30
        assert sorted(status for status, _ in statuses).count(200) == 1, statuses
        assert {text for status, text in statuses if status != 200} == {
            "A key pair with name 'same' already exists for this account."
        }
        assert cloud.ok(user.keys, "listSSHKeyPairs")["count"] == 1
    finally:
        engine.dispose()
