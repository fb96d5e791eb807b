"""Lost races are run again; a known duplicate key is a clear 431, on every backend.

The deadlocks here are real: two sessions in two threads lock two rows in opposite orders,
so PostgreSQL (40P01) or MariaDB (1213) rolls one of them back. Before issue 6 the loser was
answered 530; now its transaction owner runs it again and both succeed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack.api import auth, dispatch, errors, params, registry, responses
from cirrostack.db import engine as db_engine
from cirrostack.db import failures, integrity, transactions
from cirrostack.db.models import configuration, infrastructure
from cirrostack.jobs import queue
from tests import rows
from tests.cloud import Cloud, signed_request
from tests.databases import Database

SERVERS = ("postgresql", "mariadb")
ROWS = ("race.a", "race.b")


def _seed(database: Database) -> None:
    with database.sessions() as session:
        session.add_all(configuration.Configuration(name=name, value="0") for name in ROWS)
        session.commit()


def _set(session: Session, name: str, value: str) -> None:
    session.execute(
        sa.update(configuration.Configuration)
        .where(configuration.Configuration.name == name)
        .values(value=value)
    )


def _crossing(
    first: str, second: str, meet: threading.Barrier, runs: list[str]
) -> Callable[[Session], None]:
    """Work that locks ``first``, waits for the other thread to lock its row, then ``second``:
    on its first run it deadlocks with the other thread's crossing."""

    def work(session: Session) -> None:
        runs.append(first)
        _set(session, first, first)
        if len(runs) <= 2:
            meet.wait()
        _set(session, second, first)

    return work


