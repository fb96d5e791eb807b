"""Paths inside a store: every path a command carries is relative to its store's root.

The server builds paths from uuids and ids, never from user text; the agent checks them anyway
before it touches a file: no absolute path, no ``..`` segment, no NUL or control character, no
backslash, no segment starting with ``-``, nothing empty; and once resolved (symbolic links
followed) the file must still lie inside the store's root.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from cirrostack.agent.storage import errors

#: A segment never starts with "-": no tool downstream may read it as an option.
_SEGMENT = re.compile(r"[A-Za-z0-9_.+=@,][A-Za-z0-9_.+=@,-]{0,254}")
MAX_LENGTH = 1024


def relative(path: str) -> PurePosixPath:
    """``path`` as a checked relative path; raises PathRefused with the reason."""
    if not path or len(path) > MAX_LENGTH:
        raise errors.PathRefused(f"path {path[:80]!r} is empty or too long")
    if path.startswith("/"):
        raise errors.PathRefused(f"path {path!r} is absolute: paths are relative to the store")
    segments = [segment for segment in path.split("/") if segment]
    for segment in segments:
        if segment in (".", ".."):
            raise errors.PathRefused(f"path {path!r} climbs out of its store")
        if _SEGMENT.fullmatch(segment) is None:
            raise errors.PathRefused(f"path {path!r} has characters a store path may not have")
    if not segments:
        raise errors.PathRefused(f"path {path!r} names no file")
    return PurePosixPath(*segments)


def within(root: Path, path: str) -> Path:
    """The file ``path`` names under ``root``, resolved; raises PathRefused when it is not
    inside ``root`` once symbolic links are followed."""
    checked = relative(path)
    base = root.resolve()
    resolved = (base / checked).resolve()
    if not resolved.is_relative_to(base) or resolved == base:
        raise errors.PathRefused(f"path {path!r} lies outside its store")
    return resolved


def absolute(path: str) -> PurePosixPath:
    """An absolute directory a pool names (a Filesystem or SharedMountPoint path, an NFS
    export), checked as ``relative`` checks its segments; raises PathRefused."""
    if not path.startswith("/"):
        raise errors.PathRefused(f"path {path!r} is not absolute")
    stripped = path.strip("/")
    if not stripped:
        return PurePosixPath("/")
    return PurePosixPath("/") / relative(stripped)
