"""Commands a management server sends to a host's agent.

The names are CloudStack's. One difference of direction: in CloudStack an agent opens the
connection and sends StartupRoutingCommand with its report; here the server opens it (as
CloudStack does for its "direct" agents, the simulator among them), so StartupRoutingCommand
is the server's greeting and the report comes back as StartupRoutingAnswer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cirrostack.protocol import messages


@dataclass(frozen=True, kw_only=True)
class StartupRoutingCommand(messages.Command):
    """Sent first on every (re)connection: "you are host ``host_id``; report yourself".

    The agent answers with StartupRoutingAnswer and forgets any earlier session state.
    ``guid``, ``name``, ``private_ip_address`` and ``settings`` are what the server recorded for
    the host at addHost: an agent with no hardware identity of its own (the simulator in its own
    process) adopts them; one with real hardware reports its own.
    """

    host_id: int
    host_uuid: str
    guid: str = ""
    name: str = ""
    private_ip_address: str = ""
    settings: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class ReadyCommand(messages.Command):
    """Sent once the server has recorded the startup report; the host is Up after the answer."""

    host_id: int
    host_uuid: str
    host_name: str


@dataclass(frozen=True, kw_only=True)
class PingCommand(messages.Command):
    """Sent every ping interval; an answer proves the agent is alive."""

    host_id: int


@dataclass(frozen=True, kw_only=True)
class MaintainCommand(messages.Command):
    """Sent when the administrator puts the host into maintenance."""


@dataclass(frozen=True, kw_only=True)
class SimulatedCopyCommand(messages.Command):
    """The simulator's stand-in long command: "copy" ``size`` bytes from ``source`` to
    ``destination`` in steps (CloudStack's CopyCommand between data stores is
    ``protocol.storage.CopyCommand``; this one exists to exercise progress, cancel and
    inactivity without storage).

    A long command: the agent reports Progress (bytes done of ``size``, phase ``copying``)
    before its SimulatedCopyAnswer, and on CancelCommand stops and removes the partial destination.
    """

    source: str
    destination: str
    size: int


@dataclass(frozen=True, kw_only=True)
class CancelCommand(messages.Command):
    """Stop command ``command_id`` and clean up what it started; answered with CancelAnswer
    at once (the cancelled command itself then answers CancelledAnswer)."""

    command_id: str


ALL: tuple[type[messages.Command], ...] = (
    StartupRoutingCommand,
    ReadyCommand,
    PingCommand,
    MaintainCommand,
    SimulatedCopyCommand,
    CancelCommand,
)
