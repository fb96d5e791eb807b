"""The composition root: a database, the command families, the dispatcher and the HTTP app.

Called by the CLI (``cirrostack serve``) and by tests that want an in-process server. Nothing
below this module reads the environment or global configuration.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from cirrostack.accounts import bootstrap, vault
from cirrostack.api import app, dispatch, registry
from cirrostack.api import jobs as api_jobs
from cirrostack.api.commands import (
    accounts,
    affinity_groups,
    capacity,
    clusters,
    configuration,
    discovery,
    domains,
    events,
    guest_os,
    host_placement,
    hosts,
    image_stores,
    instance_groups,
    ip_ranges,
    jobs,
    keypairs,
    limits,
    network_offerings,
    network_rules,
    networks,
    offerings,
    physical_networks,
    placement,
    pods,
    roles,
    security_groups,
    session,
    storage_pools,
    tags,
    template_jobs,
    templates,
    users,
    vms,
    volume_transfer,
    volumes,
    zones,
)
from cirrostack.config import keys as config_keys
from cirrostack.config import settings as config_settings
from cirrostack.db import engine as db_engine
from cirrostack.db import migrate
from cirrostack.infrastructure import agents, monitor
from cirrostack.jobs import lease as job_lease
from cirrostack.jobs import reaper as job_reaper
from cirrostack.jobs import worker as job_worker
from cirrostack.storage import extract_cleanup, host_pools, pool_stats

FAMILIES = (
    accounts.COMMANDS,
    capacity.COMMANDS,
    clusters.COMMANDS,
    configuration.COMMANDS,
    discovery.COMMANDS,
    domains.COMMANDS,
    events.COMMANDS,
    guest_os.COMMANDS,
    hosts.COMMANDS,
    jobs.COMMANDS,
    limits.COMMANDS,
    offerings.COMMANDS,
    pods.COMMANDS,
    roles.COMMANDS,
    session.COMMANDS,
    storage_pools.COMMANDS,
    users.COMMANDS,
    zones.COMMANDS,
    volumes.COMMANDS,
    volume_transfer.COMMANDS,
    image_stores.COMMANDS,
    templates.COMMANDS,
    template_jobs.COMMANDS,
    placement.COMMANDS,
    keypairs.COMMANDS,
    instance_groups.COMMANDS,
    affinity_groups.COMMANDS,
    security_groups.COMMANDS,
    tags.COMMANDS,
    vms.COMMANDS,
    host_placement.COMMANDS,
    networks.COMMANDS,
    network_offerings.COMMANDS,
    physical_networks.COMMANDS,
    ip_ranges.COMMANDS,
    network_rules.COMMANDS,
)


def build_registry() -> registry.Registry:
    """Every API command cirrostack answers."""
    return registry.Registry.of(*FAMILIES)


def default_database_url(data_dir: Path) -> str:
    """The embedded default: SQLite in the data directory."""
    return f"sqlite:///{data_dir.resolve() / 'cloud.db'}"


def prepare_database(url: str, secrets: vault.Vault) -> tuple[Engine, bootstrap.AdminCredentials]:
    """Migrate the database at ``url`` and seed it; returns the engine and admin credentials.

    Before seeding, the secret keys an older cirrostack stored in clear are sealed with
    ``secrets``; raises vault.WrongServerKey (and changes nothing) when ``secrets`` does not
    open the keys already sealed in this database.
    """
    engine = db_engine.make_engine(url)
    migrate.upgrade(engine)
    with sessions_of(engine, secrets)() as session:
        vault.seal_clear_keys(session, secrets)
        credentials = bootstrap.ensure_cloud(session)
        session.commit()
    return engine, credentials


def sessions_of(engine: Engine, secrets: vault.Vault) -> sessionmaker[Session]:
    """The session factory of a server: its sessions seal and open with ``secrets``."""
    return db_engine.make_sessionmaker(engine, info=secrets.session_info())


class Service(Protocol):
    """Work that runs beside the API for the server's lifetime (monitors, workers, reapers)."""

    def start(self) -> None:
        """Begin work (e.g. start threads); returns at once."""

    def stop(self) -> None:
        """End work and wait for it; called once at shutdown."""


