"""``cirrostack agent``: one host's agent in its own process, serving the protocol over HTTP.

A composition root for the agent side: it resolves the backend by name (``cirrostack.plugins``),
writes DIR/agent.json (url and secret, see ``agent.identity``), and serves ``agent.http`` until
interrupted. With ``--cert`` and ``--key`` it serves HTTPS and the url says ``https``.
"""

from __future__ import annotations

import argparse
import signal
import sys
import types
from pathlib import Path

from cirrostack import plugins
from cirrostack.agent import http, identity


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare ``cirrostack agent`` and its options."""
    parser = commands.add_parser("agent", help="run one host's agent (its own process)")
    parser.add_argument("--backend", default="simulator", help="hypervisor backend by name")
    parser.add_argument(
        "--listen", default="127.0.0.1:8250", help="H:P to listen on (default %(default)s)"
    )
    parser.add_argument("--data-dir", type=Path, required=True, help="the agent's directory")
    parser.add_argument(
        "--shared-dir",
        type=Path,
        help="a directory agents of this machine share (the simulator's stand-in NFS exports "
        "and shared mount points; default: the agent's own directory)",
    )
    parser.add_argument("--cert", type=Path, help="PEM certificate chain: serve HTTPS")
    parser.add_argument("--key", type=Path, help="PEM private key of --cert")
    parser.set_defaults(run=run)


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"--listen {text!r}: expected HOST:PORT")
    return host.strip("[]"), int(port)


def run(arguments: argparse.Namespace) -> int:
    """Serve until SIGTERM or SIGINT; returns the exit status."""
    try:
        backend = plugins.backend(plugins.discover(), arguments.backend)
        address = _address(arguments.listen)
    except (plugins.PluginError, ValueError) as exc:
        print(f"cirrostack agent: {exc}", file=sys.stderr)
        return 2
    if (arguments.cert is None) != (arguments.key is None):
        print("cirrostack agent: --cert and --key go together", file=sys.stderr)
        return 2
    agent = backend.agent(arguments.data_dir / "work", arguments.shared_dir)
    server = http.AgentServer(address, agent, "pending")
    if arguments.cert is not None:
        server.use_tls(arguments.cert, arguments.key)
    scheme = "https" if arguments.cert is not None else "http"
    bound, port = server.server_address[0], server.server_address[1]
    host = bound.decode() if isinstance(bound, bytes) else str(bound)
    shown = f"[{host}]" if ":" in host else host
    try:
        found = identity.ensure(arguments.data_dir, f"{scheme}://{shown}:{port}")
    except ValueError as exc:
        print(f"cirrostack agent: {exc}", file=sys.stderr)
        return 2
    server.expected = f"Bearer {found.secret}".encode()

    def stop(_signal: int, _frame: types.FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    print(f"cirrostack agent ({backend.name}) serving {found.url}", flush=True)
    print(f"its secret (addHost password): {arguments.data_dir / identity.FILE_NAME}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
