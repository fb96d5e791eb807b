"""Primary storage pools: the url an admin gives, the row and its tags and details, lists,
updates and deletes. Host connections are ``pool_hosts``; capacity rows ``capacity``.

The url is parsed as CloudStack parses it for KVM: ``nfs://server/export`` is a
NetworkFilesystem pool; ``SharedMountPoint://localhost/path`` (or ``sharedmountpoint:``) a
SharedMountPoint; ``file://localhost/path`` (or ``filesystem://``) a Filesystem pool. Anything
else is refused with a 431 before any row is written.
"""

from __future__ import annotations

import datetime
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.allocators import tag_rules
from cirrostack.db import query
from cirrostack.db.models import infrastructure as infra
from cirrostack.db.models import storage as models
from cirrostack.infrastructure import rows
from cirrostack.protocol import storage as st
from cirrostack.states import gate, machines
from cirrostack.storage import capacity

_TYPES = {
    "nfs": st.StoragePoolType.NETWORK_FILESYSTEM,
    "sharedmountpoint": st.StoragePoolType.SHARED_MOUNT_POINT,
    "file": st.StoragePoolType.FILESYSTEM,
    "filesystem": st.StoragePoolType.FILESYSTEM,
}
SCOPES = ("CLUSTER", "ZONE", "HOST")
PROVIDER = "DefaultPrimary"
#: A pool detail marking a capacity the admin gave (capacitybytes): the agents' reported size
#: does not replace it (connections and the stats collector keep it).
ADMIN_CAPACITY_DETAIL = "cirrostack.capacity.admin"


@dataclass(frozen=True)
class Location:
    """Where a pool is: its type, server (or ``localhost``), path and port."""

    pool_type: st.StoragePoolType
    host: str
    path: str
    port: int = 0


def parse_url(url: str) -> Location:
    """The location a createStoragePool url names; InvalidParameterValue for anything else."""
    text = (url or "").strip()
    parts = urllib.parse.urlsplit(text)
    pool_type = _TYPES.get(parts.scheme.lower())
    if pool_type is None:
        raise errors.InvalidParameterValue(
            f"Unsupported storage url {text!r}: use nfs://server/path, "
            "SharedMountPoint://localhost/path or file://localhost/path"
        )
    path = urllib.parse.unquote(parts.path or "")
    if not path.startswith("/") or ".." in path.split("/"):
        raise errors.InvalidParameterValue(f"The storage url {text!r} names no absolute path")
    host = parts.hostname or ""
    if pool_type is st.StoragePoolType.NETWORK_FILESYSTEM:
        if not host:
            raise errors.InvalidParameterValue(f"The NFS url {text!r} names no server")
    else:
        host = host or "localhost"
    try:
        port = parts.port or 0
    except ValueError:
        raise errors.InvalidParameterValue(f"The storage url {text!r} has a bad port") from None
    path = path.rstrip("/") or "/"
    return Location(pool_type, host, path, port)


@dataclass(frozen=True)
class NewPool:
    """What createStoragePool asks for, parsed."""

    name: str
    url: str
    zone: infra.DataCenter
    pod: infra.HostPod | None = None
    cluster: infra.Cluster | None = None
    scope: str | None = None
    hypervisor: str | None = None
    tags: Sequence[str] = ()
    #: ``tags`` is one rule tag (``parse_tags(..., rule=True)``), not plain tags.
    tag_is_rule: bool = False
    capacity_bytes: int | None = None
    capacity_iops: int | None = None
    provider: str | None = None
    managed: bool = False
    details: Mapping[str, str] | None = None


