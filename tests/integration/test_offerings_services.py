"""Offering services on a real database (SQLite, PostgreSQL, MariaDB): rows, scope, visibility."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.accounts import access, bootstrap, domains, roles
from cirrostack.db import query
from cirrostack.db.models import accounts as account_models
from cirrostack.db.models import infrastructure
from cirrostack.db.models import offerings as models
from cirrostack.offerings import disk_offerings, scope, service_offerings, storage
from tests.conftest import Database

NOW = datetime.datetime(2026, 1, 1, 12, 0, 0)
ALL = query.Page()


@dataclass
class World:
    """ROOT ─ D1 (da: domain admin, u1: user) ─ D1S (s: user); ROOT ─ D2 (u2: user); a zone."""

    session: Session
    admin: access.Caller
    d1: account_models.Domain
    d1s: account_models.Domain
    d2: account_models.Domain
    da: access.Caller
    u1: access.Caller
    s: access.Caller
    u2: access.Caller
    zone: infrastructure.DataCenter


def _caller(
    domain: account_models.Domain, role_type: roles.RoleType = roles.RoleType.USER
) -> access.Caller:
    """A caller in ``domain``: offerings only look at its role and domain (no account row)."""
    account_type = roles.ACCOUNT_TYPE_OF_ROLE_TYPE[role_type]
    return access.Caller(
        user_id=1000,
        user_uuid="user",
        username="someone",
        account_id=1000,
        account_uuid="account",
        account_name="someone",
        account_type=account_type,
        role_id=roles.default_role_id(role_type),
        role_type=role_type,
        domain_id=domain.id,
        domain_uuid=domain.uuid,
        domain_path=domain.path,
    )


def _world(database: Database) -> Iterator[World]:
    with database.sessions() as session:
        bootstrap.ensure_cloud(session)
        admin = access.caller_of(session, session.get_one(account_models.User, 2))
        d1 = domains.create(session, admin, "D1", None)
        d1s = domains.create(session, admin, "D1S", d1)
        d2 = domains.create(session, admin, "D2", None)
        zone = infrastructure.DataCenter(name="zone1")
        session.add(zone)
        session.flush()
        yield World(
            session,
            admin,
            d1,
            d1s,
            d2,
            _caller(d1, roles.RoleType.DOMAIN_ADMIN),
            _caller(d1),
            _caller(d1s),
            _caller(d2),
            zone,
        )


@pytest.fixture
def world(database: Database) -> Iterator[World]:
    """On every backend: for what SQL decides (types, details rows, visibility)."""
    yield from _world(database)


@pytest.fixture
def sqlite_world(sqlite_database: Database) -> Iterator[World]:
    """On SQLite only: for rules decided in Python."""
    yield from _world(sqlite_database)


def _disk(world: World, name: str, **options: object) -> models.DiskOffering:
    spec = disk_offerings.NewDiskOffering(name, name + " text", **options)  # type: ignore[arg-type]
    return disk_offerings.create(world.session, world.admin, spec)


def _names(found: tuple[object, int]) -> set[str]:
    rows, _ = found  # type: ignore[misc]
    return {row.name for row in rows}


def test_disk_offering_rows_keep_bytes_lowercase_types_and_one_detail_per_restriction(
    world: World,
) -> None:
    offering = _disk(
        world,
        "fast",
        disk_size_gb=20,
        storage=storage.StorageSpec(
            provisioning_type=storage.ProvisioningType.FAT,
            tags="ssd, nvme",
            rates=storage.RateLimits(bytes_read_rate=1000, iops_write_rate_max=50),
        ),
        scope=scope.Scope((world.d1, world.d2), (world.zone,)),
    )
    world.session.commit()
    stored = world.session.get_one(models.DiskOffering, offering.id)
    assert (stored.disk_size, stored.provisioning_type, stored.tags) == (
        20 * 1024**3,
        "fat",
        "ssd,nvme",
    )
    assert (stored.bytes_read_rate, stored.iops_write_rate_max, stored.state) == (
        1000,
        50,
        "Active",
    )
    details = world.session.execute(
        sa.select(models.DiskOfferingDetail.name, models.DiskOfferingDetail.value)
        .where(models.DiskOfferingDetail.offering_id == offering.id)
        .order_by(models.DiskOfferingDetail.id)
    ).all()
    assert sorted(details) == sorted(
        [
            ("domainid", str(world.d1.id)),
            ("domainid", str(world.d2.id)),
            ("zoneid", str(world.zone.id)),
        ]
    )
    assert scope.read(world.session, scope.DISK, offering.id) == scope.Scope(
        (world.d1, world.d2), (world.zone,)
    )


def test_service_offering_root_disk_is_a_hidden_disk_offering_retired_with_it(world: World) -> None:
    new = service_offerings.NewServiceOffering(
        "small",
        "Small",
        service_offerings.Compute(cpu_number=1, cpu_speed=500, memory=512),
        storage.StorageSpec(storage_type=storage.StorageType.LOCAL, tags="ssd"),
        root_disk_size_gb=10,
        host_tags="gpu, big",
    )
    offering = service_offerings.create(world.session, world.admin, new)
    world.session.commit()
    disk = service_offerings.root_disk(world.session, offering)
    assert (disk.compute_only, disk.disk_size, disk.use_local_storage, disk.tags) == (
        True,
        10 * 1024**3,
        True,
        "ssd",
    )
    assert offering.host_tag == "gpu,big"
    assert (
        _names(
            disk_offerings.search(
                world.session, world.admin, disk_offerings.DiskOfferingFilter(), ALL
            )
        )
        == set()
    )
    with pytest.raises(errors.InvalidParameterValue):
        disk_offerings.by_uuid(world.session, disk.uuid)

    service_offerings.delete(world.session, world.admin, offering, NOW)
    world.session.commit()
    for row in (offering, disk):
        assert (row.state, row.removed) == ("Inactive", NOW)
    with pytest.raises(errors.InvalidParameterValue, match="Unable to find service offering"):
        service_offerings.by_uuid(world.session, offering.uuid)


def test_a_service_offering_may_follow_an_existing_disk_offering(sqlite_world: World) -> None:
    shared = _disk(sqlite_world, "shared-root", disk_size_gb=8)
    new = service_offerings.NewServiceOffering(
        "follows",
        "f",
        service_offerings.Compute(cpu_number=1, cpu_speed=1, memory=64),
        disk_offering=shared,
    )
    offering = service_offerings.create(sqlite_world.session, sqlite_world.admin, new)
    assert offering.disk_offering_id == shared.id
    with pytest.raises(errors.InvalidParameterValue, match="change that offering's tags"):
        service_offerings.update(
            sqlite_world.session,
            sqlite_world.admin,
            offering,
            service_offerings.ServiceOfferingChanges(storage_tags="x"),
        )
    service_offerings.delete(sqlite_world.session, sqlite_world.admin, offering, NOW)
    assert (shared.state, shared.removed) == ("Active", None)


def test_users_see_public_offerings_and_those_of_their_domain_or_above(world: World) -> None:
    _disk(world, "public", disk_size_gb=1)
    _disk(
        world,
        "root-only",
        disk_size_gb=1,
        scope=scope.Scope((world.session.get_one(account_models.Domain, 1),)),
    )
    _disk(world, "d1", disk_size_gb=1, scope=scope.Scope((world.d1,)))
    _disk(world, "d1s", disk_size_gb=1, scope=scope.Scope((world.d1s,)))
    _disk(world, "d2", disk_size_gb=1, scope=scope.Scope((world.d2,)))
    _disk(world, "hidden", disk_size_gb=1, display_offering=False)
    world.session.commit()
    every = disk_offerings.DiskOfferingFilter()
    search = disk_offerings.search
    session = world.session
    assert _names(search(session, world.admin, every, ALL)) == {
        "public",
        "root-only",
        "d1",
        "d1s",
        "d2",
        "hidden",
    }
    assert _names(search(session, world.u1, every, ALL)) == {"public", "root-only", "d1"}
    assert _names(search(session, world.s, every, ALL)) == {"public", "root-only", "d1", "d1s"}
    assert _names(search(session, world.u2, every, ALL)) == {"public", "root-only", "d2"}
    below = disk_offerings.DiskOfferingFilter(isrecursive=True)
    assert _names(search(session, world.da, below, ALL)) == {"public", "root-only", "d1", "d1s"}
    exactly = disk_offerings.DiskOfferingFilter(domain=world.d1s)
    assert _names(search(session, world.da, exactly, ALL)) == {"d1s"}
    with pytest.raises(errors.PermissionDenied):
        search(session, world.u1, exactly, ALL)
    with pytest.raises(errors.PermissionDenied):
        search(session, world.u2, disk_offerings.DiskOfferingFilter(domain=world.d1), ALL)


def test_zone_filter_keeps_offerings_for_every_zone(world: World) -> None:
    other = infrastructure.DataCenter(name="zone2")
    world.session.add(other)
    world.session.flush()
    _disk(world, "anywhere", disk_size_gb=1)
    _disk(world, "here", disk_size_gb=1, scope=scope.Scope(zones=(world.zone,)))
    _disk(world, "there", disk_size_gb=1, scope=scope.Scope(zones=(other,)))
    found = disk_offerings.search(
        world.session, world.u1, disk_offerings.DiskOfferingFilter(zone=world.zone), ALL
    )
    assert _names(found) == {"anywhere", "here"}


def test_domain_admins_manage_only_offerings_of_their_subtree(sqlite_world: World) -> None:
    mine = disk_offerings.NewDiskOffering("mine", "m", 1, scope=scope.Scope((sqlite_world.d1s,)))
    created = disk_offerings.create(sqlite_world.session, sqlite_world.da, mine)
    for refused in (
        disk_offerings.NewDiskOffering("public", "p", 1),
        disk_offerings.NewDiskOffering("theirs", "t", 1, scope=scope.Scope((sqlite_world.d2,))),
        disk_offerings.NewDiskOffering(
            "tagged",
            "t",
            1,
            storage=storage.StorageSpec(tags="ssd"),
            scope=scope.Scope((sqlite_world.d1,)),
        ),
    ):
        with pytest.raises(errors.PermissionDenied):
            disk_offerings.create(sqlite_world.session, sqlite_world.da, refused)
    zoned = disk_offerings.DiskOfferingChanges(zones=(sqlite_world.zone,))
    with pytest.raises(errors.PermissionDenied, match="zones"):
        disk_offerings.update(sqlite_world.session, sqlite_world.da, created, zoned)
    moved = disk_offerings.DiskOfferingChanges(domains=(sqlite_world.d2,))
    with pytest.raises(errors.PermissionDenied):
        disk_offerings.update(sqlite_world.session, sqlite_world.da, created, moved)
    theirs = _disk(sqlite_world, "d2-only", disk_size_gb=1, scope=scope.Scope((sqlite_world.d2,)))
    with pytest.raises(errors.PermissionDenied):
        disk_offerings.delete(sqlite_world.session, sqlite_world.da, theirs, NOW)
    disk_offerings.delete(sqlite_world.session, sqlite_world.da, created, NOW)
    assert created.state == "Inactive"


def test_update_merges_rates_replaces_scope_and_keeps_the_rest(sqlite_world: World) -> None:
    offering = _disk(
        sqlite_world,
        "rated",
        disk_size_gb=5,
        storage=storage.StorageSpec(
            rates=storage.RateLimits(bytes_read_rate=100, iops_read_rate=7)
        ),
        scope=scope.Scope((sqlite_world.d1,)),
    )
    changes = disk_offerings.DiskOfferingChanges(
        name="renamed",
        rates=storage.RateLimits(bytes_read_rate=200, iops_read_rate=0),
        domains=(),
        zones=(sqlite_world.zone,),
    )
    disk_offerings.update(sqlite_world.session, sqlite_world.admin, offering, changes)
    sqlite_world.session.commit()
    assert (offering.name, offering.display_text, offering.disk_size) == (
        "renamed",
        "rated text",
        5 * 1024**3,
    )
    assert (offering.bytes_read_rate, offering.iops_read_rate) == (200, None)
    assert scope.read(sqlite_world.session, scope.DISK, offering.id) == scope.Scope(
        (), (sqlite_world.zone,)
    )
    with pytest.raises(errors.InvalidParameterValue, match="cannot be greater"):
        disk_offerings.update(
            sqlite_world.session,
            sqlite_world.admin,
            offering,
            disk_offerings.DiskOfferingChanges(rates=storage.RateLimits(bytes_read_rate_max=10)),
        )


def test_system_offerings_list_only_for_root_admins_and_by_type(sqlite_world: World) -> None:
    system = service_offerings.NewServiceOffering(
        "proxy",
        "p",
        service_offerings.Compute(cpu_number=1, cpu_speed=500, memory=1024),
        is_system=True,
        system_vm_type=service_offerings.SystemVmType.CONSOLE_PROXY,
    )
    service_offerings.create(sqlite_world.session, sqlite_world.admin, system)
    guest = service_offerings.NewServiceOffering(
        "guest", "g", service_offerings.Compute(cpu_number=1, cpu_speed=500, memory=1024)
    )
    service_offerings.create(sqlite_world.session, sqlite_world.admin, guest)
    wanted = service_offerings.ServiceOfferingFilter
    search = service_offerings.search
    assert _names(search(sqlite_world.session, sqlite_world.admin, wanted(), ALL)) == {"guest"}
    assert _names(
        search(sqlite_world.session, sqlite_world.admin, wanted(is_system=True), ALL)
    ) == {"proxy"}
    by_type = wanted(is_system=True, system_vm_type="domainrouter")
    assert _names(search(sqlite_world.session, sqlite_world.admin, by_type, ALL)) == set()
    with pytest.raises(errors.InvalidParameterValue, match="Only ROOT admins"):
        search(sqlite_world.session, sqlite_world.da, wanted(is_system=True), ALL)
