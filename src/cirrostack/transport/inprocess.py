"""A transport to agents that live in this process (the embedded simulator, tests).

Messages still cross as JSON text: the command is encoded and decoded before the agent sees it,
and so is the answer, so the in-process path checks exactly what a wire transport would. Where
the agents are is asked of a ``Directory`` at every send, so an agent that disappears (or is
told to stop answering) is noticed on the next command.
"""

from __future__ import annotations

from typing import Protocol

from cirrostack.protocol import codec, messages
from cirrostack.protocol import errors as protocol_errors
from cirrostack.transport import endpoint, errors


class Agent(Protocol):
    """An agent object: answers one command at a time."""

    def handle(self, command: messages.Command) -> messages.Answer:
        """The answer to ``command``; never raises for a command it does not know."""
        ...


class Directory(Protocol):
    """Finds the agent answering for an identity."""

    def agent_for(self, guid: str) -> Agent | None:
        """The agent with ``guid`` if it exists and answers now, else None."""
        ...


class InProcessTransport:
    """Sends commands to the agents a directory knows, through the JSON codec."""

    def __init__(self, directory: Directory) -> None:
        self._directory = directory

    def send(self, to: endpoint.Endpoint, command: messages.Command) -> messages.Answer:
        """See ``base.Transport.send``."""
        agent = self._directory.agent_for(to.guid)
        if agent is None:
            raise errors.AgentUnavailable(f"{to} does not answer")
        received = _crossed(command)
        if not isinstance(received, messages.Command):
            raise errors.BadAnswer(f"{type(command).__name__} did not survive encoding")
        try:
            answer = agent.handle(received)
        except Exception as exc:
            raise errors.BadAnswer(f"{to} failed on {type(command).__name__}: {exc}") from exc
        returned = _crossed(answer)
        if not isinstance(returned, messages.Answer):
            raise errors.BadAnswer(f"{to} answered with {type(answer).__name__}, not an answer")
        return returned


def _crossed(message: object) -> messages.Message:
    """``message`` as the other side receives it; raises BadAnswer if it cannot cross."""
    if not isinstance(message, messages.Message):
        raise errors.BadAnswer(f"{type(message).__name__} is not a protocol message")
    try:
        return codec.decode(codec.encode(message))
    except protocol_errors.MalformedMessage as exc:
        raise errors.BadAnswer(str(exc)) from exc
