"""The template copies on a pool, as ModifyStoragePoolAnswer reports them (templateInfo).

A template copy and a volume are both files named by a uuid, so the file names alone cannot
tell them apart: when a template copy is made the processor records it in a small entry under
the pool's hidden ``.templates`` directory (its file name and virtual size), and removes the
entry when the copy is deleted. A recorded copy whose file is gone is not reported.
"""

from __future__ import annotations

import contextlib
import json

from cirrostack.agent.storage import drivers, paths
from cirrostack.protocol import storage

DIRECTORY = ".templates"


def record(
    store: drivers.FileStore, template_uuid: str, path: str, size: int, image_format: str
) -> None:
    """Note that ``path`` on the pool is the copy of ``template_uuid`` (``size``: virtual;
    ``image_format``: qemu-img's name of its format)."""
    folder = store.root / DIRECTORY
    folder.mkdir(exist_ok=True)
    entry = folder / str(paths.relative(template_uuid))
    entry.write_text(json.dumps({"path": path, "size": size, "format": image_format}))


def format_at(store: drivers.FileStore, path: str) -> str | None:
    """qemu-img's name of the format of the template copy at ``path``; None if unrecorded."""
    folder = store.root / DIRECTORY
    if not folder.is_dir():
        return None
    for entry in folder.iterdir():
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            recorded = json.loads(entry.read_text())
            if recorded["path"] == path:
                return str(recorded["format"])
    return None


def forget(store: drivers.FileStore, template_uuid: str) -> None:
    """Drop the record of ``template_uuid``'s copy (nothing happens if there is none)."""
    with contextlib.suppress(OSError):
        (store.root / DIRECTORY / str(paths.relative(template_uuid))).unlink()


def found(store: drivers.FileStore) -> dict[str, storage.TemplateProp]:
    """The recorded template copies whose files exist, by template uuid."""
    folder = store.root / DIRECTORY
    if not folder.is_dir():
        return {}
    copies = {}
    for entry in sorted(folder.iterdir()):
        try:
            recorded = json.loads(entry.read_text())
            physical = store.file(str(recorded["path"])).stat().st_size
        except (OSError, ValueError, KeyError, TypeError):
            continue
        copies[entry.name] = storage.TemplateProp(
            uuid=entry.name,
            path=str(recorded["path"]),
            size=int(recorded["size"]),
            physical_size=physical,
        )
    return copies
