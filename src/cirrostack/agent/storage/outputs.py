"""Output that is all or nothing: a new file is written under a temporary name beside its final
one (``<name>.<random>.part``) and renamed when complete, so a failed, cancelled or full-disk
command leaves no partial file and no directory it made; and the error kinds the processor
answers with.
"""

from __future__ import annotations

import contextlib
import errno
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from cirrostack.agent import ingest_errors, qemu_img, work
from cirrostack.agent.storage import drivers, errors
from cirrostack.protocol import storage

PART_SUFFIX = ".part"
_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


@contextlib.contextmanager
def partial(dest: Path) -> Iterator[Path]:
    """A temporary path to write; renamed to ``dest`` when the block ends without an error,
    removed (with the directories made for it) when it raises."""
    made = _missing_parents(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    # A name of its own: two commands writing the same destination never share a temporary.
    temp = dest.with_name(f"{dest.name}.{uuid.uuid4().hex[:12]}{PART_SUFFIX}")
    try:
        yield temp
        os.replace(temp, dest)
    except BaseException:
        temp.unlink(missing_ok=True)
        for directory in made:
            with contextlib.suppress(OSError):
                directory.rmdir()
        raise


def _missing_parents(dest: Path) -> list[Path]:
    made = []
    parent = dest.parent
    while not parent.exists():
        made.append(parent)
        parent = parent.parent
    return made


def what(store: storage.DataStoreTO) -> str:
    """How an answer names ``store``: "pool <uuid>" or "image store <uuid>"."""
    kind = "pool" if isinstance(store, storage.PrimaryDataStoreTO) else "image store"
    return f"{kind} {store.uuid}"


@contextlib.contextmanager
def space(store: storage.DataStoreTO) -> Iterator[None]:
    """Turn a full disk (ENOSPC, a quota, a file-size limit; qemu-img's "No space left") into
    NoSpace naming the store."""
    try:
        yield
    except (qemu_img.NoSpace, ingest_errors.NoSpace) as exc:
        raise errors.NoSpace(f"insufficient space on {what(store)}: {exc}") from exc
    except OSError as exc:
        if exc.errno in _FULL:
            reason = os.strerror(exc.errno)
            raise errors.NoSpace(f"insufficient space on {what(store)}: {reason}") from exc
        raise


def file_store(store: drivers.Store, where: storage.DataStoreTO) -> drivers.FileStore:
    """``store`` as a directory of files; raises Unsupported for an object store."""
    if not isinstance(store, drivers.FileStore):
        raise errors.Unsupported(f"{what(where)} does not hold files qemu-img can open")
    return store


def reporter(job: work.Work) -> Callable[[int, int], None]:
    """A qemu-img progress callback that reports to ``job``; a cancel is not raised from the
    callback (qemu-img is stopped through the cancel event instead)."""

    def report(done: int, total: int) -> None:
        with contextlib.suppress(work.Cancelled):
            job.progress(done, total, "copying")

    return report
