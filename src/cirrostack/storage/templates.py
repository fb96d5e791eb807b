"""Templates and ISOs: register, find, update, delete, share.

Called by the template and ISO API commands inside their transaction. A registration writes
the ``vm_template`` row (Active) and one ``template_store_ref`` per chosen store (Allocated,
NOT_DOWNLOADED): a private template gets one store per zone (the one with the most free room
under ``secondary.storage.capacity.threshold``), a public one every writable store of the zone,
as CloudStack does. Each store row is locked before its copy is inserted, so deleteImageStore
cannot miss it; the unique key of migration 0010 refuses a second live copy on one store.

The URL was resolved before the transaction (``registry.Before``); ``url_policy`` judges the
addresses here, with the setting read in the transaction.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.accounts import access, limits, resources
from cirrostack.config import keys, settings
from cirrostack.db.models import accounts as account_models
from cirrostack.db.models import guest_os as guest_os_models
from cirrostack.db.models import storage as storage_models
from cirrostack.db.models import templates as models
from cirrostack.storage import image_stores, template_paths, url_policy

ALL_ZONES = "-1"


class DownloadState(enum.StrEnum):
    """``template_store_ref.download_state``: CloudStack's VMTemplateStorageResourceAssoc.Status."""

    NOT_DOWNLOADED = "NOT_DOWNLOADED"
    DOWNLOAD_IN_PROGRESS = "DOWNLOAD_IN_PROGRESS"
    DOWNLOADED = "DOWNLOADED"
    DOWNLOAD_ERROR = "DOWNLOAD_ERROR"
    ABANDONED = "ABANDONED"


class Filter(enum.StrEnum):
    """listTemplates's ``templatefilter`` (CloudStack's TemplateFilter)."""

    featured = "featured"
    self = "self"
    selfexecutable = "selfexecutable"
    sharedexecutable = "sharedexecutable"
    executable = "executable"
    community = "community"
    all = "all"


@dataclass(frozen=True)
class NewTemplate:
    """registerTemplate's (or registerIso's) values, as given."""

    name: str
    display_text: str | None
    url: str
    image_format: template_paths.ImageFormat
    guest_os_id: int
    zone_ids: tuple[int, ...]
    cross_zones: bool = False
    hypervisor: str | None = None
    checksum: str | None = None
    public: bool = False
    featured: bool = False
    extractable: bool = False
    password_enabled: bool = False
    sshkey_enabled: bool = False
    bootable: bool = True
    template_tag: str | None = None


@dataclass(frozen=True)
class TemplateFilter:
    """What listTemplates/listIsos ask for."""

    kind: Filter
    iso: bool
    id: int | None = None
    ids: tuple[int, ...] = ()
    name: str | None = None
    keyword: str | None = None
    zone_id: int | None = None
    hypervisor: str | None = None


#: Hex digits each algorithm's digest has (a bare value is MD5, as in CloudStack).
_DIGEST_LENGTHS = {
    "MD5": 32,
    "SHA-1": 40,
    "SHA-224": 56,
    "SHA-256": 64,
    "SHA-384": 96,
    "SHA-512": 128,
}


def parse_checksum(text: str | None) -> str | None:
    """``{ALGO}hex`` or a bare MD5, checked for length; None when not given."""
    if text is None or not text.strip():
        return None
    value = text.strip()
    algorithm, digest = "MD5", value
    if value.startswith("{") and "}" in value:
        algorithm, digest = value[1:].split("}", 1)
        algorithm = algorithm.upper()
    wanted = _DIGEST_LENGTHS.get(algorithm)
    if wanted is None:
        raise errors.InvalidParameterValue(f"Unsupported checksum algorithm {algorithm}")
    if len(digest) != wanted or any(c not in "0123456789abcdefABCDEF" for c in digest):
        raise errors.InvalidParameterValue(
            f"Invalid checksum {value}: a {algorithm} checksum has {wanted} hex digits"
        )
    return value if algorithm == "MD5" and not value.startswith("{") else f"{{{algorithm}}}{digest}"


