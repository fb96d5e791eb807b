"""Commands a management server sends to a host's agent.

The names are CloudStack's. One difference of direction: in CloudStack an agent opens the
connection and sends StartupRoutingCommand with its report; here the server opens it (as
CloudStack does for its "direct" agents, the simulator among them), so StartupRoutingCommand
is the server's greeting and the report comes back as StartupRoutingAnswer.
"""

from __future__ import annotations

from dataclasses import dataclass

from cirrostack.protocol import messages


@dataclass(frozen=True, kw_only=True)
class StartupRoutingCommand(messages.Command):
    """Sent first on every (re)connection: "you are host ``host_id``; report yourself".

    The agent answers with StartupRoutingAnswer and forgets any earlier session state.
    """

    host_id: int
    host_uuid: str


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


ALL: tuple[type[messages.Command], ...] = (
    StartupRoutingCommand,
    ReadyCommand,
    PingCommand,
    MaintainCommand,
)
