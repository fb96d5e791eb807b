"""The storage commands and their transfer objects, with CloudStack's names.

Every storage action is a data object (a volume, template or snapshot as it is on one store)
sent to one endpoint (reference: cloudstack-storage-subsystem.md section 1). The management
server describes the object and its store in transfer objects (``VolumeObjectTO``,
``TemplateObjectTO``, ``SnapshotObjectTO``, each holding a store: ``PrimaryDataStoreTO``,
``NfsTO`` or ``S3TO``) and sends one of a few generic commands; the answer carries a *new*
transfer object whose ``path``, ``size`` and ``format`` are what the database records, never a
guess made before the work.

Fields are snake_case forms of CloudStack's Java field names. A field typed by a union of
transfer objects (``DataTO``, ``DataStoreTO``) crosses the wire tagged with its class name, as
CloudStack's GSON wrapper does (``{"NfsTO": {...}}``; ``protocol.codec``), so the agent never
guesses which store it was given.

Paths on stores are relative to the store's root (a pool's mount, an image store's export or
bucket), and are made by the server from uuids and ids (``storage`` services), never from user
text; an agent refuses an absolute path or one that climbs out of its store.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from cirrostack.protocol import messages


class DataStoreRole(enum.StrEnum):
    """What a store is for (CloudStack's DataStoreRole)."""

    PRIMARY = "Primary"
    IMAGE = "Image"
    IMAGE_CACHE = "ImageCache"


class StoragePoolType(enum.StrEnum):
    """The kinds of primary pool an agent can serve (CloudStack's StoragePoolType names)."""

    FILESYSTEM = "Filesystem"
    SHARED_MOUNT_POINT = "SharedMountPoint"
    NETWORK_FILESYSTEM = "NetworkFilesystem"


class ImageFormat(enum.StrEnum):
    """Disk image formats (CloudStack's Storage.ImageFormat names)."""

    QCOW2 = "QCOW2"
    RAW = "RAW"
    ISO = "ISO"


class ProvisioningType(enum.StrEnum):
    """How a volume's bytes are laid out; the values are what ``volumes.provisioning_type`` and
    ``disk_offering.provisioning_type`` store. THIN: a linked clone or a sparse file; SPARSE:
    metadata preallocated; FAT: every byte preallocated."""

    THIN = "thin"
    SPARSE = "sparse"
    FAT = "fat"


class VolumeType(enum.StrEnum):
    """``volumes.volume_type``."""

    ROOT = "ROOT"
    DATADISK = "DATADISK"


class DataObjectType(enum.StrEnum):
    """What a transfer object describes (CloudStack's DataObjectType)."""

    VOLUME = "VOLUME"
    TEMPLATE = "TEMPLATE"
    SNAPSHOT = "SNAPSHOT"


# --- Stores ------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class PrimaryDataStoreTO(messages.TransferObject):
    """A primary pool as the agent needs it: its uuid names its mount (``<mount root>/<uuid>``
    for NetworkFilesystem), ``host`` and ``path`` say where it is (the NFS server and export;
    the directory for Filesystem and SharedMountPoint)."""

    uuid: str
    id: int
    name: str
    pool_type: StoragePoolType
    host: str
    path: str
    port: int = 0
    details: dict[str, str] = field(default_factory=dict)
    managed: bool = False

    @property
    def role(self) -> DataStoreRole:
        return DataStoreRole.PRIMARY


@dataclass(frozen=True, kw_only=True)
class NfsTO(messages.TransferObject):
    """An NFS image store (or staging cache): ``url`` is ``nfs://host/export``."""

    uuid: str
    url: str
    role: DataStoreRole = DataStoreRole.IMAGE
    nfs_version: str | None = None


@dataclass(frozen=True, kw_only=True)
class S3TO(messages.TransferObject):
    """An S3 image store. ``end_point`` is ``host[:port]``; ``https`` chooses the scheme. The
    credentials travel inside the agent connection (use TLS between server and agents)."""

    uuid: str
    id: int
    end_point: str
    bucket_name: str
    access_key: str
    secret_key: str
    https: bool = True
    region: str = ""
    signer: str = ""
    connection_timeout: int = 10
    socket_timeout: int = 60
    max_error_retry: int = 3
    max_single_upload_bytes: int = 5 * 1024**3

    @property
    def role(self) -> DataStoreRole:
        return DataStoreRole.IMAGE


DataStoreTO = PrimaryDataStoreTO | NfsTO | S3TO


# --- Data objects ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class VolumeObjectTO(messages.TransferObject):
    """A volume on ``data_store``. ``path`` is None until the volume exists there; ``size`` is
    the virtual size in bytes. ``template_path`` names the pool's template copy a THIN volume
    is a linked clone of (CopyCommand template -> volume sets it from the source instead)."""

    uuid: str
    id: int
    name: str
    volume_type: VolumeType
    data_store: DataStoreTO
    size: int
    path: str | None = None
    format: ImageFormat | None = None
    provisioning_type: ProvisioningType = ProvisioningType.THIN
    account_id: int = 0
    vm_name: str | None = None
    device_id: int | None = None
    chain_info: str | None = None
    hypervisor_type: str | None = None

    @property
    def object_type(self) -> DataObjectType:
        return DataObjectType.VOLUME


@dataclass(frozen=True, kw_only=True)
class TemplateObjectTO(messages.TransferObject):
    """A template or ISO on ``image_data_store`` (an image store, or a pool for its copy there).
    ``name`` is the template's ``unique_name``; ``checksum`` is ``{ALGO}hex`` or bare MD5 hex;
    ``size`` the virtual size, ``physical_size`` the bytes stored."""

    uuid: str
    id: int
    name: str
    format: ImageFormat
    image_data_store: DataStoreTO
    path: str | None = None
    orig_url: str | None = None
    checksum: str | None = None
    size: int | None = None
    physical_size: int | None = None
    account_id: int = 0
    hypervisor_type: str | None = None
    bootable: bool = True

    @property
    def object_type(self) -> DataObjectType:
        return DataObjectType.TEMPLATE


@dataclass(frozen=True, kw_only=True)
class SnapshotObjectTO(messages.TransferObject):
    """A snapshot of ``volume`` on ``data_store``; ``parents`` are the chain's paths, oldest
    first (empty for a full snapshot)."""

    uuid: str
    id: int
    name: str
    volume: VolumeObjectTO
    data_store: DataStoreTO
    path: str | None = None
    parent_snapshot_path: str | None = None
    parents: tuple[str, ...] = ()
    physical_size: int | None = None

    @property
    def object_type(self) -> DataObjectType:
        return DataObjectType.SNAPSHOT


DataTO = VolumeObjectTO | TemplateObjectTO | SnapshotObjectTO


@dataclass(frozen=True, kw_only=True)
class DiskTO(messages.TransferObject):
    """A disk as a VM sees it: the volume, its position (``disk_seq``: the device id) and its
    kind (ROOT, DATADISK, ISO)."""

    data: DataTO
    disk_seq: int
    type: str
    path: str | None = None
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class TemplateProp(messages.TransferObject):
    """A template copy found on a pool (ModifyStoragePoolAnswer's templateInfo)."""

    uuid: str
    path: str
    size: int
    physical_size: int


# --- Commands ----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CreateObjectCommand(messages.Command):
    """Create ``data`` on its store: an empty volume (qcow2 or raw per ``format``), a linked
    clone of the pool's template copy (a THIN volume with a ``template_path``), or a snapshot."""

    data: DataTO
    template_path: str | None = None


@dataclass(frozen=True, kw_only=True)
class CopyCommand(messages.Command):
    """Copy ``src`` to ``dest`` (template image store -> pool, template pool copy -> volume,
    volume pool -> pool or pool <-> image store, snapshot -> volume or template).

    A long command: the agent reports Progress (bytes done of total, phase ``copying``) before
    its CopyCmdAnswer; cancelled, it stops and removes what it wrote. ``dest.path`` None means
    the agent names the file as CloudStack does (reference section 2.2) and says so in the
    answer.
    """

    src: DataTO
    dest: DataTO
    cache: DataTO | None = None
    execute_in_sequence: bool = False
    options: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class DeleteCommand(messages.Command):
    """Delete ``data``'s file or object; a file that is already gone is a success."""

    data: DataTO


@dataclass(frozen=True, kw_only=True)
class AttachCommand(messages.Command):
    """Attach ``disk`` to the VM ``vm_name`` on this host."""

    disk: DiskTO
    vm_name: str


@dataclass(frozen=True, kw_only=True)
class DettachCommand(messages.Command):
    """Detach ``disk`` from the VM ``vm_name`` (CloudStack's spelling)."""

    disk: DiskTO
    vm_name: str


@dataclass(frozen=True, kw_only=True)
class ModifyStoragePoolCommand(messages.Command):
    """Connect this host to ``pool`` (``add``; mount it where it is NetworkFilesystem, and
    refuse when the mount cannot be verified) or disconnect it. The answer reports capacity,
    free space and the template copies found."""

    add: bool
    pool: PrimaryDataStoreTO


@dataclass(frozen=True, kw_only=True)
class DeleteStoragePoolCommand(messages.Command):
    """Disconnect this host from ``pool`` for good (unmount; nothing on it is deleted)."""

    pool: PrimaryDataStoreTO


@dataclass(frozen=True, kw_only=True)
class GetStorageStatsCommand(messages.Command):
    """How big ``store`` is and how much of it is used."""

    store: DataStoreTO


@dataclass(frozen=True, kw_only=True)
class DownloadCommand(messages.Command):
    """Download ``url`` into ``template`` on its image store (``template.path`` is the install
    path the server chose), verify ``template.checksum`` and the format with qemu-img, and
    answer what was stored. Redirects are never followed; ``allowed_internal`` lists the
    CIDRs of private, loopback or link-local addresses the URL may resolve to
    (secstorage.allowed.internal.sites); ``max_size`` bounds the bytes read (0: no bound).

    A long command: Progress reports bytes done of the Content-Length (phase
    ``downloading``), then phase ``verifying``."""

    template: TemplateObjectTO
    url: str
    allowed_internal: tuple[str, ...] = ()
    max_size: int = 0


@dataclass(frozen=True, kw_only=True)
class DownloadVolumeCommand(messages.Command):
    """uploadVolume's download: ``url`` into ``volume`` on its image store, with the checks of
    DownloadCommand (no redirects, ``allowed_internal``, ``max_size``, ``checksum``, the format
    validated by qemu-img). CloudStack sends its DownloadCommand with resourceType VOLUME; a
    command of its own keeps both typed without optional fields. ``volume.path`` None: the
    agent names the file ``volumes/<account>/<volume id>/<uuid>.<ext>``.

    A long command: Progress in phase ``downloading``, then ``verifying``."""

    volume: VolumeObjectTO
    url: str
    checksum: str | None = None
    allowed_internal: tuple[str, ...] = ()
    max_size: int = 0


@dataclass(frozen=True, kw_only=True)
class ReadObjectCommand(messages.Command):
    """Up to ``length`` bytes of the object at ``path`` on the image store ``store`` from
    ``offset``: how the management server streams an extracted volume to a client."""

    store: DataStoreTO
    path: str
    offset: int = 0
    length: int = 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class ResizeVolumeCommand(messages.Command):
    """Grow (or, with ``shrink_ok``, shrink a raw) ``volume`` to ``new_size`` bytes."""

    volume: VolumeObjectTO
    new_size: int
    shrink_ok: bool = False


# --- Answers -----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CreateObjectAnswer(messages.Answer):
    """The object as created: its path, size and format."""

    data: DataTO


@dataclass(frozen=True, kw_only=True)
class CopyCmdAnswer(messages.Answer):
    """The copy as made at the destination (CloudStack's ``newData``)."""

    new_data: DataTO


@dataclass(frozen=True, kw_only=True)
class AttachAnswer(messages.Answer):
    """The disk as attached."""

    disk: DiskTO


@dataclass(frozen=True, kw_only=True)
class DettachAnswer(messages.Answer):
    """The disk as detached."""

    disk: DiskTO


@dataclass(frozen=True, kw_only=True)
class ModifyStoragePoolAnswer(messages.Answer):
    """The pool as this host sees it: where it is (``local_path``), its size and free bytes,
    and the template copies on it by template uuid."""

    local_path: str
    capacity_bytes: int
    available_bytes: int
    pool_type: StoragePoolType
    template_info: dict[str, TemplateProp] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class GetStorageStatsAnswer(messages.Answer):
    """Size and used bytes of the store."""

    capacity_bytes: int
    used_bytes: int


@dataclass(frozen=True, kw_only=True)
class DownloadAnswer(messages.Answer):
    """The downloaded template as stored: its install path, virtual and physical size, the
    format qemu-img found and the checksum computed (``{ALGO}hex``)."""

    template: TemplateObjectTO
    checksum: str


@dataclass(frozen=True, kw_only=True)
class DownloadVolumeAnswer(messages.Answer):
    """The uploaded volume as stored: ``volume`` with its path, virtual size and format, the
    bytes on the store and the checksum computed (``{ALGO}hex``)."""

    volume: VolumeObjectTO
    physical_size: int
    checksum: str


@dataclass(frozen=True, kw_only=True)
class ReadObjectAnswer(messages.Answer):
    """``data`` (base64) read from the object, whose whole size is ``size``; empty at the end."""

    data: str
    size: int


@dataclass(frozen=True, kw_only=True)
class ResizeVolumeAnswer(messages.Answer):
    """The volume's virtual size after the resize, as qemu-img reports it."""

    new_size: int


COMMANDS: tuple[type[messages.Command], ...] = (
    CreateObjectCommand,
    CopyCommand,
    DeleteCommand,
    AttachCommand,
    DettachCommand,
    ModifyStoragePoolCommand,
    DeleteStoragePoolCommand,
    GetStorageStatsCommand,
    DownloadCommand,
    DownloadVolumeCommand,
    ReadObjectCommand,
    ResizeVolumeCommand,
)
ANSWERS: tuple[type[messages.Answer], ...] = (
    CreateObjectAnswer,
    CopyCmdAnswer,
    AttachAnswer,
    DettachAnswer,
    ModifyStoragePoolAnswer,
    GetStorageStatsAnswer,
    DownloadAnswer,
    DownloadVolumeAnswer,
    ReadObjectAnswer,
    ResizeVolumeAnswer,
)
