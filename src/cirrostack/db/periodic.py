"""A server background service that runs one round of work, then waits, until stopped.

The interval is read from the database before each round (``interval``, in seconds; a
setting, so a new value applies from the next round without a restart), falling back to
``default`` when it cannot be read. A failed round is logged (an outage once, through
``db.outage``) and the service goes on: the next round may succeed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from cirrostack.db import outage

log = logging.getLogger(__name__)


class Periodic:
    """``round_`` every ``interval(session)`` seconds on a daemon thread (``start``/``stop``)."""

    def __init__(
        self,
        name: str,
        sessions: sessionmaker[Session],
        interval: Callable[[Session], float],
        default: float,
        round_: Callable[[], Any],
    ) -> None:
        self.name = name
        self.sessions = sessions
        self._interval = interval
        self._default = default
        self._round = round_
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._outage = outage.Watch(log, name)

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError(f"the {self.name} is already running")
        self._stopping.clear()
        thread_name = self.name.replace(" ", "-")
        self._thread = threading.Thread(target=self._run, name=thread_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=30.0)
            self._thread = None

    def _run(self) -> None:
        while not self._stopping.is_set():
            interval = self._default
            try:
                with self.sessions() as session:
                    interval = self._interval(session)
                self._round()
            except Exception as exc:
                if self._outage.failed(exc) is None:
                    log.exception("%s round failed", self.name)
            self._stopping.wait(interval)
