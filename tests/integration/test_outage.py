"""A database outage and a full disk: 503 with a clear text, one log line, reads, recovery.

Before issue 6 both answered 530 with a traceback per request in the log. The outages here are
real: SQLite's ``max_page_count`` makes the file full (a genuine SQLITE_FULL, as a full disk
gives), and a PostgreSQL database that refuses connections and has its sessions terminated.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from cirrostack.api import auth, errors
from cirrostack.db import engine as db_engine
from cirrostack.db import outage
from cirrostack.infrastructure import monitor
from tests import databases
from tests.cloud import PASSWORD, Cloud, content, session_request
from tests.databases import Database

DISPATCH_LOGGER = "cirrostack.api.dispatch"
MONITOR_LOGGER = "cirrostack.infrastructure.monitor"


def _outage_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == DISPATCH_LOGGER and record.levelno >= logging.WARNING
    ]


@pytest.fixture
def small_file(sqlite_database: Database) -> Iterator[tuple[Cloud, dict[str, int], sa.Engine]]:
    """A cloud on an SQLite file whose size is capped at ``limit["pages"]`` when set."""
    limit: dict[str, int] = {}
    engine = db_engine.make_engine(sqlite_database.url)

    @event.listens_for(engine, "connect")
    def cap(dbapi_connection: object, _record: object) -> None:
        if "pages" in limit:
            cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
            cursor.execute(f"PRAGMA max_page_count={limit['pages']}")
            cursor.close()

    yield Cloud(databases.sessions_for(engine)), limit, engine
    engine.dispose()


def test_a_full_disk_answers_503_keeps_serving_reads_logs_once_and_recovers(
    small_file: tuple[Cloud, dict[str, int], sa.Engine], caplog: pytest.LogCaptureFixture
) -> None:
    cloud, limit, engine = small_file
    limit["pages"] = 1  # SQLite raises it to the file's current size: no page may be added
    engine.dispose()
    caplog.set_level(logging.INFO)
    refused = [cloud.call(cloud.admin.keys, "createDomain", name=f"d{n}") for n in range(60)]
    full = [answer for answer in refused if answer.status != 200]
    assert len(full) >= 10, "the file never filled up"
    for answer in full:
        assert answer.status == errors.ErrorCode.SERVICE_UNAVAILABLE
        assert content(answer)["errortext"] == errors.FULL_TEXT
    assert cloud.ok(cloud.admin.keys, "listDomains", listall="true")["count"] >= 1
    assert cloud.ok(cloud.admin.keys, "listCapabilities")
    lines = _outage_lines(caplog)
    assert len(lines) == 1 and "disk is full" in lines[0], lines
    assert not any(record.exc_info for record in caplog.records)

    del limit["pages"]
    engine.dispose()
    assert cloud.ok(cloud.admin.keys, "createDomain", name="after")["domain"]["name"] == "after"
    assert _outage_lines(caplog)[1:] == ["API: the database answers again"]


@pytest.fixture
def postgresql_cloud(database: Database) -> Cloud:
    if database.backend != "postgresql":
        pytest.skip("the outage is made by PostgreSQL's ALLOW_CONNECTIONS")
    return Cloud(database.sessions)


def _allow_connections(database: Database, allowed: bool) -> None:
    admin = db_engine.make_engine(databases.server_url("postgresql"), isolation_level="AUTOCOMMIT")
    name = database.url.database
    try:
        with admin.connect() as connection:
            connection.execute(
                sa.text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS {str(allowed).lower()}')
            )
            if not allowed:
                connection.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )
    finally:
        admin.dispose()


def test_an_unreachable_database_answers_503_logs_once_and_recovers(
    postgresql_cloud: Cloud, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    cloud = postgresql_cloud
    assert cloud.ok(cloud.admin.keys, "listZones") is not None
    caplog.set_level(logging.INFO)
    _allow_connections(database, False)
    try:
        answers = [cloud.call(cloud.admin.keys, "listZones") for _ in range(5)]
        answers.append(cloud.call(cloud.admin.keys, "createDomain", name="during"))
    finally:
        _allow_connections(database, True)
    for answer in answers:
        assert answer.status == errors.ErrorCode.SERVICE_UNAVAILABLE, answer.body
        assert content(answer)["errortext"] == errors.UNAVAILABLE_TEXT
    lines = _outage_lines(caplog)
    assert len(lines) == 1 and "cannot be reached" in lines[0], lines
    assert not any(record.exc_info for record in caplog.records)

    assert cloud.ok(cloud.admin.keys, "createDomain", name="after")["domain"]["name"] == "after"
    assert _outage_lines(caplog)[1:] == ["API: the database answers again"]


def test_the_host_monitor_logs_an_outage_once_not_once_per_round(
    postgresql_cloud: Cloud, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    watch = outage.Watch(logging.getLogger(MONITOR_LOGGER), "host monitor")
    caplog.set_level(logging.INFO)
    _allow_connections(database, False)
    try:
        for _ in range(3):
            monitor.sweep(database.sessions, postgresql_cloud.agents, monitor.Timings(), watch)
    finally:
        _allow_connections(database, True)
    monitor.sweep(database.sessions, postgresql_cloud.agents, monitor.Timings(), watch)
    lines = [r.getMessage() for r in caplog.records if r.name == MONITOR_LOGGER]
    assert len(lines) == 2, lines
    assert "cannot be reached" in lines[0]
    assert lines[1] == "host monitor: the database answers again"
    assert not any(record.exc_info for record in caplog.records)


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 32 MiB tmpfs (root only): a disk that really fills up."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mountpoint = tmp_path / "disk"
    mountpoint.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", str(mountpoint)], check=False
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def _fill(path: Path) -> None:
    # Unbuffered: a buffered file would try again to write what did not fit when closed.
    with path.open("wb", buffering=0) as filler:
        try:
            while True:
                filler.write(b"\0" * 65536)
                filler.flush()
        except OSError:
            pass


def test_a_really_full_disk_still_serves_signed_and_session_reads(
    sqlite_database: Database, tiny_disk: Path
) -> None:
    copy = tiny_disk / "cloud.db"
    shutil.copyfile(str(sqlite_database.url.database), copy)
    engine = db_engine.make_engine(sqlite_database.url.set(database=str(copy)))
    try:
        cloud = Cloud(databases.sessions_for(engine))
        bob = cloud.member("bob", cloud.root_id)
        login = cloud.dispatcher.handle(
            auth.Request(
                "POST",
                (("command", "login"), ("username", bob.username), ("password", PASSWORD)),
                {},
            )
        )
        assert login.status == 200, login.body
        _fill(tiny_disk / "filler")
        refused = cloud.call(cloud.admin.keys, "createDomain", name="full")
        assert refused.status == errors.ErrorCode.SERVICE_UNAVAILABLE, refused.body
        assert content(refused)["errortext"] == errors.FULL_TEXT
        assert cloud.ok(bob.keys, "listZones") is not None
        by_session = cloud.dispatcher.handle(session_request(login, "listZones"))
        assert by_session.status == 200, by_session.body
        (tiny_disk / "filler").unlink()
        assert cloud.ok(cloud.admin.keys, "createDomain", name="after")["domain"]["name"]
    finally:
        engine.dispose()