def background_services(sessions: sessionmaker[Session], fleet: agents.Agents) -> list[Service]:
    """Every background service of a management server, in start order. ``sessions`` are the
    server's (``sessions_of``): the host monitor opens agents' sealed secrets with them."""

    def connect_pools(started: list[int]) -> None:
        host_pools.connect(sessions, fleet, started)

    return [
        monitor.HostMonitor(sessions, fleet, on_round=connect_pools),
        pool_stats.collector(sessions, fleet),
        extract_cleanup.cleaner(sessions, fleet),
    ]


@dataclass(frozen=True)
class JobSettings:
    """How this server runs async jobs (see docs/architecture.md, "Async jobs")."""

    workers: int = 4
    lease: datetime.timedelta = datetime.timedelta(seconds=60)
    reaper_interval: float = 15.0
    max_attempts: int = 3
    #: Reads the lease at each claim and heartbeat (``lease`` is then the fallback).
    lease_of: job_worker.LeaseOf | None = None

    @classmethod
    def configured(cls, sessions: sessionmaker[Session]) -> JobSettings:
        """The settings in the ``configuration`` table: ``job.workers`` (read now: it sizes
        the pool) and ``job.lease.seconds`` (read again at each claim and heartbeat); the
        reaper looks every third of the lease at start, at most every 15 s."""
        with sessions() as session:
            workers = config_settings.Settings(session).get(config_keys.JOB_WORKERS)
            lease = job_lease.configured(session)
        return cls(
            workers=workers,
            lease=lease,
            reaper_interval=min(15.0, lease.total_seconds() / 3),
            lease_of=job_lease.configured,
        )


def create_app(
    engine: Engine,
    services: Sequence[Service] | None = None,
    job_settings: JobSettings | None = None,
    fleet: agents.Agents | None = None,
    *,
    secrets: vault.Vault,
) -> app.Api:
    """The ASGI application serving the API from ``engine``'s database.

    Besides the API it runs the job engine (a reaper, then a worker pool whose ``wake`` is the
    dispatcher's handoff) and ``services`` (default: ``background_services(sessions, fleet)``).
    ``fleet`` (default: a new one) holds the agent connections that commands, jobs and the host
    monitor share. ``secrets`` seals and opens API secret keys (``accounts.vault``). All start
    with the application and stop, in reverse order, at shutdown.
    """
    sessions = sessions_of(engine, secrets)
    settings = job_settings or JobSettings.configured(sessions)
    commands = build_registry()
    # One set of agent connections, shared by API commands, jobs and the host monitor.
    fleet = fleet or agents.Agents.in_process()
    shared = registry.Services(registry=commands, agents=fleet)
    pool = job_worker.WorkerPool(
        sessions,
        api_jobs.command_runner(commands, sessions, shared),
        owner=job_worker.new_owner_id(),
        settings=job_worker.PoolSettings(
            size=settings.workers,
            lease=settings.lease,
            lease_of=settings.lease_of,
            silence_of=job_lease.silence,
        ),
    )
    reaper = job_reaper.Reaper(
        sessions,
        interval=settings.reaper_interval,
        max_attempts=settings.max_attempts,
        silence_of=job_lease.silence,
    )
    dispatcher = dispatch.Dispatcher(commands, sessions, services=shared, handoff=pool.wake)
    others = list(background_services(sessions, fleet) if services is None else services)
    return app.create_app(dispatcher, lifespan=_lifespan([reaper, *others, pool]))


def _lifespan(services: Sequence[Service]) -> app.Lifespan:
    @contextlib.asynccontextmanager
    async def lifespan(_: object) -> AsyncIterator[None]:
        started: list[Service] = []
        try:
            for service in services:
                service.start()
                started.append(service)
            yield
        finally:
            for service in reversed(started):
                service.stop()

    return lifespan


@dataclass(frozen=True)
class AdminFile:
    """DIR/admin.json: how the operator (and scripts) reach the new cloud as admin."""

    path: Path

    def write(self, url: str, credentials: bootstrap.AdminCredentials) -> None:
        """Write the file with mode 0600; a password from the first start is kept."""
        previous = self.read()
        content = {
            "url": url,
            "apikey": credentials.api_key,
            "secretkey": credentials.secret_key,
            "username": credentials.username,
        }
        password = credentials.password or previous.get("password")
        if password:
            content["password"] = password
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(content, handle, indent=2)
            handle.write("\n")
        os.chmod(self.path, 0o600)

    def read(self) -> dict[str, str]:
        """The file's content, or {} when it is missing or unreadable."""
        try:
            loaded = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return loaded if isinstance(loaded, dict) else {}