def insert(session: Session, new: NewPool) -> models.StoragePool:
    """Check ``new`` and record the pool (Initialized) with its tags and details.

    Raises InvalidParameterValue for a bad url, scope, provider or placement; nothing is
    written then.
    """
    name = rows.require_name(new.name, "storage pool")
    location = parse_url(new.url)
    provider = (new.provider or PROVIDER).strip()
    if provider.lower() != PROVIDER.lower():
        raise errors.InvalidParameterValue(
            f"Unknown primary storage provider {provider}: only {PROVIDER} is available"
        )
    scope = (new.scope or ("CLUSTER" if new.cluster is not None else "ZONE")).upper()
    if scope not in ("CLUSTER", "ZONE"):
        raise errors.InvalidParameterValue(
            f"Invalid scope {new.scope}: createStoragePool takes cluster or zone"
        )
    pod, cluster, hypervisor = new.pod, new.cluster, new.hypervisor
    if scope == "CLUSTER":
        if cluster is None or pod is None:
            raise errors.InvalidParameterValue(
                "A cluster-wide storage pool needs podid and clusterid"
            )
        if cluster.pod_id != pod.id or pod.data_center_id != new.zone.id:
            raise errors.InvalidParameterValue(
                f"Cluster {cluster.name} is not in pod {pod.name} of zone {new.zone.name}"
            )
        hypervisor = cluster.hypervisor_type
    else:
        if not hypervisor:
            raise errors.InvalidParameterValue("A zone-wide storage pool needs a hypervisor")
        pod, cluster = None, None
    if new.capacity_bytes is not None and new.capacity_bytes < 0:
        raise errors.InvalidParameterValue("capacitybytes cannot be negative")
    if new.capacity_iops is not None and new.capacity_iops < 0:
        raise errors.InvalidParameterValue("capacityiops cannot be negative")
    pool = models.StoragePool(
        name=name,
        pool_type=location.pool_type.value,
        host_address=location.host,
        path=location.path,
        port=location.port,
        data_center_id=new.zone.id,
        pod_id=pod.id if pod else None,
        cluster_id=cluster.id if cluster else None,
        scope=scope,
        hypervisor=hypervisor,
        capacity_bytes=new.capacity_bytes or None,
        used_bytes=0,
        capacity_iops=new.capacity_iops,
        status=machines.StoragePoolStatus.Initialized.value,
        storage_provider_name=PROVIDER,
        managed=new.managed,
    )
    session.add(pool)
    session.flush()
    set_tags(session, pool, new.tags, rule=new.tag_is_rule)
    if new.capacity_bytes:
        _set_detail(session, pool, ADMIN_CAPACITY_DETAIL, "true")
    for key, value in (new.details or {}).items():
        session.add(models.StoragePoolDetail(pool_id=pool.id, name=key, value=str(value)))
    session.flush()
    return pool


def set_tags(
    session: Session, pool: models.StoragePool, tags: Sequence[str], *, rule: bool = False
) -> None:
    """Replace the pool's tags (blank ones dropped, duplicates once); with ``rule`` each is
    stored as a rule tag (``is_tag_a_rule``)."""
    session.execute(
        sa.delete(models.StoragePoolTag).where(models.StoragePoolTag.pool_id == pool.id)
    )
    seen: list[str] = []
    for tag in (t.strip() for t in tags):
        if tag and tag not in seen:
            seen.append(tag)
            session.add(models.StoragePoolTag(pool_id=pool.id, tag=tag, is_tag_a_rule=rule))
    session.flush()


def parse_tags(text: str | Sequence[str] | None, *, rule: bool = False) -> list[str]:
    """A comma list (or a list) of tags as given; with ``rule`` the whole text is ONE rule
    tag (CloudStack's ``istagarule``: a JavaScript expression, commas and all), checked to
    be in the subset the allocator evaluates (``allocators.tag_rules``): InvalidParameterValue
    otherwise, so a rule that would never match is refused when it is set."""
    if text is None:
        return []
    if rule:
        whole = text if isinstance(text, str) else ",".join(text)
        if not whole.strip():
            return []
        try:
            tag_rules.parse(whole.strip())
        except tag_rules.NotEvaluated as exc:
            raise errors.InvalidParameterValue(
                f"The storage tag rule {whole.strip()!r} cannot be evaluated: {exc}; "
                "cirrostack evaluates a subset of JavaScript (comparisons, &&, ||, !, "
                "tags.length, tags[i], tags.includes, tags.indexOf)"
            ) from exc
        return [whole.strip()]
    items = text.split(",") if isinstance(text, str) else list(text)
    return [item.strip() for item in items if item.strip()]