def _in_parallel(*targets: Callable[[], object]) -> list[BaseException]:
    failed: list[BaseException] = []

    def run(target: Callable[[], object]) -> None:
        try:
            target()
        except BaseException as exc:
            failed.append(exc)

    threads = [threading.Thread(target=run, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return failed


def test_a_real_deadlock_is_run_again_and_both_transactions_commit(database: Database) -> None:
    if database.backend not in SERVERS:
        pytest.skip("SQLite has one writer: its transactions cannot deadlock")
    _seed(database)
    meet, runs = threading.Barrier(2, timeout=20), []
    failed = _in_parallel(
        lambda: transactions.run(database.sessions, _crossing(*ROWS, meet, runs)),
        lambda: transactions.run(database.sessions, _crossing(*reversed(ROWS), meet, runs)),
    )
    assert failed == []
    assert len(runs) == 3  # one of the two ran again
    with database.sessions() as session:
        values = set(session.scalars(sa.select(configuration.Configuration.value)))
    assert len(values) == 1 and values <= set(ROWS)


def test_the_dispatcher_runs_a_deadlocked_command_again(database: Database) -> None:
    if database.backend not in SERVERS:
        pytest.skip("SQLite has one writer: its transactions cannot deadlock")
    _seed(database)
    meet, runs = threading.Barrier(2, timeout=20), []

    def cross(call: registry.Call) -> responses.Reply:
        first, second = ROWS if call.get("order") == "ab" else tuple(reversed(ROWS))
        _crossing(first, second, meet, runs)(call.session)
        return responses.Fields({"success": "true"})

    order = params.Param("order", params.ParamType.STRING, "order")
    crossing = registry.Command("cross", cross, "locks two rows", (order,), public=True)
    dispatcher = dispatch.Dispatcher(registry.Registry([crossing]), database.sessions)
    answers: list[dispatch.Answer] = []

    def send(order: str) -> None:
        pairs = (("command", "cross"), ("order", order))
        answers.append(dispatcher.handle(auth.Request("GET", pairs, {})))

    assert _in_parallel(lambda: send("ab"), lambda: send("ba")) == []
    assert [answer.status for answer in answers] == [200, 200], [a.body for a in answers]


def test_sqlite_busy_is_a_conflict_worth_running_again(sqlite_database: Database) -> None:
    """SQLite's "database is locked" (the busy timeout ran out) is run again, like a deadlock."""
    holder = sa.create_engine(sqlite_database.url, connect_args={"timeout": 0})
    waiter = sa.create_engine(sqlite_database.url, connect_args={"timeout": 0})
    try:
        with holder.connect() as held:
            held.exec_driver_sql("BEGIN IMMEDIATE")
            with waiter.connect() as blocked, pytest.raises(sa.exc.OperationalError) as raised:
                blocked.exec_driver_sql("BEGIN IMMEDIATE")
            held.exec_driver_sql("ROLLBACK")
    finally:
        holder.dispose()
        waiter.dispose()
    assert failures.kind(raised.value) is failures.Kind.CONFLICT
    assert transactions.conflict(raised.value)


def test_a_conflict_met_while_handling_another_error_is_still_a_conflict(
    sqlite_database: Database,
) -> None:
    """MariaDB answers a deadlock inside a savepoint with "SAVEPOINT does not exist", raised
    while the deadlock is handled: the deadlock is only the error's context, and still retried;
    an error raised ``from None`` hides its context on purpose and is not."""
    holder = sa.create_engine(sqlite_database.url, connect_args={"timeout": 0})
    waiter = sa.create_engine(sqlite_database.url, connect_args={"timeout": 0})
    try:
        with holder.connect() as held:
            held.exec_driver_sql("BEGIN IMMEDIATE")
            with waiter.connect() as blocked, pytest.raises(sa.exc.OperationalError) as raised:
                blocked.exec_driver_sql("BEGIN IMMEDIATE")
            held.exec_driver_sql("ROLLBACK")
    finally:
        holder.dispose()
        waiter.dispose()
    try:
        try:
            raise raised.value
        except sa.exc.OperationalError:
            raise RuntimeError("SAVEPOINT sa_savepoint_1 does not exist")  # noqa: B904
    except RuntimeError as after:
        assert transactions.conflict(after)
    try:
        try:
            raise raised.value
        except sa.exc.OperationalError:
            raise RuntimeError("unrelated") from None
    except RuntimeError as hidden:
        assert not transactions.conflict(hidden)


def test_sqlite_a_read_only_transaction_refuses_to_write(sqlite_database: Database) -> None:
    """A command wrongly declared read-only fails loudly instead of racing for the lock."""
    _seed(sqlite_database)
    with (
        db_engine.reading(sqlite_database.sessions) as reader,
        pytest.raises(sa.exc.OperationalError, match="readonly"),
    ):
        _set(reader, "race.a", "written")
    with sqlite_database.sessions() as writer:
        _set(writer, "race.a", "written")
        writer.commit()


def test_other_errors_are_not_run_again(sqlite_database: Database) -> None:
    runs: list[int] = []

    def work(session: Session) -> None:
        runs.append(1)
        raise ValueError("a bug")

    with pytest.raises(ValueError):
        transactions.run(sqlite_database.sessions, work)
    assert runs == [1]


def test_reads_run_beside_a_writer_on_sqlite(sqlite_database: Database) -> None:
    """A read-only transaction neither waits for nor blocks the one writer."""
    _seed(sqlite_database)
    with sqlite_database.sessions() as writer:
        _set(writer, "race.a", "uncommitted")
        with db_engine.reading(sqlite_database.sessions) as reader:
            seen = reader.scalar(
                sa.select(configuration.Configuration.value).where(
                    configuration.Configuration.name == "race.a"
                )
            )
        assert seen == "0"
        writer.commit()


def _two_pods_named_alike(database: Database) -> sa.exc.IntegrityError:
    with database.sessions() as session:
        zone, _, _ = rows.zone_pod_cluster(session)
        session.add(
            infrastructure.HostPod(
                name="pod1",
                data_center_id=zone.id,
                gateway="10.0.1.1",
                cidr_address="10.0.1.0",
                cidr_size=24,
            )
        )
        with pytest.raises(sa.exc.IntegrityError) as raised:
            session.flush()
        session.rollback()
    return raised.value


def test_a_known_duplicate_key_is_a_clear_431_not_530(database: Database) -> None:
    refused = _two_pods_named_alike(database)
    assert failures.kind(refused) is failures.Kind.DUPLICATE
    # CloudStack's (name, zone) key or the live-name key of 0004, whichever the backend checks
    # first; both answer the same text.
    assert integrity.constraint_name(refused) in {
        "uq_host_pod_ref_name_data_center_id",
        "uq_host_pod_ref_data_center_id_live_name",
    }
    answered = errors.from_exception(refused)
    assert answered.code == errors.ErrorCode.PARAM_ERROR
    assert answered.cs_code == errors.CsErrorCode.INVALID_PARAMETER_VALUE
    assert answered.text == "A pod with this name already exists in the zone"


def test_every_listed_duplicate_key_exists_in_the_schema() -> None:
    from cirrostack.db import models

    names = {
        str(key.name)
        for table in models.metadata.tables.values()
        for key in [*table.constraints, *table.indexes]
        if key.name
    }
    assert set(integrity.DUPLICATES) <= names


def test_the_job_runner_runs_a_deadlocked_job_again(database: Database) -> None:
    if database.backend not in SERVERS:
        pytest.skip("SQLite has one writer: its transactions cannot deadlock")
    cloud = Cloud(database.sessions)
    _seed(database)
    meet, runs = threading.Barrier(2, timeout=20), []

    def cross(call: registry.Call) -> responses.Reply:
        first, second = ROWS if call.get("order") == "ab" else tuple(reversed(ROWS))
        _crossing(first, second, meet, runs)(call.session)
        return responses.Fields({"success": "true"})

    order = params.Param("order", params.ParamType.STRING, "order")
    crossing = registry.Command(
        "crossJob", cross, "locks two rows", (order,), is_async=True, event="CROSS.JOB"
    )
    dispatcher = dispatch.Dispatcher(registry.Registry([crossing]), database.sessions)

    def send(order: str) -> None:
        answer = dispatcher.handle(signed_request(cloud.admin.keys, "crossJob", [("order", order)]))
        assert answer.status == 200, answer.body

    assert _in_parallel(lambda: send("ab"), lambda: send("ba")) == []
    with database.sessions() as session:
        jobs = session.scalars(sa.select(queue.Job).where(queue.Job.job_cmd == "crossJob")).all()
    assert [(job.job_status, job.job_result_code) for job in jobs] == [(1, 0), (1, 0)], [
        job.job_result for job in jobs
    ]
    assert len(runs) == 3
