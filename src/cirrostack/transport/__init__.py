"""How the management server reaches agents: one method, ``send(endpoint, command) -> answer``.

- ``endpoint``   which agent a command goes to (a host), and picking one
- ``base``       the Transport interface and ``exchange`` (send, then check the answer's type)
- ``inprocess``  a transport to agent objects living in this process (embedded mode, tests)
- ``errors``     the one exception tree every transport raises::

    TransportError
     ├── AgentUnavailable   no agent answers for the endpoint (not connected, unreachable)
     └── BadAnswer          the agent answered, but not with a valid answer to the command

Everything that crosses a transport goes through ``cirrostack.protocol.codec``, the in-process
one included, so a message that works here works over the wire.
"""
