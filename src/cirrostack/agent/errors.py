"""Errors of the agent side.

    AgentError
     ├── InvalidKnob   a simulator setting is unknown, not a whole number, or out of range
     └── UnknownHost   no simulated host has that identity

Messages name the setting or host and say what is wrong.
"""

from __future__ import annotations


class AgentError(Exception):
    """Root of the errors the ``agent`` package raises."""


class InvalidKnob(AgentError, ValueError):
    """A simulator setting (``cpunumber=...``) cannot be used; the message says which and why."""


class UnknownHost(AgentError, LookupError):
    """No simulated host with the given guid exists in this process."""
