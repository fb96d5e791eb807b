"""The ``cirrostack`` command: ``serve`` runs the management server, ``db upgrade`` migrates,
``agent`` runs one host's agent in its own process (``cli.agent``).

This is a composition root: it reads arguments and the environment, builds the server from
them and starts it. ``CIRROSTACK_DATABASE_URL`` may stand in for ``--database-url`` and
``CIRROSTACK_SECRET_KEY_FILE`` for ``--secret-key-file``.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import shlex
import ssl
import sys
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import Engine

from cirrostack import __version__, datadir, demo, demo_storage, plugins, server
from cirrostack.accounts import vault
from cirrostack.agent.storage import sandbox
from cirrostack.api import connection
from cirrostack.cli import agent as cli_agent
from cirrostack.infrastructure import agents

_DEFAULT_URL = "http://127.0.0.1:8080/client/api"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    arguments = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        return int(arguments.run(arguments))
    except (vault.SecretsError, plugins.PluginError) as exc:
        print(f"cirrostack: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cirrostack", description=__doc__)
    parser.add_argument("--version", action="version", version=f"cirrostack {__version__}")
    commands = parser.add_subparsers(required=True, metavar="command")
    serve = commands.add_parser("serve", help="run the management server")
    _database_options(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on")
    serve.add_argument(
        "--demo",
        action="store_true",
        help="seed a demo cloud once (a zone, a pod, a cluster, two simulated hosts, offerings)",
    )
    serve.add_argument(
        "--head-timeout",
        type=_seconds,
        default=connection.Limits.head_timeout,
        help="seconds a client has to send a request head (default %(default)s)",
    )
    serve.add_argument(
        "--body-timeout",
        type=_seconds,
        default=connection.Limits.body_timeout,
        help="seconds a client has to send a request body (default %(default)s)",
    )
    serve.add_argument(
        "--agent-ca",
        type=Path,
        help="PEM CA bundle that signs the certificates of agents served over HTTPS "
        "(default: the system's trusted CAs)",
    )
    serve.set_defaults(run=_serve)
    database = commands.add_parser("db", help="database maintenance")
    db_commands = database.add_subparsers(required=True, metavar="action")
    upgrade = db_commands.add_parser("upgrade", help="apply the migrations and seed data")
    _database_options(upgrade)
    upgrade.set_defaults(run=_upgrade)
    env = commands.add_parser(
        "env", help="print shell exports that point the cs client at this server as admin"
    )
    env.add_argument("--data-dir", type=Path, default=Path("var"), help="data directory")
    env.set_defaults(run=_env)
    cli_agent.add_parser(commands)
    return parser


def _agent_ca(path: Path) -> ssl.SSLContext:
    """The TLS context that checks agents' certificates against the CA bundle at ``path``."""
    return ssl.create_default_context(cafile=str(path))


def _seconds(text: str) -> float:
    """A positive number of seconds (argparse type)."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < 86400:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds above 0")
    return value


def _database_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir", type=Path, default=Path("var"), help="data directory (default ./var)"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("CIRROSTACK_DATABASE_URL"),
        help="SQLAlchemy URL (default: SQLite in the data directory); "
        "postgresql://user@host/db or mysql://user@host/db for a server",
    )
    parser.add_argument(
        "--secret-key-file",
        type=Path,
        default=os.environ.get("CIRROSTACK_SECRET_KEY_FILE"),
        help="the server key that seals API secret keys (default: DIR/server.key, created "
        "on first start); every server on one database needs the same key",
    )


def _database_url(arguments: argparse.Namespace) -> str:
    url = arguments.database_url
    return str(url) if url else server.default_database_url(arguments.data_dir)


def _secrets(arguments: argparse.Namespace) -> vault.Vault:
    """The vault of the server key: the operator's file, or DIR/server.key (made if missing)."""
    named = arguments.secret_key_file
    path = Path(named) if named else arguments.data_dir / datadir.KEY_FILE_NAME
    return vault.Vault(datadir.server_key(path, create=not named))


