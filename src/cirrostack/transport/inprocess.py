"""A transport to agents that live in this process (the embedded simulator, tests).

Messages still cross as JSON text: the command is encoded and decoded before the agent sees it,
and so are its progress reports and its answer, so the in-process path checks exactly what a
wire transport would. Each command runs in a thread of its own while the sender waits for its
progress and answer with the inactivity timeout, as the HTTP transport waits on its stream.
Where the agents are is asked of a ``Directory`` at every send, so an agent that disappears (or
is told to stop answering) is noticed on the next command.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable
from typing import Protocol

from cirrostack.protocol import codec, commands, messages
from cirrostack.protocol import errors as protocol_errors
from cirrostack.transport import base, endpoint, errors


class Agent(Protocol):
    """An agent object (``cirrostack.agent.work.Agent``): answers commands, several at once."""

    def handle(
        self,
        command: messages.Command,
        report: Callable[[messages.Progress], None] | None = None,
    ) -> messages.Answer:
        """The answer to ``command``, after any progress reports; never raises for a command
        it does not know."""
        ...


class Directory(Protocol):
    """Finds the agent answering for an identity."""

    def agent_for(self, guid: str) -> Agent | None:
        """The agent with ``guid`` if it exists and answers now, else None."""
        ...


class InProcessTransport:
    """Sends commands to the agents a directory knows, through the JSON codec.

    ``inactivity`` is read at every send: seconds without progress before a command is given up
    (the ``agent.command.inactivity.timeout`` setting, as the server's Agents holds it).
    """

    def __init__(
        self,
        directory: Directory,
        inactivity: Callable[[], float] = lambda: base.DEFAULT_INACTIVITY,
    ) -> None:
        self._directory = directory
        self._inactivity = inactivity

    def send(
        self,
        to: endpoint.Endpoint,
        command: messages.Command,
        progress: base.OnProgress | None = None,
    ) -> messages.Answer:
        """See ``base.Transport.send``."""
        agent = self._agent(to)
        received = _crossed(command)
        if not isinstance(received, messages.Command):
            raise errors.BadAnswer(f"{type(command).__name__} did not survive encoding")
        arrivals: queue.Queue[messages.Message | Exception] = queue.Queue()

        def run() -> None:
            try:
                arrivals.put(agent.handle(received, lambda report: arrivals.put(report)))
            except Exception as exc:
                arrivals.put(exc)

        threading.Thread(target=run, name=f"agent-{command.id}", daemon=True).start()
        limit = float(command.wait) or self._inactivity()
        while True:
            try:
                arrived = arrivals.get(timeout=limit)
            except queue.Empty:
                self._give_up(agent, command)
                raise errors.AgentTimedOut(
                    f"{to} showed no progress on {type(command).__name__} for {limit:g} s"
                ) from None
            if isinstance(arrived, Exception):
                raise errors.BadAnswer(
                    f"{to} failed on {type(command).__name__}: {arrived}"
                ) from arrived
            crossed = _crossed(arrived)
            if isinstance(crossed, messages.Progress):
                if progress is not None and crossed.command_id == command.id:
                    progress(crossed)
                continue
            if not isinstance(crossed, messages.Answer):
                raise errors.BadAnswer(f"{to} answered with {type(arrived).__name__}")
            return crossed

    def cancel(self, to: endpoint.Endpoint, command_id: str) -> bool:
        """See ``base.Transport.cancel``."""
        answer = self._agent(to).handle(commands.CancelCommand(command_id=command_id))
        return base.cancel_answer(to, _crossed(answer))

    def _agent(self, to: endpoint.Endpoint) -> Agent:
        agent = self._directory.agent_for(to.guid)
        if agent is None:
            raise errors.AgentUnavailable(f"{to} does not answer")
        return agent

    @staticmethod
    def _give_up(agent: Agent, command: messages.Command) -> None:
        # The agent is in trouble already; the timeout is the news, not a failed cancel.
        with contextlib.suppress(Exception):
            agent.handle(commands.CancelCommand(command_id=command.id))


def _crossed(message: object) -> messages.Message:
    """``message`` as the other side receives it; raises BadAnswer if it cannot cross."""
    if not isinstance(message, messages.Message):
        raise errors.BadAnswer(f"{type(message).__name__} is not a protocol message")
    try:
        return codec.decode(codec.encode(message))
    except protocol_errors.MalformedMessage as exc:
        raise errors.BadAnswer(str(exc)) from exc
