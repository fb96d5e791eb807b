"""Shared fixtures: a clean, migrated database per test on every reachable backend.

``database`` is parametrised over SQLite, PostgreSQL and MariaDB. A server that cannot be reached
skips its tests on a developer machine and fails them under CI (``CI`` set), because a green run
that silently skipped two of three databases proves little.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from cirrostack.agent import qemu_img as qemu_img_module
from cirrostack.db import engine as db_engine
from cirrostack.db import models
from tests import databases
from tests.cloud import cloud, sqlite_cloud
from tests.databases import Database

__all__ = ["Database", "cloud", "sqlite_cloud"]  # shared by the test modules


def _require(backend: str) -> None:
    reason = databases.unreachable_reason(backend)
    if reason is None:
        return
    if databases.under_ci():
        pytest.fail(f"{reason} (CI is set: every database must be reachable)")
    pytest.skip(reason)


MigratedUrl = Callable[[str], URL]


@pytest.fixture(scope="session")
def template_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MigratedUrl]:
    """The migrations run once per backend per run, into a template nobody connects to.

    Every migrated database of the run (``migrated_url``, the acceptance servers') is a copy
    of it: ``databases.scratch_database(backend, directory, template=...)``.
    """
    created: dict[str, URL] = {}
    directory = tmp_path_factory.mktemp("templates")
    with ExitStack() as stack:

        def get(backend: str) -> URL:
            if backend not in created:
                _require(backend)
                made = databases.migrated_template(backend, directory)
                created[backend] = stack.enter_context(made)
            return created[backend]

        yield get


@pytest.fixture(scope="session")
def migrated_url(
    tmp_path_factory: pytest.TempPathFactory, template_url: MigratedUrl
) -> Iterator[MigratedUrl]:
    """Give one migrated database per backend (a copy of the template), kept for the run."""
    created: dict[str, URL] = {}
    directory = tmp_path_factory.mktemp("databases")
    with ExitStack() as stack:

        def get(backend: str) -> URL:
            if backend not in created:
                copy = databases.scratch_database(backend, directory, template_url(backend))
                created[backend] = stack.enter_context(copy)
            return created[backend]

        yield get


@pytest.fixture(params=databases.BACKENDS)
def database(
    request: pytest.FixtureRequest, migrated_url: MigratedUrl, tmp_path: Path
) -> Iterator[Database]:
    """A clean migrated database on each backend (SQLite: a fresh copy of a migrated file)."""
    yield from _database(request.param, migrated_url, tmp_path)


@pytest.fixture
def sqlite_database(migrated_url: MigratedUrl, tmp_path: Path) -> Iterator[Database]:
    """A clean migrated SQLite database, for tests whose subject is not the backend."""
    yield from _database("sqlite", migrated_url, tmp_path)


def _database(backend: str, migrated_url: MigratedUrl, tmp_path: Path) -> Iterator[Database]:
    _require(backend)
    template = migrated_url(backend)
    if backend == "sqlite":
        copy = tmp_path / "cloud.db"
        shutil.copyfile(str(template.database), copy)
        url = template.set(database=str(copy))
    else:
        url = template
    engine = db_engine.make_engine(url)
    try:
        yield Database(backend, url, engine, databases.sessions_for(engine))
    finally:
        if backend != "sqlite":
            databases.wipe(engine, models.metadata)
        engine.dispose()


@pytest.fixture(scope="session")
def qemu_img() -> qemu_img_module.QemuImg:
    """The real qemu-img wrapper; skips without qemu-img on a developer machine, fails under CI."""
    if qemu_img_module.find() is None:
        reason = "qemu-img is not installed (Debian/Ubuntu: apt install qemu-utils)"
        if databases.under_ci():
            pytest.fail(f"{reason} (CI is set: the storage tests must run)")
        pytest.skip(reason)
    return qemu_img_module.QemuImg()
