"""One transaction, run again when the database rolled it back for a lost race.

Called by the transaction owners (the API dispatcher, the job runner, the host monitor) around
each unit of work: ``run`` opens a session, calls ``work`` with it and commits. When the database
answers a deadlock, a serialisation failure, a lock wait timeout or SQLite's "database is
locked" (``failures.Kind.CONFLICT``), the transaction has been rolled back as a whole, so the
work runs again from the start in a fresh session, after a short random pause, at most
``attempts`` times in all. Any other error, or the last conflict, is raised unchanged after the
rollback: nothing is half-written.

``work`` must be safe to run again: it reads what it needs inside the transaction and does no
slow or outside work (agent exchanges, password hashing) that a second run would repeat.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session, sessionmaker

from cirrostack.db import engine, failures

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Runs in all, for the first try and the retries.
ATTEMPTS = 4
#: The pause before retry n is random in [0, BASE_PAUSE * 2**(n-1)] seconds.
BASE_PAUSE = 0.02


def run(
    sessions: sessionmaker[Session],
    work: Callable[[Session], T],
    *,
    read: bool = False,
    attempts: int = ATTEMPTS,
    name: str = "transaction",
) -> T:
    """Run ``work`` in one committed transaction, retrying lost races; returns its result.

    ``read`` opens a read-only transaction (``engine.reading``: no SQLite write lock). Raises
    whatever ``work`` or the commit raised when it is not a conflict or attempts are used up.
    """
    attempt = 1
    while True:
        try:
            return _once(sessions, work, read)
        except Exception as exc:
            if attempt >= attempts or not conflict(exc):
                raise
            log.info("%s: %s; running it again (attempt %d)", name, _short(exc), attempt + 1)
        pause(attempt)
        attempt += 1


def pause(attempt: int) -> None:
    """Wait a short random time before run ``attempt + 1`` (so racing runs spread out)."""
    time.sleep(random.uniform(0, BASE_PAUSE * 2 ** (attempt - 1)))


def conflict(exc: BaseException) -> bool:
    """True if ``exc``, or an error it was raised from or while handling, is a lost race worth
    a retry. The implicit context counts: on MariaDB a deadlock inside a savepoint surfaces as
    "SAVEPOINT ... does not exist" raised while the deadlock was being handled, so the deadlock
    is only its ``__context__``."""
    seen: BaseException | None = exc
    visited: set[int] = set()
    while seen is not None and id(seen) not in visited:
        visited.add(id(seen))
        if failures.retryable(seen):
            return True
        seen = seen.__cause__ or (None if seen.__suppress_context__ else seen.__context__)
    return False


def _once(sessions: sessionmaker[Session], work: Callable[[Session], T], read: bool) -> T:
    with engine.reading(sessions) if read else sessions() as session:
        try:
            result = work(session)
            session.commit()
        except BaseException:
            session.rollback()
            raise
        return result


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