def by_uuid(session: Session, uuid: str, parameter: str = "id") -> models.StoragePool:
    """The live pool with ``uuid``; InvalidParameterValue naming ``parameter`` if none."""
    found = session.scalars(
        sa.select(models.StoragePool).where(
            models.StoragePool.uuid == uuid, models.StoragePool.removed.is_(None)
        )
    ).first()
    if found is None:
        raise errors.InvalidParameterValue(f"Unable to find storage pool by {parameter} {uuid}")
    return found


def attached(session: Session, pool: models.StoragePool) -> None:
    """The pool has a connected host: Initialized → Up (its capacity rows made)."""
    gate.transition(session, pool, machines.StoragePoolEvent.Attached)
    capacity.ensure(session, pool)


def discard(session: Session, pool_id: int) -> None:
    """Remove a pool that never came Up (no host connected): its rows go entirely."""
    capacity.delete(session, pool_id)
    for model in (models.StoragePoolHostRef, models.StoragePoolTag, models.StoragePoolDetail):
        session.execute(sa.delete(model).where(model.pool_id == pool_id))
    session.execute(sa.delete(models.StoragePool).where(models.StoragePool.id == pool_id))


@dataclass(frozen=True)
class PoolFilter:
    """listStoragePools' filters (internal ids)."""

    id: int | None = None
    name: str | None = None
    zone_id: int | None = None
    pod_id: int | None = None
    cluster_id: int | None = None
    host_address: str | None = None
    path: str | None = None
    scope: str | None = None
    status: str | None = None
    keyword: str | None = None


def search(
    session: Session, wanted: PoolFilter, page: query.Page
) -> tuple[Sequence[models.StoragePool], int]:
    """Live pools matching ``wanted``: one page and the total."""
    pool = models.StoragePool
    statement = sa.select(pool).where(pool.removed.is_(None))
    statement = statement.where(
        *query.equal_to_given(
            (pool.id, wanted.id),
            (pool.data_center_id, wanted.zone_id),
            (pool.pod_id, wanted.pod_id),
            (pool.cluster_id, wanted.cluster_id),
            (pool.host_address, wanted.host_address),
            (pool.path, wanted.path),
            (pool.scope, wanted.scope.upper() if wanted.scope else None),
            (pool.status, wanted.status),
        ),
        *query.named_as_given((pool.name, wanted.name)),
    )
    if wanted.keyword:
        statement = statement.where(query.matches_keyword(pool.name, wanted.keyword))
    found, total = query.paged(session, statement.order_by(pool.id), page)
    return list(found), total


@dataclass(frozen=True)
class PoolChanges:
    """updateStoragePool's changes; None leaves a field as it is."""

    name: str | None = None
    tags: Sequence[str] | None = None
    tag_is_rule: bool = False
    capacity_bytes: int | None = None
    capacity_iops: int | None = None
    enabled: bool | None = None
    details: Mapping[str, str] | None = None


def update(session: Session, pool: models.StoragePool, changes: PoolChanges) -> models.StoragePool:
    """Apply ``changes``; the capacity rows' totals follow a new capacity."""
    if changes.name is not None:
        pool.name = rows.require_name(changes.name, "storage pool")
    if changes.capacity_bytes is not None:
        if changes.capacity_bytes <= 0:
            raise errors.InvalidParameterValue("capacitybytes must be positive")
        pool.capacity_bytes = changes.capacity_bytes
        _set_detail(session, pool, ADMIN_CAPACITY_DETAIL, "true")
    if changes.capacity_iops is not None:
        if changes.capacity_iops < 0:
            raise errors.InvalidParameterValue("capacityiops cannot be negative")
        pool.capacity_iops = changes.capacity_iops
    if changes.tags is not None:
        set_tags(session, pool, changes.tags, rule=changes.tag_is_rule)
    for key, value in (changes.details or {}).items():
        _set_detail(session, pool, key, str(value))
    if changes.enabled is not None:
        event = (
            machines.StoragePoolEvent.Enable
            if changes.enabled
            else machines.StoragePoolEvent.Disable
        )
        gate.transition(session, pool, event)
    session.flush()
    capacity.ensure(session, pool)
    return pool


