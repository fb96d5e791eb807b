"""Errors every transport raises (see the package docstring for the tree)."""

from __future__ import annotations


class TransportError(Exception):
    """Root of the errors the ``transport`` package raises; the message names the agent."""


class AgentUnavailable(TransportError):
    """No agent answered for the endpoint: it is not connected, or it stopped answering."""


class AgentTimedOut(AgentUnavailable):
    """The agent showed no progress on a command for the inactivity timeout; the command was
    cancelled (best effort: the agent may be gone)."""


class BadAnswer(TransportError):
    """The agent answered with something that is not a valid answer to the command sent
    (a protocol violation: garbage, the wrong answer type, a refused protocol version)."""


class ProtocolMismatch(BadAnswer):
    """The agent does not speak the command's protocol version."""


class AgentFailed(TransportError):
    """The agent understood the command and answered that it could not do it (result=False);
    the message carries the agent's ``details``. Not a protocol violation."""


class CommandCancelled(TransportError):
    """The command was cancelled (by ``Transport.cancel``) before it finished; the agent
    cleaned up what it had started."""


class Unauthorized(AgentUnavailable):
    """The agent refused the server's secret (it answers nothing else without it)."""
