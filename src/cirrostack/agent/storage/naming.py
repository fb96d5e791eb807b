"""File names and object keys as CloudStack makes them (reference 2.2 and 5.2).

A template copy on a pool is named by the template uuid; a new volume (empty, or cloned from
the pool's template copy) by the volume uuid; a volume copied from an image store gets a random
uuid, one copied pool to pool a random uuid with the format's extension. On an image store a
volume lands in ``volumes/<account>/<volume id>/``, a template in
``template/tmpl/<account>/<template id>/`` (on S3 with the template's unique name and the
source's file name appended, as S3 has no template.properties), a snapshot in
``snapshots/<account>/<volume id>/``. A path the server already chose (``path`` set on the
destination) is always kept.
"""

from __future__ import annotations

import uuid

from cirrostack.protocol import storage

EXTENSIONS = {
    storage.ImageFormat.QCOW2: "qcow2",
    storage.ImageFormat.RAW: "raw",
    storage.ImageFormat.ISO: "iso",
}
#: qemu-img's name of each format (an ISO is read as raw bytes).
QEMU_FORMATS = {
    storage.ImageFormat.QCOW2: "qcow2",
    storage.ImageFormat.RAW: "raw",
    storage.ImageFormat.ISO: "raw",
}


def random_name(extension: str | None = None) -> str:
    """A fresh uuid, with ``.extension`` when given."""
    name = str(uuid.uuid4())
    return f"{name}.{extension}" if extension else name


def on_pool(data: storage.DataTO, source: storage.DataTO | None) -> str:
    """The name of ``data`` made on a pool, from ``source`` (None: created from nothing)."""
    if data.path:
        return data.path
    if isinstance(data, storage.TemplateObjectTO):
        return data.uuid
    if isinstance(data, storage.SnapshotObjectTO):
        return f"snapshots/{random_name()}"
    if source is None or isinstance(source, storage.TemplateObjectTO):
        return data.uuid
    from_pool = isinstance(getattr(source, "data_store", None), storage.PrimaryDataStoreTO)
    if from_pool and isinstance(source, storage.VolumeObjectTO):
        return random_name(EXTENSIONS[data.format or storage.ImageFormat.QCOW2])
    return random_name()


def on_image_store(data: storage.DataTO, source: storage.DataTO) -> str:
    """The path (key) of ``data`` made on an image store from ``source``."""
    if data.path:
        return data.path
    extension = EXTENSIONS[format_of(data) or format_of(source) or storage.ImageFormat.QCOW2]
    if isinstance(data, storage.VolumeObjectTO):
        return f"volumes/{data.account_id}/{data.id}/{random_name(extension)}"
    if isinstance(data, storage.SnapshotObjectTO):
        return f"snapshots/{data.volume.account_id}/{data.volume.id}/{data.name}"
    directory = f"template/tmpl/{data.account_id}/{data.id}"
    if isinstance(data.image_data_store, storage.S3TO):
        base = (source.path or "").rstrip("/").rpartition("/")[2] or f"{data.uuid}.{extension}"
        return f"{directory}/{data.name}/{base}"
    return f"{directory}/{random_name(extension)}"


def format_of(data: storage.DataTO) -> storage.ImageFormat | None:
    """The object's format as the transfer object says (snapshots are qcow2)."""
    if isinstance(data, storage.SnapshotObjectTO):
        return storage.ImageFormat.QCOW2
    return data.format


def store_of(data: storage.DataTO) -> storage.DataStoreTO:
    """The store ``data`` is on."""
    if isinstance(data, storage.TemplateObjectTO):
        return data.image_data_store
    return data.data_store


def template_properties(
    template: storage.TemplateObjectTO, file_name: str, physical: int, virtual: int
) -> str:
    """The ``template.properties`` CloudStack keeps beside a template on an NFS image store
    (reference 5.2), so a store can be synchronised from its files."""
    extension = EXTENSIONS[template.format]
    lines = [
        f"id={template.id}",
        f"uniquename={template.name}",
        f"filename={file_name}",
        f"size={physical}",
        f"virtualsize={virtual}",
        f"{extension}=true",
        f"{extension}.filename={file_name}",
        f"{extension}.size={physical}",
        f"{extension}.virtualsize={virtual}",
    ]
    return "\n".join(lines) + "\n"


def preallocation(image_format: str, provisioning: storage.ProvisioningType) -> str:
    """qemu-img's preallocation for a new image (reference 2.3: THIN off, SPARSE metadata on
    qcow2, FAT full)."""
    if provisioning is storage.ProvisioningType.FAT:
        return "full"
    if provisioning is storage.ProvisioningType.SPARSE and image_format == "qcow2":
        return "metadata"
    return "off"
