"""Settings on a real database (SQLite, PostgreSQL, MariaDB): seeding and the scope chain."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack.accounts import bootstrap
from cirrostack.config import catalogue, errors, keys, seed, service, settings, store
from cirrostack.config.definitions import ConfigKey, Scope
from cirrostack.db import query
from cirrostack.db.models import accounts, infrastructure, storage
from cirrostack.db.models import configuration as models
from tests import rows
from tests.conftest import Database

NOW = datetime.datetime(2026, 1, 1, 12, 0, 0)


@dataclass(frozen=True)
class World:
    """Internal ids of one of each scope object: a pool in a cluster in a zone, and so on."""

    zone: int
    cluster: int
    pool: int
    zone_pool: int
    image_store: int
    domain: int
    account: int


def _seeded(db: Database) -> Iterator[Session]:
    with db.sessions() as opened:
        bootstrap.ensure_cloud(opened)
        opened.commit()
        yield opened


@pytest.fixture
def session(database: Database) -> Iterator[Session]:
    """A seeded cloud on every backend: for what the database could change."""
    yield from _seeded(database)


@pytest.fixture
def sqlite_session(sqlite_database: Database) -> Iterator[Session]:
    """A seeded cloud on SQLite: for the rules, which no backend changes."""
    yield from _seeded(sqlite_database)


def build(session: Session) -> World:
    zone, _pod, cluster = rows.zone_pod_cluster(session)
    pool, zone_pool = (
        storage.StoragePool(
            name=name,
            pool_type="NetworkFilesystem",
            host_address="10.0.0.2",
            path=f"/{name}",
            data_center_id=zone.id,
            cluster_id=cluster_id,
        )
        for name, cluster_id in (("p1", cluster.id), ("p2", None))
    )
    image_store = storage.ImageStore(
        name="s1", protocol="nfs", image_provider_name="NFS", data_center_id=zone.id
    )
    domain = accounts.Domain(name="d1", parent=1, path="/d1/", level=1, owner=2)
    session.add_all([pool, zone_pool, image_store, domain])
    session.flush()
    account = accounts.Account(account_name="a1", type=0, role_id=4, domain_id=domain.id)
    session.add(account)
    session.flush()
    return World(zone.id, cluster.id, pool.id, zone_pool.id, image_store.id, domain.id, account.id)


def set_global(session: Session, name: str, text: str) -> None:
    store.write_global(session, keys.REGISTRY.require(name), text, NOW)


def set_at(session: Session, scope: Scope, ident: int, name: str, text: str) -> None:
    store.write_scoped(session, store.Place(scope, ident), name, text)


def configuration_rows(session: Session) -> list[str]:
    rows = session.execute(sa.select(models.Configuration.__table__)).mappings().all()
    return sorted(json.dumps(dict(row), default=str) for row in rows)


# --- Seeding -----------------------------------------------------------------------------------


def test_bootstrap_seeds_one_row_per_key_with_its_declaration(sqlite_session: Session) -> None:
    session = sqlite_session
    rows = {row.name: row for row in session.scalars(sa.select(models.Configuration))}
    assert set(rows) == {key.name for key in catalogue.REGISTRY}
    row = rows["pool.storage.capacity.disablethreshold"]
    assert (row.value, row.default_value) == ("0.85", "0.85")
    assert (row.category, row.component, row.instance) == ("Alert", "CapacityManager", "DEFAULT")
    assert row.scope == "global,storagepool,zone"
    assert row.description
    assert row.is_dynamic
    assert rows["vm.allocation.algorithm"].options is not None


def test_seeding_is_idempotent_and_keeps_values_and_foreign_rows(session: Session) -> None:
    set_global(session, "expunge.delay", "120")
    session.add(models.Configuration(name="some.foreign.key", value="x", category="Advanced"))
    row = session.get_one(models.Configuration, "storage.max.volume.size")
    row.description = "stale text from an older release"
    session.commit()
    seed.ensure(session)
    session.commit()
    after_first = configuration_rows(session)
    bootstrap.ensure_cloud(session)
    session.commit()
    assert configuration_rows(session) == after_first
    assert session.get_one(models.Configuration, "expunge.delay").value == "120"
    assert session.get_one(models.Configuration, "some.foreign.key").value == "x"
    assert (
        session.get_one(models.Configuration, "storage.max.volume.size").description
        == keys.STORAGE_MAX_VOLUME_SIZE.description
    )


# --- Resolution --------------------------------------------------------------------------------


def test_declared_default_then_global_value(sqlite_session: Session) -> None:
    session = sqlite_session
    values = settings.Settings(session)
    assert values.get(keys.STORAGE_OVERPROVISIONING_FACTOR) == 2.0
    session.get_one(models.Configuration, "storage.overprovisioning.factor").value = None
    assert values.resolve(keys.STORAGE_OVERPROVISIONING_FACTOR).is_default
    set_global(session, "storage.overprovisioning.factor", "3")
    assert values.get(keys.STORAGE_OVERPROVISIONING_FACTOR) == 3.0
    assert isinstance(values.get(keys.CLUSTER_THRESHOLD_ENABLED), bool)
    assert values.get(keys.VM_ALLOCATION_ALGORITHM) == "random"


def test_pool_then_cluster_then_zone_then_global(session: Session) -> None:
    world = build(session)
    values = settings.Settings(session)
    key = keys.STORAGE_CAPACITY_DISABLE_THRESHOLD  # scopes: storage pool, zone
    set_global(session, key.name, "0.8")
    assert values.get(key, pool_id=world.pool) == 0.8
    set_at(session, Scope.ZONE, world.zone, key.name, "0.7")
    # The pool inherits its zone's value: the caller names only the pool.
    assert values.get(key, pool_id=world.pool) == 0.7
    assert values.get(key, zone_id=world.zone) == 0.7
    set_at(session, Scope.STORAGE_POOL, world.pool, key.name, "0.6")
    assert values.get(key, pool_id=world.pool) == 0.6
    assert values.get(key, pool_id=world.zone_pool) == 0.7
    assert values.get(key) == 0.8
    assert values.resolve(key, pool_id=world.pool).place == store.Place(
        Scope.STORAGE_POOL, world.pool
    )


def test_cluster_overrides_zone_only_for_keys_with_both_scopes(sqlite_session: Session) -> None:
    session = sqlite_session
    world = build(session)
    values = settings.Settings(session)
    cluster_key = keys.CLUSTER_CPU_DISABLE_THRESHOLD  # cluster only
    set_at(session, Scope.ZONE, world.zone, cluster_key.name, "0.1")  # not a zone setting
    assert values.get(cluster_key, cluster_id=world.cluster) == 0.85
    set_at(session, Scope.CLUSTER, world.cluster, cluster_key.name, "0.5")
    assert values.get(cluster_key, cluster_id=world.cluster) == 0.5
    # A pool in the cluster sees the cluster's value for a key the pool does not have.
    assert values.get(cluster_key, pool_id=world.pool) == 0.5


def test_cluster_overcommit_uses_cloudstacks_detail_names(sqlite_session: Session) -> None:
    session = sqlite_session
    world = build(session)
    session.add(
        infrastructure.ClusterDetail(cluster_id=world.cluster, name="cpuOvercommitRatio", value="4")
    )
    session.flush()
    values = settings.Settings(session)
    assert values.get(keys.CPU_OVERPROVISIONING_FACTOR, cluster_id=world.cluster) == 4.0
    assert values.get(keys.MEM_OVERPROVISIONING_FACTOR, cluster_id=world.cluster) == 1.0
    set_at(session, Scope.CLUSTER, world.cluster, "mem.overprovisioning.factor", "2")
    names = session.scalars(
        sa.select(infrastructure.ClusterDetail.name).where(
            infrastructure.ClusterDetail.cluster_id == world.cluster
        )
    ).all()
    assert sorted(names) == ["cpuOvercommitRatio", "memoryOvercommitRatio"]


def test_account_then_domain_then_global(session: Session) -> None:
    world = build(session)
    values = settings.Settings(session)
    key = keys.ALLOW_USER_EXPUNGE_RECOVER_VM  # account only
    assert values.get(key, account_id=world.account) is False
    set_at(session, Scope.DOMAIN, world.domain, key.name, "true")  # not a domain setting
    assert values.get(key, account_id=world.account) is False
    set_at(session, Scope.ACCOUNT, world.account, key.name, "true")
    assert values.get(key, account_id=world.account) is True
    assert values.get(key) is False


def test_image_store_then_zone(sqlite_session: Session) -> None:
    session = sqlite_session
    world = build(session)
    values = settings.Settings(session)
    set_at(session, Scope.IMAGE_STORE, world.image_store, "secstorage.nfs.version", "4.1")
    assert values.get(keys.SECONDARY_STORAGE_NFS_VERSION, image_store_id=world.image_store) == "4.1"
    assert values.get(keys.SECONDARY_STORAGE_NFS_VERSION) == ""


def test_a_second_write_replaces_the_override(sqlite_session: Session) -> None:
    session = sqlite_session
    world = build(session)
    key = keys.ZONE_VLAN_NOTIFICATION_THRESHOLD
    set_at(session, Scope.ZONE, world.zone, key.name, "0.5")
    set_at(session, Scope.ZONE, world.zone, key.name, "0.6")
    count = session.scalar(
        sa.select(sa.func.count())
        .select_from(infrastructure.DataCenterDetail)
        .where(infrastructure.DataCenterDetail.name == key.name)
    )
    assert count == 1
    assert settings.Settings(session).get(key, zone_id=world.zone) == 0.6
    store.delete_scoped(session, store.Place(Scope.ZONE, world.zone), key.name)
    assert settings.Settings(session).get(key, zone_id=world.zone) == 0.75


def test_an_unparseable_stored_value_is_an_error_not_the_default(session: Session) -> None:
    world = build(session)
    key = keys.STORAGE_ALLOCATED_CAPACITY_DISABLE_THRESHOLD
    values = settings.Settings(session)
    session.get_one(models.Configuration, key.name).value = "lots"
    session.commit()
    with pytest.raises(errors.BadStoredValue) as caught:
        values.get(key, zone_id=world.zone)
    assert "'lots'" in str(caught.value)
    assert "global value" in str(caught.value)
    set_at(session, Scope.ZONE, world.zone, key.name, "0,5")
    session.commit()
    with pytest.raises(errors.BadStoredValue) as caught:
        values.get(key, pool_id=world.pool)
    message = str(caught.value)
    assert key.name in message
    assert "'0,5'" in message
    assert f"set for zone {world.zone}" in message
    assert "decimal number" in message


def test_an_out_of_range_stored_value_is_an_error_too(sqlite_session: Session) -> None:
    session = sqlite_session
    session.get_one(models.Configuration, "expunge.workers").value = "0"
    with pytest.raises(errors.BadStoredValue, match=r"expunge\.workers"):
        settings.Settings(session).get(keys.EXPUNGE_WORKERS)


# --- Services ----------------------------------------------------------------------------------


def test_update_validates_type_and_scope(sqlite_session: Session) -> None:
    session = sqlite_session
    world = build(session)
    zone = store.Place(Scope.ZONE, world.zone)
    with pytest.raises(errors.InvalidValue, match="decimal number"):
        service.update(session, "zone.vlan.capacity.notificationthreshold", "x", zone, NOW)
    with pytest.raises(errors.ScopeNotSupported, match="global, cluster"):
        service.update(session, "cluster.cpu.allocated.capacity.disablethreshold", "0.5", zone, NOW)
    with pytest.raises(errors.UnknownKey):
        service.update(session, "no.such.key", "1", None, NOW)
    entry = service.update(session, "zone.vlan.capacity.notificationthreshold", " 0.5 ", zone, NOW)
    assert entry.value == "0.5"
    assert session.get_one(models.Configuration, entry.row.name).value == "0.75"
    entry = service.reset(session, "zone.vlan.capacity.notificationthreshold", zone, NOW)
    assert entry.value == "0.75"


def test_search_at_a_scope_lists_only_its_keys_with_the_value_in_force(
    sqlite_session: Session,
) -> None:
    session = sqlite_session
    world = build(session)
    set_at(session, Scope.CLUSTER, world.cluster, "cpu.overprovisioning.factor", "3")
    entries, total = service.search(
        session, service.Filter(), store.Place(Scope.CLUSTER, world.cluster), query.Page()
    )
    assert total == len(entries) == len(catalogue.REGISTRY.supporting(Scope.CLUSTER))
    values = {entry.row.name: entry.value for entry in entries}
    assert values["cpu.overprovisioning.factor"] == "3"
    assert values["cluster.cpu.allocated.capacity.disablethreshold"] == "0.85"


def test_account_falls_back_to_its_domain_for_keys_with_both_scopes(
    sqlite_session: Session,
) -> None:
    session = sqlite_session
    world = build(session)
    # No declared key has both scopes yet; the chain is the accessor's, not the key's.
    key = ConfigKey("test.both", int, 1, "test", scopes=(Scope.ACCOUNT, Scope.DOMAIN))
    values = settings.Settings(session)
    assert values.get(key, account_id=world.account) == 1
    set_at(session, Scope.DOMAIN, world.domain, key.name, "2")
    assert values.get(key, account_id=world.account) == 2
    assert values.get(key, domain_id=world.domain) == 2
    set_at(session, Scope.ACCOUNT, world.account, key.name, "3")
    assert values.get(key, account_id=world.account) == 3
    assert values.resolve(key, account_id=world.account).where == f"set for account {world.account}"
