"""What can go wrong on a store, as the processor reports it in a failed Answer.

StorageError
├── PathRefused      a path that is absolute, climbs out of its store or has odd bytes
├── NotMounted       a pool or image store whose mount is not there (#8887: never write
│                    into the bare directory under the mount root)
├── NoSpace          the store is full (ENOSPC)
├── Missing          the object to read is not on the store
└── Unsupported      a store kind, format or copy direction no driver handles
"""

from __future__ import annotations


class StorageError(Exception):
    """Root of the storage errors; the message is what the failed Answer's details say."""


class PathRefused(StorageError):
    """A path in a command that the agent will not use."""


class NotMounted(StorageError):
    """A store that must be mounted is not (or the mount could not be made)."""


class NoSpace(StorageError):
    """The store ran out of space; partial output was removed."""


class Missing(StorageError):
    """The object to read is not there."""


class Unsupported(StorageError):
    """Nothing here can do what the command asks."""
