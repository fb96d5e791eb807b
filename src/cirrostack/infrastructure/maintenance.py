"""Host maintenance: prepareHostForMaintenance and cancelHostMaintenance.

Called by the API's host commands and their job. The administrator's request moves the host to
PrepareForMaintenance (``ask_maintenance``, in the request); the job then asks the agent to
drain (MaintainCommand, with no transaction open: ``maintain``) and moves the host to
Maintenance under its fence (``enter``); ``cancel_maintenance`` brings it back to Enabled.
The host's capacity rows follow its resource state.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.db.models import infrastructure as models
from cirrostack.infrastructure import agents, capacity, hosts
from cirrostack.jobs import context
from cirrostack.protocol import answers, commands
from cirrostack.states import gate, machines
from cirrostack.transport import base as transport
from cirrostack.transport import endpoint
from cirrostack.transport import errors as transport_errors

_RE = machines.ResourceStateEvent


def prepare_maintenance(
    session: Session, connections: agents.Agents, host: models.Host
) -> models.Host:
    """Both halves of maintenance at once (``ask_maintenance``, then ``enter_maintenance``)."""
    ask_maintenance(session, host)
    return enter_maintenance(session, connections, host)


def ask_maintenance(session: Session, host: models.Host) -> models.Host:
    """The administrator asks for maintenance: PrepareForMaintenance (the job's state).

    Raises NoTransition when the resource state does not allow it, ResourceInUse when VMs run
    on the host (moving them off is not built yet).
    """
    hosts.refuse_vms(session, host, "put into maintenance")
    gate.transition(session, host, _RE.AdminAskMaintenance)
    return host


def enter_maintenance(
    session: Session,
    connections: agents.Agents,
    host: models.Host,
    fence: sa.ColumnElement[bool] | None = None,
) -> models.Host:
    """Finish maintenance: MaintainCommand to a connected agent, then Maintenance.

    With no VM to move off, maintenance is reached at once. Raises ResourceUnavailable when the
    connected agent refuses or does not answer (the host stays PrepareForMaintenance, for the
    job's failure to roll back). ``fence`` guards the write (a job's claim). A job that must
    not hold its transaction while the agent works calls ``drain`` and ``enter`` itself.
    """
    drain(connections, maintain_target(connections, host), host.name)
    return enter(session, host, fence)


def maintain(
    session: Session, connections: agents.Agents, host: models.Host, job: context.Job | None
) -> models.Host:
    """prepareHostForMaintenance's job: the checkpoint, the agent exchange, the fenced write.

    The job's transaction ends before MaintainCommand goes out (no lock is held while the
    agent works); the answer is activity; the host is read again (fresh: the checkpoint
    expired the session) and moved to Maintenance under the job's fence. Without a job (a
    caller in a request) it is ``enter_maintenance``.
    """
    if job is None:
        return enter_maintenance(session, connections, host)
    uuid, name, target = host.uuid, host.name, maintain_target(connections, host)
    job.checkpoint()
    # The agent's progress reports are the job's activity: they keep its lease renewed while
    # a long drain goes on (job.cancel.threshold.minutes, jobs/context.py), and queryAsyncJobResult
    # shows how far it got (jobprocstatus).
    drain(connections, target, name, context.AgentProgress(job))
    job.activity()
    return enter(session, hosts.by_uuid(session, uuid), job.fence())


def maintain_target(connections: agents.Agents, host: models.Host) -> endpoint.Endpoint | None:
    """Where MaintainCommand goes: the host's agent if it is connected, else nowhere."""
    if host.guid is not None and connections.link(host.guid).connected:
        return endpoint.of(host)
    return None


def drain(
    connections: agents.Agents,
    target: endpoint.Endpoint | None,
    name: str,
    progress: transport.OnProgress | None = None,
) -> None:
    """Ask the agent to prepare for maintenance (may take long; needs no database).

    ``progress`` sees the agent's progress reports (the job engine renews the job's lease
    with them); the wait ends after the inactivity timeout without any."""
    if target is None:
        return
    try:
        transport.exchange(
            connections.transport,
            target,
            commands.MaintainCommand(),
            answers.MaintainAnswer,
            progress,
        )
    except transport_errors.TransportError as exc:
        raise errors.ResourceUnavailable(f"Host {name} did not accept maintenance: {exc}") from exc


def enter(
    session: Session, host: models.Host, fence: sa.ColumnElement[bool] | None = None
) -> models.Host:
    """PrepareForMaintenance → Maintenance, and the host's capacity rows become Disabled."""
    gate.transition(session, host, _RE.InternalEnterMaintenance, fence=fence)
    capacity.set_state(session, host)
    return host


def cancel_maintenance(
    session: Session, host: models.Host, fence: sa.ColumnElement[bool] | None = None
) -> models.Host:
    """Take the host out of maintenance (Enabled); NoTransition if it is not in maintenance."""
    gate.transition(session, host, _RE.AdminCancelMaintenance, fence=fence)
    capacity.set_state(session, host)
    return host
