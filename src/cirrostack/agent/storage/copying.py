"""A plain, hole-aware file copy with progress and cancel: how a template whose format does not
change reaches a pool (reference 2.3: CloudStack runs ``cp -f`` there, not ``qemu-img
convert``).

Like cp(1) it copies only the data segments of a sparse file (``SEEK_DATA``/``SEEK_HOLE``) and
lets the kernel move the bytes (``copy_file_range``, falling back to ``pread``/``pwrite`` where
the two files' filesystems do not allow it), then truncates the copy to the source's length so
the holes stay holes. Progress is reported after each chunk as the offset reached of the file's
length; a cancelled command stops at the next chunk (the caller removes the partial file).
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from cirrostack.agent import work

CHUNK = 64 * 1024**2
PHASE = "copying"


def copy_file(
    source: Path,
    dest: Path,
    job: work.Work,
    chunk: int = CHUNK,
    pace: Callable[[work.Work], None] | None = None,
) -> int:
    """Copy ``source`` to a new file ``dest``; the bytes of the copy. ``pace`` is called after
    each chunk (a simulated host slows its copies down with it). Raises OSError (ENOSPC
    included) and work.Cancelled; ``dest`` is left for the caller to remove on failure."""
    with source.open("rb") as reader, dest.open("xb") as writer:
        size = os.fstat(reader.fileno()).st_size
        fast = True
        for start, end in data_segments(reader.fileno(), size):
            offset = start
            while offset < end:
                length = min(chunk, end - offset)
                moved, fast = _move(reader.fileno(), writer.fileno(), offset, length, fast)
                if moved == 0:
                    break
                offset += moved
                job.progress(offset, size, PHASE)
                if pace is not None:
                    pace(job)
        os.ftruncate(writer.fileno(), size)
        os.fsync(writer.fileno())
    job.progress(size, size, PHASE)
    return size


def data_segments(fd: int, size: int) -> Iterator[tuple[int, int]]:
    """The (start, end) ranges of ``fd`` holding data; the whole file where the filesystem
    cannot tell holes apart."""
    offset = 0
    while offset < size:
        try:
            start = os.lseek(fd, offset, os.SEEK_DATA)
        except OSError as exc:
            if exc.errno == errno.ENXIO:
                return
            if exc.errno in (errno.EINVAL, errno.EOPNOTSUPP):
                yield offset, size
                return
            raise
        end = os.lseek(fd, start, os.SEEK_HOLE)
        yield start, min(end, size)
        offset = end


def _move(source: int, dest: int, offset: int, length: int, fast: bool) -> tuple[int, bool]:
    if fast:
        try:
            return os.copy_file_range(source, dest, length, offset, offset), True
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
                raise
    data = os.pread(source, length, offset)
    written = 0
    while written < len(data):
        written += os.pwrite(dest, data[written:], offset + written)
    return len(data), False