@dataclass(frozen=True)
class Registered:
    """A new template and its Allocated copies, each with the zone it was registered for
    (whose hosts download it: a region-wide store has no zone of its own)."""

    template: models.VmTemplate
    copies: tuple[tuple[models.TemplateStoreRef, int], ...]


def register(
    session: Session,
    caller: access.Caller,
    owner: account_models.Account,
    new: NewTemplate,
    addresses: Sequence[str],
) -> Registered:
    """Insert the template and its Allocated store copies; raise before writing if refused.
    The caller queues each copy's download job in the same transaction."""
    _check(session, caller, owner, new, addresses)
    limits.reserve(session, owner, resources.ResourceType.TEMPLATE)
    template = models.VmTemplate(
        name=new.name.strip(),
        display_text=new.display_text or new.name.strip(),
        format=new.image_format.value,
        type="USER",
        public=new.public,
        featured=new.featured,
        extractable=new.extractable,
        cross_zones=new.cross_zones,
        bootable=new.bootable,
        enable_password=new.password_enabled,
        enable_sshkey=new.sshkey_enabled,
        url=new.url.strip(),
        checksum=new.checksum,
        account_id=owner.id,
        guest_os_id=new.guest_os_id,
        hypervisor_type=None
        if new.image_format is template_paths.ImageFormat.ISO
        else new.hypervisor,
        template_tag=new.template_tag,
        state="Active",
    )
    session.add(template)
    session.flush()
    template.unique_name = template_paths.unique_name(owner.id, template.id)
    copies: dict[int, tuple[models.TemplateStoreRef, int]] = {}
    for zone_id in new.zone_ids:
        for store in stores_for(session, zone_id, public=new.public):
            if store.id not in copies:  # a region-wide store serves every zone: one copy
                copies[store.id] = (add_copy(session, template, store.id), zone_id)
    session.flush()
    return Registered(template, tuple(copies.values()))


def add_copy(
    session: Session, template: models.VmTemplate, store_id: int
) -> models.TemplateStoreRef:
    """An Allocated copy of ``template`` on the (locked) store ``store_id``."""
    image_stores.lock(session, store_id)
    ref = models.TemplateStoreRef(
        store_id=store_id,
        template_id=template.id,
        download_state=DownloadState.NOT_DOWNLOADED.value,
        download_pct=0,
        url=template.url,
        state="Allocated",
    )
    session.add(ref)
    session.flush()
    return ref


def _check(
    session: Session,
    caller: access.Caller,
    owner: account_models.Account,
    new: NewTemplate,
    addresses: Sequence[str],
) -> None:
    if not new.name.strip():
        raise errors.InvalidParameterValue("The template name cannot be blank")
    template_paths.check_extension(new.url, new.image_format)
    found = settings.Settings(session)
    sites = url_policy.allowed_sites(found.get(keys.SECSTORAGE_ALLOWED_INTERNAL_SITES))
    url_policy.check(new.url, sites, lambda _host: addresses)
    if new.featured and not caller.is_root_admin:
        raise errors.PermissionDenied("Only admins can create featured templates")
    public_ok = found.get(keys.ALLOW_PUBLIC_USER_TEMPLATES, account_id=owner.id)
    if new.public and not caller.is_root_admin and not caller.is_domain_admin and not public_ok:
        raise errors.InvalidParameterValue("Only private templates/ISO can be created.")
    if session.get(guest_os_models.GuestOs, new.guest_os_id) is None:
        raise errors.InvalidParameterValue("Please specify a valid guest OS")
    if not new.zone_ids:
        raise errors.InvalidParameterValue("Please specify a valid zone")


def stores_for(session: Session, zone_id: int, *, public: bool) -> list[storage_models.ImageStore]:
    """The stores a new template (or a copy to another zone) goes to in ``zone_id``: all
    (public) or the roomiest one; InvalidParameterValue when the zone has none with room."""
    threshold = settings.Settings(session).get(keys.SECONDARY_STORAGE_CAPACITY_THRESHOLD)
    usable = [store for store in image_stores.in_zone(session, zone_id) if _room(store, threshold)]
    if not usable:
        raise errors.InvalidParameterValue(
            f"Unable to find an image store with room for a new template in zone {zone_id}"
        )
    if public:
        return usable
    return [min(usable, key=_used_fraction)]


