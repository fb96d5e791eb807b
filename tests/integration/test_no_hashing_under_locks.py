"""No password derivation runs while SQLite's write lock is held (issue 6, finding 3).

PBKDF2 costs about 60 ms of CPU per derivation. Every derivation a call makes (a login's check,
a new password's hash, a user's current password proved before it is replaced) must happen
with no write transaction open, or every other writer of the server waits behind it. The
probe wraps the real derivation: at each one it tries to take the write lock from another
connection without waiting.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest

from cirrostack.accounts import passwords
from cirrostack.api import dispatch
from tests.cloud import PASSWORD, Cloud, Member
from tests.databases import Database
from tests.integration.test_no_work_under_locks import write_lock_free


@pytest.fixture
def derivations(sqlite_database: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bool]]:
    """Whether the write lock was free at each PBKDF2 derivation made while the test runs."""
    seen: list[bool] = []
    real = hashlib.pbkdf2_hmac
    path = str(sqlite_database.url.database)

    def derive(name: str, secret: bytes, salt: bytes, iterations: int, length: int) -> bytes:
        if iterations == passwords.ITERATIONS:
            seen.append(write_lock_free(path))
        return real(name, secret, salt, iterations, length)

    monkeypatch.setattr(hashlib, "pbkdf2_hmac", derive)
    yield seen


def _change_password(cloud: Cloud, member: Member, current: str) -> dispatch.Answer:
    """``member`` sets a new password for itself, proving ``current``."""
    return cloud.call(
        member.keys,
        "updateUser",
        id=member.user_id,
        password="A-new-Pa55word",
        currentpassword=current,
    )


def test_a_user_proves_its_current_password_with_no_lock_held(
    sqlite_database: Database, derivations: list[bool]
) -> None:
    cloud = Cloud(sqlite_database.sessions)
    member = cloud.member("changer", cloud.root_id)
    derivations.clear()
    changed = _change_password(cloud, member, PASSWORD)
    assert changed.status == 200, changed.body
    # the current password checked, the new one hashed: neither under the lock
    assert derivations == [True, True]
    assert cloud.login("changer", cloud.root_id, "A-new-Pa55word").status == 200


def test_a_wrong_current_password_is_refused_and_changes_nothing(
    sqlite_database: Database, derivations: list[bool]
) -> None:
    cloud = Cloud(sqlite_database.sessions)
    member = cloud.member("guesser", cloud.root_id)
    derivations.clear()
    refused = _change_password(cloud, member, "not-the-password")
    assert refused.status == 431, refused.body
    assert "Current password is incorrect" in str(refused.body)
    assert all(derivations), derivations
    assert cloud.login("guesser", cloud.root_id).status == 200


def test_logins_and_new_accounts_hash_with_no_lock_held(
    sqlite_database: Database, derivations: list[bool]
) -> None:
    cloud = Cloud(sqlite_database.sessions)  # the first start seeds the admin: not a call
    derivations.clear()
    cloud.member("newcomer", cloud.root_id)
    assert cloud.login("newcomer", cloud.root_id).status == 200
    assert cloud.login("newcomer", cloud.root_id, "wrong").status == 531
    assert derivations and all(derivations), derivations
