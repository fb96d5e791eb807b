"""SQLite: the writers of one server queue in the process, never in SQLite's busy handler
(issue 7, item 8: its sleeps made the job workers' short writes slow)."""

from __future__ import annotations

import threading
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from cirrostack.db import engine as db_engine
from cirrostack.db.models import configuration
from tests.databases import Database

NAME = "writers.test"


def _no_busy_wait(dbapi_connection: Any, _record: Any) -> None:
    # Without the process's own queue, a second writer now fails at once: "database is locked".
    dbapi_connection.execute("PRAGMA busy_timeout=0")


def _engine(database: Database) -> sa.Engine:
    engine = db_engine.make_engine(database.url)
    event.listen(engine, "connect", _no_busy_wait)
    with engine.begin() as connection:
        connection.execute(sa.insert(configuration.Configuration).values(name=NAME, value="0"))
    return engine


def _write(engine: sa.Engine, value: str) -> None:
    sessions = db_engine.make_sessionmaker(engine)
    with sessions() as session:
        session.execute(
            sa.update(configuration.Configuration)
            .where(configuration.Configuration.name == NAME)
            .values(value=value)
        )
        session.commit()


def test_a_second_writer_waits_for_the_first_in_the_process(sqlite_database: Database) -> None:
    engine = _engine(sqlite_database)
    errors: list[BaseException] = []
    holding, go = threading.Event(), threading.Event()

    def first() -> None:
        sessions = db_engine.make_sessionmaker(engine)
        with sessions() as session:
            session.execute(
                sa.update(configuration.Configuration)
                .where(configuration.Configuration.name == NAME)
                .values(value="first")
            )
            holding.set()
            go.wait(10)
            session.commit()

    def second() -> None:
        try:
            _write(engine, "second")
        except BaseException as exc:
            errors.append(exc)

    try:
        one = threading.Thread(target=first, daemon=True)
        one.start()
        assert holding.wait(10)
        two = threading.Thread(target=second, daemon=True)
        two.start()
        two.join(0.3)
        assert two.is_alive(), f"the second writer did not wait: {errors}"
        go.set()
        one.join(10)
        two.join(10)
        assert errors == []
        with engine.connect() as connection:
            value = connection.execute(
                sa.select(configuration.Configuration.value).where(
                    configuration.Configuration.name == NAME
                )
            ).scalar_one()
        assert value == "second"
    finally:
        go.set()
        engine.dispose()


def test_a_rolled_back_or_failed_writer_frees_the_queue(sqlite_database: Database) -> None:
    engine = _engine(sqlite_database)
    sessions = db_engine.make_sessionmaker(engine)
    try:
        with sessions() as session:  # closed without commit: rolled back
            session.execute(sa.update(configuration.Configuration).values(value="lost"))
        with sessions() as session:
            try:
                session.execute(sa.text("UPDATE no_such_table SET x = 1"))
            except sa.exc.OperationalError:
                session.rollback()
        done = threading.Thread(target=_write, args=(engine, "after"), daemon=True)
        done.start()
        done.join(10)
        assert not done.is_alive(), "a writer waited for a lock nobody holds"
    finally:
        engine.dispose()
