"""Errors every transport raises (see the package docstring for the tree)."""

from __future__ import annotations


class TransportError(Exception):
    """Root of the errors the ``transport`` package raises; the message names the agent."""


class AgentUnavailable(TransportError):
    """No agent answered for the endpoint: it is not connected, or it stopped answering."""


class BadAnswer(TransportError):
    """The agent answered with something that is not a valid answer to the command sent."""
