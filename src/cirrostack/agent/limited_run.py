"""Run one external program under limits and watch it: the runner beneath ``agent.qemu_img``.

Why a runner of our own rather than ``subprocess.run(timeout=...)``: a qemu-img convert of a
large image may rightly take an hour, so a total timeout is wrong; what is wrong is a process
that stops making progress (a hung NFS mount, a stuck device). So the clock here restarts on
every line the program writes (qemu-img ``-p`` writes one per step of progress), and the process
is killed after ``inactivity`` seconds of silence or as soon as ``cancel`` is set. CPU seconds
and address space are capped by ``setrlimit`` in the child before it runs (a malicious image
must not make qemu-img eat the host: the cinder lesson).

The program gets an argv list (never a shell), no stdin, and a minimal ``C`` locale so its
messages are English and can be matched. Output is read in this thread with a selector: no
helper threads, and the caller's ``on_line`` runs in the caller's thread.
"""

from __future__ import annotations

import codecs
import contextlib
import enum
import os
import resource
import selectors
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

#: Output kept: enough for any JSON answer or error message, bounded against a chatty program.
_KEEP_OUT = 1024 * 1024
_KEEP_ERR = 64 * 1024
#: How often the loop wakes to look at the cancel event and the clock, seconds.
_TICK = 0.1


class Stop(enum.Enum):
    """Why the runner killed the program (``None`` on an outcome: it ended by itself)."""

    INACTIVE = "inactive"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Outcome:
    """How the program ended: its exit status, what it wrote (bounded) and why it was killed."""

    returncode: int
    stdout: str
    stderr: str
    stopped: Stop | None


def _limiter(cpu_seconds: int, address_space: int) -> Callable[[], None]:
    """A ``preexec_fn`` that caps the child's CPU time and address space."""

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))

    return apply


def _environment() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "LANG": "C"}


class _Lines:
    """Splits a stream on ``\\r`` and ``\\n`` (progress redraws with ``\\r``) and keeps a tail."""

    def __init__(self, keep: int, on_line: Callable[[str], None] | None) -> None:
        self._keep = keep
        self._on_line = on_line
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._pending = ""
        self.kept = ""

    def feed(self, raw: bytes) -> None:
        data = self._decoder.decode(raw)
        self.kept = (self.kept + data)[-self._keep :]
        self._pending += data
        *lines, self._pending = self._pending.replace("\r", "\n").split("\n")
        if self._on_line is not None:
            for line in lines:
                if line.strip():
                    self._on_line(line)


def run(
    argv: Sequence[str],
    *,
    cpu_seconds: int,
    address_space: int,
    inactivity: float | None,
    cancel: threading.Event | None = None,
    on_line: Callable[[str], None] | None = None,
) -> Outcome:
    """Run ``argv`` to its end, or kill it for silence or cancellation.

    ``on_line`` gets every non-empty line of standard output as it comes. ``inactivity`` is the
    longest silence (no output on either stream) tolerated, ``None`` for no limit. Raises
    OSError if the program cannot be started; never leaves the process running.
    """
    # argv is a list built by the caller from checked parts; no shell is involved.
    process = subprocess.Popen(  # noqa: S603
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_environment(),
        preexec_fn=_limiter(cpu_seconds, address_space),
        close_fds=True,
    )
    try:
        stdout, stderr, stopped = _watch(process, inactivity, cancel, on_line)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()
        process.stderr.close()
    return Outcome(process.returncode, stdout, stderr, stopped)


def _watch(
    process: subprocess.Popen[bytes],
    inactivity: float | None,
    cancel: threading.Event | None,
    on_line: Callable[[str], None] | None,
) -> tuple[str, str, Stop | None]:
    """Read both streams until they close; kill the process when it must stop."""
    assert process.stdout is not None and process.stderr is not None
    streams = {
        process.stdout.fileno(): _Lines(_KEEP_OUT, on_line),
        process.stderr.fileno(): _Lines(_KEEP_ERR, None),
    }
    out_fd, err_fd = process.stdout.fileno(), process.stderr.fileno()
    stopped: Stop | None = None
    last = time.monotonic()
    with selectors.DefaultSelector() as selector:
        for fd in streams:
            selector.register(fd, selectors.EVENT_READ)
        while selector.get_map() or process.poll() is None:
            if not selector.get_map():  # both streams closed, the process still runs
                _pause(process)
            for key, _ in selector.select(_TICK) if selector.get_map() else ():
                data = os.read(key.fd, 65536)
                if not data:
                    selector.unregister(key.fd)
                    continue
                last = time.monotonic()
                streams[key.fd].feed(data)
            stopped = stopped or _must_stop(last, inactivity, cancel)
            if stopped is not None and process.poll() is None:
                process.kill()
    return streams[out_fd].kept, streams[err_fd].kept, stopped


def _pause(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(_TICK)


def _must_stop(
    last: float, inactivity: float | None, cancel: threading.Event | None
) -> Stop | None:
    if cancel is not None and cancel.is_set():
        return Stop.CANCELLED
    if inactivity is not None and time.monotonic() - last > inactivity:
        return Stop.INACTIVE
    return None
