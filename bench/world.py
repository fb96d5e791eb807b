"""Shared by the benchmarks: a migrated, seeded database and signed requests.

Rows are inserted in bulk (core INSERTs of many rows) rather than through the API, so tens of
thousands of accounts and hosts take seconds: the benchmarks measure reading, not seeding.
Zones, pods and clusters are made through the API so they are exactly what a client makes.
"""

from __future__ import annotations

import contextlib
import secrets
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

__all__ = ["make_url"]
from sqlalchemy.orm import Session, sessionmaker

from cirrostack import datadir, server
from cirrostack.accounts import bootstrap, passwords, vault
from cirrostack.api import auth, dispatch, registry, signing
from cirrostack.db import engine as db_engine
from cirrostack.db import migrate
from cirrostack.db.models import accounts, capacity, guest_os, infrastructure
from cirrostack.infrastructure import agents, hosts

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
MARIADB = "mysql+pymysql://root@127.0.0.1:3306/mysql"
CHUNK = 2000


@dataclass(frozen=True)
class World:
    """A seeded database and the in-process dispatcher over it, with the admin's keys."""

    url: URL
    engine: sa.Engine
    sessions: sessionmaker[Session]
    dispatcher: dispatch.Dispatcher
    api_key: str
    secret_key: str

    def signed(self, command: str, **named: str) -> auth.Request:
        pairs = [("apiKey", self.api_key), ("response", "json"), ("command", command)]
        pairs += list(named.items())
        pairs.append(("signature", signing.sign(pairs, self.secret_key)))
        return auth.Request("GET", tuple(pairs), {})

    def ok(self, command: str, **named: str) -> dict[str, object]:
        answer = self.dispatcher.handle(self.signed(command, **named))
        if answer.status != 200:
            raise RuntimeError(f"{command}: {answer.body}")
        return next(iter(answer.body.values()))  # type: ignore[no-any-return]


