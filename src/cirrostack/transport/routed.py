"""One transport over two: a host whose agent has an address goes over HTTP, any other to the
in-process agents (the embedded simulator). The server's ``Agents`` builds it; callers see one
``base.Transport`` whatever runs where.
"""

from __future__ import annotations

from cirrostack.protocol import messages
from cirrostack.transport import base, endpoint, http, inprocess


class RoutedTransport:
    """Sends to ``remote`` for guids ``directory`` has an address for, else to ``local``."""

    def __init__(
        self,
        local: inprocess.InProcessTransport,
        remote: http.HttpTransport,
        directory: http.Directory,
    ) -> None:
        self.local = local
        self.remote = remote
        self._directory = directory

    def _for(self, to: endpoint.Endpoint) -> base.Transport:
        return self.local if self._directory.remote_for(to.guid) is None else self.remote

    def send(
        self,
        to: endpoint.Endpoint,
        command: messages.Command,
        progress: base.OnProgress | None = None,
    ) -> messages.Answer:
        """See ``base.Transport.send``."""
        return self._for(to).send(to, command, progress)

    def cancel(self, to: endpoint.Endpoint, command_id: str) -> bool:
        """See ``base.Transport.cancel``."""
        return self._for(to).cancel(to, command_id)