def _room(store: storage_models.ImageStore, threshold: float) -> bool:
    return _used_fraction(store) < threshold


def _used_fraction(store: storage_models.ImageStore) -> float:
    if not store.total_size:
        return 0.0  # not yet measured: CloudStack takes it too
    return (store.used_bytes or 0) / store.total_size


@dataclass(frozen=True)
class TemplateChanges:
    """updateTemplate's values; None leaves a field alone."""

    name: str | None = None
    display_text: str | None = None
    guest_os_id: int | None = None
    password_enabled: bool | None = None
    sshkey_enabled: bool | None = None
    bootable: bool | None = None
    sort_key: int | None = None
    dynamically_scalable: bool | None = None


def update(
    session: Session, template: models.VmTemplate, changes: TemplateChanges
) -> models.VmTemplate:
    """Apply ``changes``; InvalidParameterValue for a blank name or an unknown guest OS."""
    if changes.name is not None:
        if not changes.name.strip():
            raise errors.InvalidParameterValue("The template name cannot be blank")
        template.name = changes.name.strip()
    if changes.guest_os_id is not None:
        if session.get(guest_os_models.GuestOs, changes.guest_os_id) is None:
            raise errors.InvalidParameterValue("Please specify a valid guest OS")
        template.guest_os_id = changes.guest_os_id
    for column, value in (
        ("display_text", changes.display_text),
        ("enable_password", changes.password_enabled),
        ("enable_sshkey", changes.sshkey_enabled),
        ("bootable", changes.bootable),
        ("sort_key", changes.sort_key),
        ("dynamically_scalable", changes.dynamically_scalable),
    ):
        if value is not None:
            setattr(template, column, value)
    session.flush()
    return template


class Operation(enum.StrEnum):
    add = "add"
    remove = "remove"
    reset = "reset"


def set_permissions(
    session: Session,
    caller: access.Caller,
    template: models.VmTemplate,
    *,
    public: bool | None,
    featured: bool | None,
    extractable: bool | None,
    operation: Operation | None,
    account_ids: Sequence[int],
) -> None:
    """updateTemplatePermissions: the flags, then the launch permissions (add/remove/reset)."""
    if featured is not None and not caller.is_root_admin:
        raise errors.PermissionDenied("Only admins can change a template's featured flag")
    if public and not caller.is_root_admin:
        owner_ok = settings.Settings(session).get(
            keys.ALLOW_PUBLIC_USER_TEMPLATES, account_id=template.account_id
        )
        if not owner_ok and not caller.is_domain_admin:
            raise errors.InvalidParameterValue("Only private templates/ISO can be created.")
    for column, value in (("public", public), ("featured", featured), ("extractable", extractable)):
        if value is not None:
            setattr(template, column, value)
    if account_ids and operation is None:
        raise errors.InvalidParameterValue("Specify op add, remove or reset with accounts")
    permission = models.LaunchPermission
    if operation is Operation.reset:
        session.execute(sa.delete(permission).where(permission.template_id == template.id))
    elif operation is Operation.remove and account_ids:
        session.execute(
            sa.delete(permission).where(
                permission.template_id == template.id, permission.account_id.in_(account_ids)
            )
        )
    elif operation is Operation.add:
        held = set(
            session.scalars(
                sa.select(permission.account_id).where(permission.template_id == template.id)
            )
        )
        for account_id in sorted(set(account_ids) - held - {template.account_id}):
            session.add(permission(template_id=template.id, account_id=account_id))
    session.flush()


def permitted_accounts(
    session: Session, template: models.VmTemplate
) -> list[account_models.Account]:
    """The accounts a template is shared with, by id."""
    permission = models.LaunchPermission
    return list(
        session.scalars(
            sa.select(account_models.Account)
            .join(permission, permission.account_id == account_models.Account.id)
            .where(permission.template_id == template.id)
            .order_by(account_models.Account.id)
        )
    )
