"""The transport interface, and ``exchange``: send a command and get the answer it calls for."""

from __future__ import annotations

from typing import Protocol, TypeVar

from cirrostack.protocol import messages
from cirrostack.transport import endpoint, errors

A = TypeVar("A", bound=messages.Answer)


class Transport(Protocol):
    """Carries one command to an agent and brings back its answer."""

    def send(self, to: endpoint.Endpoint, command: messages.Command) -> messages.Answer:
        """The agent's answer to ``command``.

        Raises AgentUnavailable when no agent answers for ``to``, BadAnswer when what came
        back is not an answer. A returned answer may still say ``result=False``.
        """
        ...


def exchange(
    transport: Transport, to: endpoint.Endpoint, command: messages.Command, expected: type[A]
) -> A:
    """Send ``command`` and return its successful answer of type ``expected``.

    Raises what ``send`` raises, and BadAnswer when the answer is of another type or says
    ``result=False`` (its ``details`` in the message).
    """
    answer = transport.send(to, command)
    if not answer.result:
        raise errors.BadAnswer(
            f"{to} could not do {type(command).__name__}: {answer.details or 'no reason given'}"
        )
    if not isinstance(answer, expected):
        raise errors.BadAnswer(
            f"{to} answered {type(command).__name__} with {type(answer).__name__}, "
            f"not {expected.__name__}"
        )
    return answer
