"""decide / place / release over a real database on every backend, and the claim race.

Pools and their capacity rows are made by ``tests.allocator_rows`` (the capacity contract).
The race runs 100 placements, each in its own thread, session and connection, released
together against one pool with room for 50: exactly 50 claims win and the allocated bytes never
pass the limit (PostgreSQL and MariaDB; SQLite serialises writers and must be right too).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from cirrostack import errors
from cirrostack.allocators import candidates, claims, pools
from cirrostack.config import errors as config_errors
from cirrostack.config import store
from cirrostack.config.definitions import Scope
from cirrostack.db import engine as db_engine
from cirrostack.db.models import (
    accounts,
    configuration,
    infrastructure,
    offerings,
    storage,
    templates,
)
from cirrostack.db.models import guest_os as guest_os_models
from tests import allocator_rows, rows
from tests.conftest import Database

GIB = allocator_rows.GIB


@dataclasses.dataclass
class World:
    zone: infrastructure.DataCenter
    cluster: infrastructure.Cluster
    other: infrastructure.Cluster


def world(session: Session) -> World:
    zone, pod, cluster = rows.zone_pod_cluster(session)
    cluster.hypervisor_type = "KVM"
    other = infrastructure.Cluster(
        name="c2", pod_id=pod.id, data_center_id=zone.id, hypervisor_type="KVM"
    )
    session.add(other)
    session.flush()
    return World(zone, cluster, other)


def request(place: World, **changes: object) -> pools.VolumeRequest:
    base = pools.VolumeRequest(
        zone_id=place.zone.id, size=10 * GIB, disk_offering_id=None, tags=(),
        use_local_storage=False, cluster_id=place.cluster.id, hypervisor="KVM",
    )  # fmt: skip
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def set_global(session: Session, name: str, value: str) -> None:
    row = session.get(configuration.Configuration, name)
    if row is None:
        session.add(configuration.Configuration(name=name, value=value, instance="DEFAULT"))
    else:
        row.value = value
    session.flush()


def owner(session: Session) -> int:
    domain = accounts.Domain(name="ROOT", path="/")
    session.add(domain)
    session.flush()
    account = accounts.Account(account_name="admin", type=1, domain_id=domain.id)
    session.add(account)
    session.flush()
    return account.id


def os_id(session: Session) -> int:
    category = guest_os_models.GuestOsCategory(name="Debian")
    session.add(category)
    session.flush()
    found = guest_os_models.GuestOs(category_id=category.id, display_name="Debian 12")
    session.add(found)
    session.flush()
    return found.id


def test_every_candidate_gets_a_verdict(database: Database) -> None:
    with database.sessions() as session:
        place = world(session)
        good = allocator_rows.pool(session, place.zone, name="good", cluster=place.cluster)
        tagged = allocator_rows.pool(
            session, place.zone, name="tagged", cluster=place.cluster, tags=["hdd"]
        )
        allocator_rows.pool(
            session, place.zone, name="down", cluster=place.cluster, status="Maintenance"
        )
        allocator_rows.pool(
            session, place.zone, name="full", cluster=place.cluster, allocated=80 * GIB
        )
        allocator_rows.pool(session, place.zone, name="elsewhere", cluster=place.other)
        zone_wide = allocator_rows.pool(session, place.zone, name="zw", scope="ZONE")
        session.commit()
        decision = pools.decide(session, request(place, tags=("SSD",)), seed=1)
        assert not decision.accepted
        by_name = {verdict.pool_name: verdict for verdict in decision.rejected}
        assert set(by_name) == {"good", "tagged", "down", "full", "zw"}  # SQL narrowed: no c2
        assert by_name["down"].reasons[0].code == "state"
        assert {reason.code for reason in by_name["full"].reasons} == {"tags", "allocated capacity"}
        assert decision.summary() == (
            "no suitable pool: 5 rejected: 4 tags, 1 state (pool is Maintenance)"
        )

        decision = pools.decide(session, request(place), seed=1, every_pool=True)
        ids = [verdict.pool_id for verdict in decision.accepted]
        assert set(ids[:2]) == {good.id, tagged.id} and ids[2:] == [zone_wide.id]
        assert decision.accepted[0].allocator == pools.CLUSTER
        assert decision.accepted[2].allocator == pools.ZONE
        by_name = {verdict.pool_name: verdict for verdict in decision.rejected}
        assert by_name["elsewhere"].reasons[0].code == "scope"
        assert by_name["full"].reasons == (pools.Reason("allocated capacity", "90% > 85%"),)


def test_scoped_thresholds_read_in_one_place(database: Database) -> None:
    with database.sessions() as session:
        place = world(session)
        full = allocator_rows.pool(
            session, place.zone, name="full", cluster=place.cluster, allocated=80 * GIB
        )
        session.commit()
        assert not pools.decide(session, request(place)).accepted
        store.write_scoped(
            session, store.Place(Scope.STORAGE_POOL, full.id),
            "pool.storage.allocated.capacity.disablethreshold", "0.95",
        )  # fmt: skip
        assert [v.pool_id for v in pools.decide(session, request(place)).accepted] == [full.id]
        store.write_scoped(
            session, store.Place(Scope.ZONE, place.zone.id),
            "pool.storage.capacity.disablethreshold", "0.10",
        )  # fmt: skip
        full_pool = session.get_one(storage.StoragePool, full.id)
        full_pool.used_bytes = 20 * GIB
        session.flush()
        verdict = pools.decide(session, request(place)).rejected[0]
        assert verdict.reasons == (pools.Reason("used capacity", "20% used >= 10%"),)


def test_the_template_counts_where_its_copy_is_missing(database: Database) -> None:
    with database.sessions() as session:
        place = world(session)
        empty = allocator_rows.pool(
            session, place.zone, name="empty", cluster=place.cluster, allocated=60 * GIB
        )
        holder = allocator_rows.pool(
            session, place.zone, name="holder", cluster=place.cluster, allocated=60 * GIB
        )
        template = templates.VmTemplate(
            name="t",
            format="QCOW2",
            size=20 * GIB,
            account_id=owner(session),
            guest_os_id=os_id(session),
        )
        session.add(template)
        session.flush()
        session.add(templates.TemplateSpoolRef(pool_id=holder.id, template_id=template.id))
        session.commit()
        decision = pools.decide(session, request(place, template_id=template.id))
        assert [v.pool_id for v in decision.accepted] == [holder.id]
        assert decision.rejected[0].pool_id == empty.id


def test_allocator_order_and_algorithm_settings(database: Database) -> None:
    with database.sessions() as session:
        place = world(session)
        busy = allocator_rows.pool(
            session, place.zone, name="busy", cluster=place.cluster, allocated=40 * GIB
        )
        idle = allocator_rows.pool(session, place.zone, name="idle", cluster=place.cluster)
        zone_wide = allocator_rows.pool(session, place.zone, name="zw", scope="ZONE")
        set_global(session, "volume.allocation.algorithm", "firstfitleastconsumed")
        session.commit()
        decision = pools.decide(session, request(place, account_id=1))
        assert [v.pool_id for v in decision.accepted] == [idle.id, busy.id, zone_wide.id]
        assert decision.accepted[0].factors["free"] == 1.0
        set_global(
            session, "storage.pool.allocators.order",
            "ZoneWideStoragePoolAllocator,ClusterScopeStoragePoolAllocator",
        )  # fmt: skip
        decision = pools.decide(session, request(place, account_id=1))
        assert [v.pool_id for v in decision.accepted] == [zone_wide.id, idle.id, busy.id]
        set_global(session, "storage.pool.allocators.order", "ZoneWideStoragePoolAllocator")
        decision = pools.decide(session, request(place, account_id=1))
        assert {v.reasons[0].code for v in decision.rejected} == {"allocator"}


def test_weigher_multipliers_are_settings_read_at_each_decision(database: Database) -> None:
    with database.sessions() as session:
        place = world(session)
        busy = allocator_rows.pool(
            session, place.zone, name="busy", cluster=place.cluster, allocated=40 * GIB
        )
        idle = allocator_rows.pool(session, place.zone, name="idle", cluster=place.cluster)
        half = allocator_rows.pool(
            session, place.zone, name="half", cluster=place.cluster, allocated=20 * GIB
        )
        set_global(session, "volume.allocation.algorithm", "firstfitleastconsumed")
        session.commit()
        decision = pools.decide(session, request(place, account_id=1))
        assert [v.pool_id for v in decision.accepted] == [idle.id, half.id, busy.id]
        assert decision.multipliers == {"free": 1.0, "dispersion": 0.0}
        assert [v.score for v in decision.accepted] == pytest.approx([1.0, 0.5, 0.0])

        set_global(session, "volume.allocation.capacity.multiplier", "2.5")
        session.commit()
        decision = pools.decide(session, request(place, account_id=1))
        assert [v.score for v in decision.accepted] == pytest.approx([2.5, 1.25, 0.0])
        assert decision.accepted[1].factors["free"] == pytest.approx(0.5)

        # The zone's own value wins over the global one; negative: fullest first (stacking).
        store.write_scoped(
            session, store.Place(Scope.ZONE, place.zone.id),
            "volume.allocation.capacity.multiplier", "-1",
        )  # fmt: skip
        session.commit()
        decision = pools.decide(session, request(place, account_id=1))
        assert [v.pool_id for v in decision.accepted] == [busy.id, half.id, idle.id]
        assert decision.multipliers["free"] == -1.0

        # 0: no ordering, the database order stays (first fit).
        store.write_scoped(
            session, store.Place(Scope.ZONE, place.zone.id),
            "volume.allocation.capacity.multiplier", "0",
        )  # fmt: skip
        session.commit()
        decision = pools.decide(session, request(place, account_id=1))
        assert [v.pool_id for v in decision.accepted] == [busy.id, idle.id, half.id]


def test_dispersion_multiplier_and_a_bad_stored_multiplier(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    with database.sessions() as session:
        place = world(session)
        account = owner(session)
        domain = session.get_one(accounts.Account, account).domain_id
        offering = offerings.DiskOffering(name="d", disk_size=GIB)
        session.add(offering)
        session.flush()
        crowded = allocator_rows.pool(session, place.zone, name="crowded", cluster=place.cluster)
        empty = allocator_rows.pool(session, place.zone, name="empty", cluster=place.cluster)
        for index in range(2):
            session.add(
                storage.Volume(
                    name=f"v{index}", account_id=account, domain_id=domain,
                    data_center_id=place.zone.id, pool_id=crowded.id, volume_type="DATADISK",
                    size=GIB, state="Ready", disk_offering_id=offering.id,
                )
            )  # fmt: skip
        set_global(session, "volume.allocation.algorithm", "userdispersing")
        session.commit()
        wanted = request(place, account_id=account)
        assert [v.pool_id for v in pools.decide(session, wanted).accepted] == [empty.id, crowded.id]
        # Many candidates: the other reads take the narrowing as a subquery, same answer.
        monkeypatch.setattr(candidates, "_ID_LIST", 1)
        assert [v.pool_id for v in pools.decide(session, wanted).accepted] == [empty.id, crowded.id]
        monkeypatch.undo()
        set_global(session, "volume.allocation.dispersion.multiplier", "-3")
        session.commit()
        decision = pools.decide(session, wanted)
        assert [v.pool_id for v in decision.accepted] == [crowded.id, empty.id]
        assert decision.accepted[0].score == 0.0 and decision.accepted[1].score == -3.0
        set_global(session, "volume.allocation.dispersion.multiplier", "lots")
        session.commit()
        with pytest.raises(
            config_errors.BadStoredValue, match=r"volume\.allocation\.dispersion\.multiplier"
        ):
            pools.decide(session, wanted)


def test_rule_tags_are_evaluated_against_the_offering_tags(database: Database) -> None:
    with database.sessions() as session:
        place = world(session)
        ruled = allocator_rows.pool(
            session, place.zone, name="ruled", cluster=place.cluster,
            rule_tags=["tags.includes('ssd') || tags.length == 0"],
        )  # fmt: skip
        other = allocator_rows.pool(
            session, place.zone, name="other", cluster=place.cluster,
            rule_tags=["tags[0] == 'hdd'"],
        )  # fmt: skip
        odd = allocator_rows.pool(
            session, place.zone, name="odd", cluster=place.cluster,
            rule_tags=["tags.some(function (t) { return true; })"],
        )  # fmt: skip
        session.commit()
        decision = pools.decide(session, request(place, tags=("ssd",)))
        assert [v.pool_id for v in decision.accepted] == [ruled.id]
        by_id = {v.pool_id: v for v in decision.rejected}
        assert by_id[other.id].reasons[0].code == "tags"
        assert by_id[odd.id].reasons[0].code == "tag rule"
        assert "1 tag rule (rule tag" in decision.summary()
        untagged = pools.decide(session, request(place))
        assert [v.pool_id for v in untagged.accepted] == [ruled.id]


def test_local_pools_for_a_local_offering_on_its_host(database: Database) -> None:
    with database.sessions() as session:
        place = world(session)
        host = infrastructure.Host(
            name="h1", data_center_id=place.zone.id, pod_id=place.cluster.pod_id,
            cluster_id=place.cluster.id, type="Routing", status="Up",
            private_ip_address="10.0.0.5", version="4.20",
        )  # fmt: skip
        session.add(host)
        session.flush()
        local = allocator_rows.pool(
            session, place.zone, name="local", cluster=place.cluster, scope="HOST",
            pool_type="Filesystem", host=host,
        )  # fmt: skip
        allocator_rows.pool(session, place.zone, name="shared", cluster=place.cluster)
        session.commit()
        decision = pools.decide(session, request(place, use_local_storage=True, host_id=host.id))
        assert [(v.pool_id, v.allocator) for v in decision.accepted] == [(local.id, pools.LOCAL)]
        assert not pools.decide(
            session, request(place, use_local_storage=True, host_id=host.id + 1)
        ).accepted


def test_place_claims_and_release_gives_back(database: Database) -> None:
    with database.sessions() as session:
        place = world(session)
        target = allocator_rows.pool(
            session, place.zone, name="p", cluster=place.cluster, allocated=70 * GIB
        )
        session.commit()
        chosen, decision = pools.place(session, request(place))
        assert chosen.id == target.id and decision.accepted
        session.commit()
        assert allocator_rows.allocated(session, target.id) == 80 * GIB
        with pytest.raises(errors.InsufficientCapacity, match="allocated capacity"):
            pools.place(session, request(place))
        assert allocator_rows.allocated(session, target.id) == 80 * GIB
        pools.release(session, target.id, 10 * GIB)
        pools.release(session, target.id, 500 * GIB)
        session.commit()
        assert allocator_rows.allocated(session, target.id) == 0


def test_claim_on_a_chosen_pool_keeps_its_threshold(database: Database) -> None:
    with database.sessions() as session:
        place = world(session)
        target = allocator_rows.pool(
            session, place.zone, name="p", cluster=place.cluster, allocated=80 * GIB
        )
        session.commit()
        assert not claims.claim_on(session, target, 10 * GIB)
        assert claims.claim_on(session, target, 5 * GIB)


ROOM = 50
RACERS = 100


@pytest.fixture
def racing(database: Database) -> Iterator[tuple[sessionmaker[Session], World, int]]:
    if database.backend == "sqlite":
        pytest.skip("the race needs a server database (SQLite serialises its writers)")
    with database.sessions() as session:
        place = world(session)
        target = allocator_rows.pool(session, place.zone, name="race", cluster=place.cluster)
        store.write_scoped(
            session, store.Place(Scope.STORAGE_POOL, target.id),
            "pool.storage.allocated.capacity.disablethreshold", "0.5",
        )  # fmt: skip
        session.commit()
        session.expunge_all()
        pool_id = target.id
    engine = db_engine.make_engine(database.url, pool_size=30, max_overflow=0, pool_timeout=120)
    try:
        yield db_engine.make_sessionmaker(engine), place, pool_id
    finally:
        engine.dispose()


def test_parallel_placements_never_over_commit(
    racing: tuple[sessionmaker[Session], World, int],
) -> None:
    sessions, place, pool_id = racing
    barrier = threading.Barrier(RACERS)
    won: list[int] = []
    refused: list[BaseException] = []
    failed: list[BaseException] = []
    lock = threading.Lock()

    def run() -> None:
        with sessions() as session:
            barrier.wait(timeout=60)
            try:
                chosen, _ = pools.place(session, request(place, size=1 * GIB))
                session.commit()
                with lock:
                    won.append(chosen.id)
            except errors.InsufficientCapacity as exc:
                session.rollback()
                with lock:
                    refused.append(exc)
            except Exception as exc:  # every outcome is examined below
                session.rollback()
                with lock:
                    failed.append(exc)

    workers = [threading.Thread(target=run) for _ in range(RACERS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=180)
    assert not failed, failed[:3]
    assert len(won) == ROOM and len(refused) == RACERS - ROOM
    with sessions() as session:
        assert allocator_rows.allocated(session, pool_id) == ROOM * GIB
        total = session.scalar(
            sa.text("SELECT total_capacity FROM op_host_capacity WHERE host_id = :p"),
            {"p": pool_id},
        )
        assert allocator_rows.allocated(session, pool_id) <= int(total) // 2
