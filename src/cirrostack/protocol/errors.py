"""Errors of the agent protocol.

    ProtocolError
     └── MalformedMessage   bytes that are not a known message with well-typed fields

Messages name the field or type that is wrong.
"""

from __future__ import annotations


class ProtocolError(Exception):
    """Root of the errors the ``protocol`` package raises."""


class MalformedMessage(ProtocolError, ValueError):
    """The text is not JSON, names an unknown message type, or a field is missing or mistyped."""