def _upgrade(arguments: argparse.Namespace) -> int:
    datadir.prepare(arguments.data_dir)
    engine, credentials = server.prepare_database(_database_url(arguments), _secrets(arguments))
    engine.dispose()
    admin_file = server.AdminFile(arguments.data_dir / "admin.json")
    # serve writes the URL it listens on; until then, the default one.
    admin_file.write(admin_file.read().get("url", _DEFAULT_URL), credentials)
    print("database is up to date")
    print(f"admin credentials (api key, secret key, password): {admin_file.path}")
    return 0


def _env(arguments: argparse.Namespace) -> int:
    admin = server.AdminFile(arguments.data_dir / "admin.json").read()
    if not admin:
        print(f"no {arguments.data_dir / 'admin.json'}: start the server first", file=sys.stderr)
        return 1
    for name, key in (("ENDPOINT", "url"), ("KEY", "apikey"), ("SECRET", "secretkey")):
        print(f"export CLOUDSTACK_{name}={shlex.quote(admin[key])}")
    return 0


def _seed_demo(
    engine: Engine, secrets: vault.Vault, fleet: agents.Agents, url: str, workdir: Path
) -> None:
    sessions = server.sessions_of(engine, secrets)
    with sessions() as session:
        seeded = demo.ensure(session, fleet)
        session.commit()
    if not seeded.created:
        print(f"demo cloud: zone {seeded.zone} was seeded before; not seeding again", flush=True)
    # The simulated hosts' stand-in NFS servers keep their exports here (agent.storage.sandbox).
    report = demo_storage.ensure(sessions, fleet, workdir / sandbox.EXPORTS_DIRECTORY)
    for line in report.lines():
        print(line, flush=True)
    print(demo.example(url), flush=True)


def _serve(arguments: argparse.Namespace) -> int:
    import uvicorn

    datadir.prepare(arguments.data_dir)
    secrets = _secrets(arguments)
    engine, credentials = server.prepare_database(_database_url(arguments), secrets)
    wildcard = arguments.host in ("0.0.0.0", "::")  # noqa: S104 - a comparison, not a bind
    shown_host = "127.0.0.1" if wildcard else arguments.host
    url = f"http://{shown_host}:{arguments.port}/client/api"
    admin_file = server.AdminFile(arguments.data_dir / "admin.json")
    admin_file.write(url, credentials)
    print(f"cirrostack {__version__} serving the CloudStack API at {url}", flush=True)
    print(f"admin credentials (api key, secret key, password): {admin_file.path}", flush=True)
    # The backends resolve here, at start: an unknown or twice-declared name stops the server.
    verify = True if arguments.agent_ca is None else _agent_ca(arguments.agent_ca)
    # The in-process simulated hosts keep their pools and stores' files in the data directory.
    workdir = arguments.data_dir / "simulator"
    fleet = agents.Agents.in_process(verify=verify, backends=plugins.resolved(), workdir=workdir)
    if arguments.demo:
        _seed_demo(engine, secrets, fleet, url, workdir)
    limits = connection.Limits(
        head_timeout=arguments.head_timeout, body_timeout=arguments.body_timeout
    )
    app = server.create_app(engine, fleet=fleet, secrets=secrets)
    _freeze_startup_objects()
    uvicorn.run(
        app,
        host=arguments.host,
        port=arguments.port,
        log_level="info",
        access_log=False,
        http=connection.protocol_class(limits),
        h11_max_incomplete_event_size=limits.h11_buffer,
        timeout_keep_alive=5,
        server_header=False,
    )
    return 0


def _freeze_startup_objects() -> None:
    """Move what start-up built (the command registry, the settings catalogue, SQLAlchemy's
    mappers and compiled statements) out of the garbage collector's sight: they live as long
    as the process, and scanning them made every full collection a 130 ms pause of every
    request (measured with bench/calls.py: the p99 of a single client)."""
    gc.collect()
    gc.freeze()


if __name__ == "__main__":
    sys.exit(main())
