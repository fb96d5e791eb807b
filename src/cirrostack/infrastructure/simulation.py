"""configureSimulator: make simulated hosts fail (or stop failing) one kind of command.

CloudStack's simulator takes ``name`` (a command class, e.g. PingCommand) and ``value``
(``result:fail``, with an optional ``count``); cirrostack understands ``result:fail`` and
``result:success`` (back to normal) for the commands of ``cirrostack.protocol.commands``. The
setting lives in the simulated host, in memory: a server restart clears it, like rebooting
the host.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors, plugins
from cirrostack.db import query
from cirrostack.db.models import infrastructure as models
from cirrostack.infrastructure import agents, hypervisors
from cirrostack.protocol import commands
from cirrostack.transport import errors as transport_errors

FAIL = "result:fail"
SUCCEED = "result:success"


@dataclass(frozen=True)
class Scope:
    """Which simulated hosts: those of a zone, pod, cluster, or one host (None: any)."""

    zone_id: int | None = None
    pod_id: int | None = None
    cluster_id: int | None = None
    host_id: int | None = None


def configure(
    session: Session,
    connections: agents.Agents,
    scope: Scope,
    command: str,
    value: str,
    count: int | None = None,
) -> int:
    """Apply the setting to every live simulated host in ``scope``; returns how many.

    Raises InvalidParameterValue for an unknown command or value, or when no simulated host
    is in scope; ResourceUnavailable when a host's simulator cannot be started.
    """
    name = _command(command)
    fail = _fails(value)
    if count is not None and count < 1:
        raise errors.InvalidParameterValue(f"Invalid count {count}: it must be at least 1")
    found = _hosts(session, scope)
    if not found:
        raise errors.InvalidParameterValue("No simulated host matches the given scope")
    for host in found:
        simulated = _running(session, connections, host)
        if fail:
            simulated.fail(name, count)
        else:
            simulated.succeed(name)
    return len(found)


def _command(text: str) -> str:
    names = {kind.__name__.lower(): kind.__name__ for kind in commands.ALL}
    found = names.get(text.strip().lower())
    if found is None:
        raise errors.InvalidParameterValue(
            f"Invalid name {text}: the simulator answers {', '.join(sorted(names.values()))}"
        )
    return found


def _fails(value: str) -> bool:
    wanted = value.strip().lower().replace(" ", "")
    if wanted in (FAIL, SUCCEED):
        return wanted == FAIL
    raise errors.InvalidParameterValue(f"Invalid value {value}: use {FAIL} or {SUCCEED}")


def _hosts(session: Session, scope: Scope) -> list[models.Host]:
    host = models.Host
    statement = sa.select(host).where(
        host.removed.is_(None),
        host.hypervisor_type == hypervisors.HypervisorType.Simulator.value,
        host.guid.is_not(None),
    )
    statement = statement.where(
        *query.equal_to_given(
            (host.data_center_id, scope.zone_id),
            (host.pod_id, scope.pod_id),
            (host.cluster_id, scope.cluster_id),
            (host.id, scope.host_id),
        )
    )
    return list(session.scalars(statement.order_by(host.id)))


def _running(session: Session, connections: agents.Agents, host: models.Host) -> plugins.Failable:
    try:
        agents.boot(session, connections, host)
    except transport_errors.TransportError as exc:
        raise errors.ResourceUnavailable(str(exc)) from exc
    assert host.guid is not None
    simulated = connections.fleet.get(host.guid)
    if not isinstance(simulated, plugins.Failable):
        raise errors.ResourceUnavailable(f"Simulated host {host.name} is not running")
    return simulated
