"""API secret keys are stored sealed with the server key, on every backend (finding 6).

A copy of the database must not be enough to sign as anyone: every ``user.secret_key`` is
sealed (``accounts.vault``); a database an older cirrostack left with clear keys is sealed in
place at start, and a server whose key does not open what is stored refuses to start.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import orm

from cirrostack import server
from cirrostack.accounts import bootstrap, vault
from cirrostack.db.models import accounts as models
from tests.cloud import Cloud, Keys
from tests.databases import Database


def _stored(database: Database) -> dict[str, str]:
    with database.engine.connect() as connection:
        rows = connection.execute(
            sa.select(models.User.username, models.User.secret_key).where(
                models.User.secret_key.is_not(None)
            )
        )
        return {name: secret for name, secret in rows}


def test_no_secret_key_is_stored_in_clear(database: Database, cloud: Cloud) -> None:
    member = cloud.member("sealed", cloud.root_id)
    stored = _stored(database)
    assert set(stored) == {"admin", "sealed"}
    plain = {cloud.admin.keys.secret_key, member.keys.secret_key}
    assert not plain & set(stored.values())
    assert all(vault.is_sealed(value) for value in stored.values())
    assert not any(secret in value for secret in plain for value in stored.values())
    # ...and the keys still sign.
    assert cloud.call(member.keys, "listAccounts").status == 200
    assert cloud.call(cloud.admin.keys, "listAccounts").status == 200


def test_a_start_seals_the_clear_keys_an_older_version_left(database: Database) -> None:
    secrets = vault.Vault(vault.new_key())
    sessions = server.sessions_of(database.engine, secrets)
    with sessions() as session:
        credentials = bootstrap.ensure_cloud(session)
        session.commit()
    with database.engine.begin() as connection:
        connection.execute(
            sa.update(models.User)
            .where(models.User.id == bootstrap.ADMIN_USER_ID)
            .values(secret_key=credentials.secret_key)
        )
    assert _stored(database)["admin"] == credentials.secret_key
    engine, again = server.prepare_database(database.url.render_as_string(False), secrets)
    engine.dispose()
    stored = _stored(database)["admin"]
    assert vault.is_sealed(stored) and secrets.open(stored) == credentials.secret_key
    assert again.secret_key == credentials.secret_key
    cloud = Cloud(sessions)
    keys = Keys(credentials.api_key, credentials.secret_key)
    assert cloud.call(keys, "listAccounts").status == 200


def test_a_start_with_another_server_key_is_refused(database: Database) -> None:
    url = database.url.render_as_string(False)
    engine, _ = server.prepare_database(url, vault.Vault(vault.new_key()))
    engine.dispose()
    before = _stored(database)
    with pytest.raises(vault.WrongServerKey, match="same key"):
        server.prepare_database(url, vault.Vault(vault.new_key()))
    assert _stored(database) == before


def test_a_stored_key_changed_in_the_database_authenticates_nobody(
    database: Database, cloud: Cloud
) -> None:
    member = cloud.member("altered", cloud.root_id)
    with database.engine.begin() as connection:
        connection.execute(
            sa.update(models.User)
            .where(models.User.api_key == member.keys.api_key)
            .values(secret_key=vault.Vault(vault.new_key()).seal(member.keys.secret_key))
        )
    assert cloud.call(member.keys, "listAccounts").status == 401


def test_a_session_factory_without_the_server_key_writes_no_key(database: Database) -> None:
    plain = orm.sessionmaker(database.engine)
    with plain() as session, pytest.raises(vault.ServerKeyUnusable):
        bootstrap.ensure_cloud(session)
    assert _stored(database) == {}
