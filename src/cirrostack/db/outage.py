"""One log line per database outage, not a traceback per request.

Called by the transaction owners (dispatcher, job runner, worker pool) on every failure and
every success. When the database becomes unreachable or full, ``failed`` logs one warning and
says so (the caller then answers without a traceback); later failures of the same outage are
silent; the first success afterwards logs one line that it is over. A full disk ends only with
a successful write: reads keep being served meanwhile and do not count as recovery.
"""

from __future__ import annotations

import logging
import threading

from cirrostack.db import failures

_OUTAGES = (failures.Kind.UNAVAILABLE, failures.Kind.FULL)
_TEXT = {
    failures.Kind.UNAVAILABLE: "the database cannot be reached",
    failures.Kind.FULL: "the database's disk is full; reads are still served",
}


class Watch:
    """The outage state of one component (``what`` names it in the log)."""

    def __init__(self, logger: logging.Logger, what: str) -> None:
        self._log = logger
        self._what = what
        self._lock = threading.Lock()
        self._current: failures.Kind | None = None

    def failed(self, exc: BaseException) -> failures.Kind | None:
        """The outage ``exc`` shows (logged once per outage), or None for any other error."""
        found = outage_of(exc)
        if found is None:
            return None
        with self._lock:
            changed, self._current = self._current is not found, found
        if changed:
            self._log.warning("%s: %s: %s", self._what, _TEXT[found], _first_line(exc))
        return found

    def succeeded(self, *, wrote: bool) -> None:
        """A transaction committed; ends an outage (a full disk only when ``wrote``)."""
        with self._lock:
            ended = self._current is not None and (
                wrote or self._current is failures.Kind.UNAVAILABLE
            )
            if ended:
                self._current = None
        if ended:
            self._log.warning("%s: the database answers again", self._what)


def outage_of(exc: BaseException) -> failures.Kind | None:
    """UNAVAILABLE or FULL if ``exc`` (or what it was raised from) shows one; else None."""
    seen: BaseException | None = exc
    while seen is not None:
        found = failures.kind(seen)
        if found in _OUTAGES:
            return found
        seen = seen.__cause__
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__