@contextlib.contextmanager
def database(backend: str) -> Iterator[URL]:
    """A scratch migrated database on ``backend`` (sqlite, postgresql or mariadb), dropped
    afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as directory:
            url = make_url(f"sqlite:///{Path(directory) / 'cloud.db'}")
            _migrate(url)
            yield url
        return
    name = f"cirrostack_bench_{secrets.token_hex(4)}"
    server_url = POSTGRES if backend == "postgresql" else MARIADB
    create = f'CREATE DATABASE "{name}"' if backend == "postgresql" else f"CREATE DATABASE {name}"
    drop = (
        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
        if backend == "postgresql"
        else f"DROP DATABASE IF EXISTS {name}"
    )
    admin = db_engine.make_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(create))
    try:
        url = make_url(server_url).set(database=name)
        _migrate(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(drop))
        admin.dispose()


def _migrate(url: URL) -> None:
    engine = db_engine.make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()


def open_world(url: URL, key_file: Path | None = None) -> World:
    """Seed ROOT, the roles and the admin (as a first start does) and build a dispatcher.

    ``key_file`` is the server key of a server already running on ``url`` (its
    DIR/server.key); without one, a fresh key seals the keys of this process alone.
    """
    engine = db_engine.make_engine(url)
    key = datadir.server_key(key_file, create=False) if key_file else vault.new_key()
    sessions = server.sessions_of(engine, vault.Vault(key))
    with sessions() as session:
        credentials = bootstrap.ensure_cloud(session)
        session.commit()
    commands = server.build_registry()
    dispatcher = dispatch.Dispatcher(
        commands, sessions, services=registry.Services(agents=agents.Agents.in_process())
    )
    return World(url, engine, sessions, dispatcher, credentials.api_key, credentials.secret_key)


def seed_accounts(world: World, count: int) -> None:
    """``count`` user accounts under ROOT, each with one user (one shared password hash)."""
    digest = passwords.hash_password("bench-Pa55word")
    with world.sessions() as session:
        for start in range(0, count, CHUNK):
            names = [f"bench{index}" for index in range(start, min(start + CHUNK, count))]
            session.execute(
                sa.insert(accounts.Account),
                [{"account_name": name, "type": 0, "role_id": 4, "domain_id": 1} for name in names],
            )
            ids = dict(
                session.execute(
                    sa.select(accounts.Account.account_name, accounts.Account.id).where(
                        accounts.Account.account_name.in_(names)
                    )
                ).all()
            )
            session.execute(
                sa.insert(accounts.User),
                [
                    {
                        "username": name,
                        "password": digest,
                        "account_id": ids[name],
                        "firstname": "Bench",
                        "lastname": "User",
                        "email": f"{name}@example.org",
                    }
                    for name in names
                ],
            )
        session.commit()


def seed_hosts(world: World, count: int) -> None:
    """``count`` Up routing hosts in one cluster, each with tags, an OS category and the
    capacity rows a connected host has; the cluster overrides its CPU over-commit."""
    zone = world.ok(
        "createZone", name="bz", dns1="8.8.8.8", internaldns1="10.0.0.1", networktype="Advanced"
    )["zone"]
    pod = world.ok(
        "createPod",
        name="bp",
        zoneid=zone["id"],  # type: ignore[index]
        gateway="172.16.0.1",
        netmask="255.255.0.0",
        startip="172.16.0.10",
        endip="172.16.255.200",
    )["pod"]
    world.ok(
        "addCluster",
        clustername="bc",
        clustertype="CloudManaged",
        hypervisor="Simulator",
        zoneid=zone["id"],  # type: ignore[index]
        podid=pod["id"],  # type: ignore[index]
    )
    with world.sessions() as session:
        cluster = session.scalars(sa.select(infrastructure.Cluster)).one()
        category = session.scalars(sa.select(guest_os.GuestOsCategory)).first()
        for start in range(0, count, CHUNK):
            _host_chunk(session, cluster, category, range(start, min(start + CHUNK, count)))
        session.commit()


def _host_chunk(
    session: Session,
    cluster: infrastructure.Cluster,
    category: guest_os.GuestOsCategory | None,
    indexes: range,
) -> None:
    now = int(time.time() * 1000) >> 10
    names = [f"bench-host-{index}" for index in indexes]
    session.execute(
        sa.insert(infrastructure.Host),
        [
            {
                "name": name,
                "type": "Routing",
                "status": "Up",
                "resource_state": "Enabled",
                "data_center_id": cluster.data_center_id,
                "pod_id": cluster.pod_id,
                "cluster_id": cluster.id,
                "hypervisor_type": "Simulator",
                "cpus": 8,
                "cpu_sockets": 1,
                "speed": 2400,
                "ram": 16 << 30,
                "private_ip_address": f"172.16.{index // 250}.{index % 250 + 1}",
                "version": "4.20.0",
                "guid": f"bench-{name}",
                "last_ping": now,
            }
            for index, name in zip(indexes, names, strict=True)
        ],
    )
    found = session.execute(
        sa.select(infrastructure.Host.id).where(infrastructure.Host.name.in_(names))
    ).scalars()
    ids = list(found)
    session.execute(
        sa.insert(infrastructure.HostTag),
        [{"host_id": ident, "tag": tag} for ident in ids for tag in ("fast", "ssd")],
    )
    if category is not None:
        session.execute(
            sa.insert(infrastructure.HostDetail),
            [
                {"host_id": i, "name": hosts.OS_CATEGORY_DETAIL, "value": str(category.id)}
                for i in ids
            ],
        )
    session.execute(
        sa.insert(capacity.HostCapacity),
        [
            {
                "host_id": ident,
                "data_center_id": cluster.data_center_id,
                "pod_id": cluster.pod_id,
                "cluster_id": cluster.id,
                "used_capacity": 0,
                "reserved_capacity": 0,
                "total_capacity": total,
                "capacity_type": kind,
            }
            for ident in ids
            for kind, total in ((0, 16 << 30), (1, 8 * 2400), (90, 8))
        ],
    )
