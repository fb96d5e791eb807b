"""The transport interface, and ``exchange``: send a command and get the answer it calls for."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from cirrostack.protocol import answers, messages
from cirrostack.transport import endpoint, errors

A = TypeVar("A", bound=messages.Answer)

#: Called with each Progress the agent reports on a command, in the sending thread. The job
#: engine wires it to a job's lease: progress is what proves a long command is alive.
OnProgress = Callable[[messages.Progress], None]

#: The inactivity timeout, in seconds, when a transport is given none.
DEFAULT_INACTIVITY = 60.0


class Transport(Protocol):
    """Carries one command to an agent and brings back its answer."""

    def send(
        self,
        to: endpoint.Endpoint,
        command: messages.Command,
        progress: OnProgress | None = None,
    ) -> messages.Answer:
        """The agent's answer to ``command``; ``progress`` sees every Progress before it.

        The wait is an inactivity timeout: ``command.wait`` seconds (0: the transport's
        setting) without progress or answer, then the command is cancelled and AgentTimedOut
        raised; a command that keeps reporting progress may take as long as it needs. Raises
        AgentUnavailable when no agent answers for ``to``, BadAnswer when what came back is
        not an answer. A returned answer may still say ``result=False``.
        """
        ...

    def cancel(self, to: endpoint.Endpoint, command_id: str) -> bool:
        """Ask the agent to stop command ``command_id``; True if it was running there.

        The command's own ``send`` then ends with a CancelledAnswer. Raises AgentUnavailable.
        """
        ...


def exchange(
    transport: Transport,
    to: endpoint.Endpoint,
    command: messages.Command,
    expected: type[A],
    progress: OnProgress | None = None,
) -> A:
    """Send ``command`` and return its successful answer of type ``expected``.

    Raises what ``send`` raises, and: ProtocolMismatch when the agent refused the protocol
    version, CommandCancelled when the command was cancelled, AgentFailed when the agent
    answered ``result=False`` (its ``details`` in the message), BadAnswer when the answer is of
    another type.
    """
    answer = transport.send(to, command, progress)
    name = type(command).__name__
    if isinstance(answer, answers.VersionRefused):
        raise errors.ProtocolMismatch(f"{to} refused {name}: {answer.details}")
    if isinstance(answer, answers.CancelledAnswer):
        raise errors.CommandCancelled(f"{to}: {answer.details or name + ' was cancelled'}")
    if not answer.result:
        raise errors.AgentFailed(f"{to} could not do {name}: {answer.details or 'no reason given'}")
    if not isinstance(answer, expected):
        raise errors.BadAnswer(
            f"{to} answered {name} with {type(answer).__name__}, not {expected.__name__}"
        )
    return answer


def cancel_answer(to: endpoint.Endpoint, answer: messages.Message) -> bool:
    """``found`` of the agent's answer to a CancelCommand; BadAnswer for anything else."""
    if not isinstance(answer, answers.CancelAnswer):
        raise errors.BadAnswer(f"{to} answered a cancel with {type(answer).__name__}")
    return answer.found
