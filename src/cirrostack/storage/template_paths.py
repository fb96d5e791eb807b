"""Where a template's file lives on an image store, in CloudStack's layout.

NFS: ``template/tmpl/<accountId>/<templateId>/<file>.<ext>``; S3 keys:
``template/tmpl/<accountId>/<templateId>/<unique_name>/<file>.<ext>``. Every part is made by
the server (ids, the template's unique name, a fixed extension per format): no user text (the
URL, the template's name) ever reaches a path, so none can climb out of the store.
"""

from __future__ import annotations

import uuid as uuids

from cirrostack import errors
from cirrostack.protocol import storage

ImageFormat = storage.ImageFormat


#: URL endings accepted per format (CloudStack also takes compressed forms).
_ENDINGS = {
    ImageFormat.QCOW2: (".qcow2", ".qcow2.gz", ".qcow2.bz2", ".qcow2.zip"),
    ImageFormat.RAW: (".raw", ".img", ".raw.gz", ".img.gz", ".raw.bz2", ".img.bz2"),
    ImageFormat.ISO: (".iso",),
}


def parse_format(text: str, *, iso: bool = False) -> ImageFormat:
    """The format a registration names; InvalidParameterValue for another one."""
    if iso:
        return ImageFormat.ISO
    try:
        found = ImageFormat(text.upper())
    except ValueError:
        found = None
    if found is None or found is ImageFormat.ISO:
        raise errors.InvalidParameterValue(
            f"Image format {text} is not supported: use QCOW2 or RAW (registerIso for ISOs)"
        )
    return found


def check_extension(url: str, image_format: ImageFormat) -> None:
    """InvalidParameterValue unless the URL's path ends as ``image_format`` files do."""
    path = url.split("?", 1)[0].split("#", 1)[0].lower()
    if not path.endswith(_ENDINGS[image_format]):
        raise errors.InvalidParameterValue(
            f"Please specify a valid URL. URL:{url} is an invalid for the format "
            f"{image_format.value.lower()}"
        )


def unique_name(account_id: int, template_id: int) -> str:
    """A template's ``unique_name``, as CloudStack makes it (``<id>-<account>-<uuid>``)."""
    return f"{template_id}-{account_id}-{uuids.uuid4()}"


def directory(account_id: int, template_id: int) -> str:
    """The template's directory relative to an NFS store's root."""
    return f"template/tmpl/{int(account_id)}/{int(template_id)}"


def nfs_install_path(account_id: int, template_id: int, image_format: ImageFormat) -> str:
    """The file's path relative to an NFS store's root (``<template uuid-free file name>``)."""
    return f"{directory(account_id, template_id)}/{int(template_id)}.{image_format.value.lower()}"


def s3_key(account_id: int, template_id: int, name: str, image_format: ImageFormat) -> str:
    """The object key on an S3 store; ``name`` is the server-made unique name."""
    if not name or "/" in name or name in {".", ".."}:
        raise ValueError(f"not a server-made unique name: {name!r}")
    file_name = f"{int(template_id)}.{image_format.value.lower()}"
    return f"{directory(account_id, template_id)}/{name}/{file_name}"