def _set_detail(session: Session, pool: models.StoragePool, name: str, value: str) -> None:
    row = session.scalars(
        sa.select(models.StoragePoolDetail).where(
            models.StoragePoolDetail.pool_id == pool.id, models.StoragePoolDetail.name == name
        )
    ).first()
    if row is None:
        session.add(models.StoragePoolDetail(pool_id=pool.id, name=name, value=value))
    else:
        row.value = value


def lock(session: Session, pool_id: int) -> models.StoragePool:
    """Lock the pool row and re-read it; InvalidParameterValue when it is gone meanwhile.

    A volume create on the pool and the pool's delete both take this lock, so one waits for
    the other: no volume lands on a deleted pool, and no pool is deleted under a new volume.
    """
    found = session.scalars(
        sa.select(models.StoragePool)
        .where(models.StoragePool.id == pool_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if found is None or found.removed is not None:
        raise errors.InvalidParameterValue(f"Unable to find storage pool by id {pool_id}")
    return found


#: Volume states ``forced`` deletes may leave behind (they are marked removed with the pool).
_DESTROYED = ("Destroy", "Expunging", "Expunged")


def remove(session: Session, pool: models.StoragePool, *, forced: bool = False) -> None:
    """Soft-delete a pool with no volumes left: its host refs, capacity rows, tags and details
    go, its uuid is NULLed and ``removed`` set. Call with the pool locked (``lock``).

    Raises ResourceInUse while a volume that is not removed is on it; ``forced`` (CloudStack's
    flag) lets volumes already destroyed stay behind, marked removed.
    """
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    volume = models.Volume
    blocking = [volume.pool_id == pool.id, volume.removed.is_(None)]
    if forced:
        blocking.append(volume.state.not_in(_DESTROYED))
    # A locking read: on MariaDB a plain one answers from the snapshot this transaction took
    # before the lock was granted, missing a volume a creation holding the lock committed.
    live = len(session.scalars(sa.select(volume.id).where(*blocking).with_for_update()).all())
    if not live and forced:
        session.execute(
            sa.update(volume)
            .where(volume.pool_id == pool.id, volume.removed.is_(None))
            .values(removed=now)
        )
    if live:
        raise errors.ResourceInUse(
            f"Cannot delete storage pool {pool.name}: {live} volume(s) are still on it; "
            "delete or migrate them first"
        )
    capacity.delete(session, pool.id)
    for model in (models.StoragePoolHostRef, models.StoragePoolTag, models.StoragePoolDetail):
        session.execute(sa.delete(model).where(model.pool_id == pool.id))
    pool.uuid = None
    pool.removed = now
    session.flush()


def tags_of(session: Session, pool_ids: Sequence[int]) -> dict[int, list[str]]:
    """Each pool's tags (one query)."""
    return {
        pool_id: [tag for tag, _ in found]
        for pool_id, found in tags_with_rule(session, pool_ids).items()
    }


def tags_with_rule(session: Session, pool_ids: Sequence[int]) -> dict[int, list[tuple[str, bool]]]:
    """Each pool's tags with their ``is_tag_a_rule`` flag, in row order (one query)."""
    found: dict[int, list[tuple[str, bool]]] = {}
    if not pool_ids:
        return found
    tag = models.StoragePoolTag
    for pool_id, text, rule in session.execute(
        sa.select(tag.pool_id, tag.tag, tag.is_tag_a_rule)
        .where(tag.pool_id.in_(pool_ids))
        .order_by(tag.id)
    ):
        found.setdefault(pool_id, []).append((text, bool(rule)))
    return found
    for pool_id, tag in session.execute(
        sa.select(models.StoragePoolTag.pool_id, models.StoragePoolTag.tag)
        .where(models.StoragePoolTag.pool_id.in_(pool_ids))
        .order_by(models.StoragePoolTag.id)
    ):
        found.setdefault(pool_id, []).append(tag)
    return found
