"""What every agent does the same whatever its backend: refuse a protocol version it does not
speak, keep the commands it is running by id so a CancelCommand can reach one, and give each
running command a ``Work`` through which it reports progress and learns it was cancelled.

Backends subclass ``Agent`` and implement ``run``; both transports (the in-process one and the
agent's HTTP server, ``agent.http``) call ``handle`` with a progress callback. ``handle`` may be
called from several threads at once: one per command in flight.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from cirrostack.protocol import answers, commands, messages

#: Where a running command's progress goes (the transport sends it on to the server).
Report = Callable[[messages.Progress], None]


class Cancelled(Exception):
    """Raised inside a backend's ``run`` by ``Work.check`` once the command was cancelled."""


class Work:
    """One running command's handle on its progress and its cancellation."""

    def __init__(self, command_id: str, report: Report | None) -> None:
        self.command_id = command_id
        self._report = report
        self.cancelled = threading.Event()

    def progress(self, done: int, total: int = 0, phase: str = "") -> None:
        """Report how far the command has got; raises Cancelled if it was cancelled.

        A report that cannot be delivered (the server hung up: it gave up or died) cancels
        the command: nobody waits for its answer, so it stops and cleans up.
        """
        self.check()
        if self._report is not None:
            try:
                self._report(
                    messages.Progress(
                        command_id=self.command_id, done=done, total=total, phase=phase
                    )
                )
            except OSError:
                self.cancelled.set()
                raise Cancelled(self.command_id) from None

    def check(self) -> None:
        """Raise Cancelled if the command was cancelled (call between steps)."""
        if self.cancelled.is_set():
            raise Cancelled(self.command_id)

    def pause(self, seconds: float) -> None:
        """Wait ``seconds``, or less if the command is cancelled meanwhile (then raise)."""
        self.cancelled.wait(seconds)
        self.check()


class Agent:
    """Base of every backend's agent: the protocol checks and the running commands."""

    def __init__(self) -> None:
        self._running: dict[str, Work] = {}
        self._running_lock = threading.Lock()

    def handle(self, command: messages.Command, report: Report | None = None) -> messages.Answer:
        """The answer to ``command``; never raises for a command it does not know.

        A command of another protocol version is answered VersionRefused, a CancelCommand
        CancelAnswer (and the command it names stops at its next step), a command cancelled
        while running CancelledAnswer, after ``run`` has cleaned up.
        """
        if command.version not in messages.SPOKEN:
            return answers.VersionRefused(
                details=f"protocol version {command.version} is not spoken by this agent "
                f"(it speaks {', '.join(map(str, messages.SPOKEN))})",
                spoken=messages.SPOKEN,
            )
        if isinstance(command, commands.CancelCommand):
            return self._cancel(command.command_id)
        work = Work(command.id, report)
        with self._running_lock:
            self._running[command.id] = work
        try:
            return self.run(command, work)
        except Cancelled:
            return answers.CancelledAnswer(
                details=f"{type(command).__name__} {command.id} was cancelled"
            )
        finally:
            with self._running_lock:
                self._running.pop(command.id, None)

    def running(self) -> list[str]:
        """The ids of the commands running now."""
        with self._running_lock:
            return list(self._running)

    def run(self, command: messages.Command, work: Work) -> messages.Answer:
        """The backend's answer to ``command`` (override); raises Cancelled once cancelled."""
        return answers.UnsupportedAnswer(details=f"no backend handles {type(command).__name__}")

    def _cancel(self, command_id: str) -> answers.CancelAnswer:
        with self._running_lock:
            work = self._running.get(command_id)
        if work is not None:
            work.cancelled.set()
        return answers.CancelAnswer(command_id=command_id, found=work is not None)
