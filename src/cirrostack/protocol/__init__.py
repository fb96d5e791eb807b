"""The agent protocol: the typed messages a management server and an agent exchange.

Shared by both sides and by nothing else: the server (``cirrostack.transport``,
``cirrostack.infrastructure``) and the agent (``cirrostack.agent``) import this package, never
each other. Every message is a frozen dataclass of plain values, so it crosses any transport as
JSON (``codec``):

- ``messages``  the ``Command`` and ``Answer`` bases
- ``commands``  what the server asks (StartupRoutingCommand, ReadyCommand, PingCommand, ...)
- ``answers``   what the agent replies (StartupRoutingAnswer, PingAnswer, ...)
- ``codec``     JSON encoding, and decoding with type checks; ``MalformedMessage`` on garbage
"""
