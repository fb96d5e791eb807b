"""Image stores (secondary storage): add NFS or S3, list, delete; their transfer objects.

Called by the image store API commands inside their transaction, and by the template services
and jobs to name a store to an agent. An NFS store belongs to one zone; an S3 store without a
zone is region-wide, as in CloudStack. CloudStack needs an NFS staging store beside an S3 one
for copies to primary storage; our agents read S3 directly, so none is required.

An S3 store's secret key is sealed with the server key (``accounts.vault``, purpose
``S3_SECRET``) in ``image_store_details``; it is opened only to build the ``S3TO`` sent to an
agent, and never shown in a response or an event.
"""

from __future__ import annotations

import enum
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.accounts import vault
from cirrostack.db import base, query
from cirrostack.db.models import storage as models
from cirrostack.db.models import templates as template_models
from cirrostack.infrastructure import rows
from cirrostack.protocol import storage as protocol
from cirrostack.storage import capacity

#: What an S3 store's secret key is sealed for: it opens as nothing else.
S3_SECRET = b"cirrostack image store s3 secret v1"
#: ``image_store_details.value`` holds 255 characters (a sealed key is longer than its plain).
_DETAIL_LENGTH = 255
SECRET_DETAIL = "secretkey"  # noqa: S105 - the detail's name, not a secret


class Provider(enum.StrEnum):
    """``image_store.image_provider_name``: the store kinds we serve."""

    NFS = "NFS"
    S3 = "S3"


class Scope(enum.StrEnum):
    ZONE = "ZONE"
    REGION = "REGION"


@dataclass(frozen=True)
class NewNfsStore:
    """addImageStore's values (provider NFS)."""

    name: str | None
    url: str
    zone_id: int
    details: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class NewS3Store:
    """addImageStoreS3's values; ``zone_id`` None makes a region-wide store."""

    name: str | None
    access_key: str
    secret_key: str
    end_point: str
    bucket: str
    https: bool = True
    signer: str | None = None
    connection_timeout: int | None = None
    socket_timeout: int | None = None
    max_error_retry: int | None = None
    zone_id: int | None = None


@dataclass(frozen=True)
class StoreFilter:
    """listImageStores's filters; None matches anything."""

    id: int | None = None
    name: str | None = None
    zone_id: int | None = None
    provider: str | None = None
    protocol: str | None = None
    keyword: str | None = None


def add_nfs(session: Session, new: NewNfsStore) -> models.ImageStore:
    """Insert a zone's NFS store; InvalidParameterValue for a URL that is not nfs://host/path."""
    parsed = urllib.parse.urlsplit(new.url.strip())
    if parsed.scheme.lower() != "nfs" or not parsed.hostname or parsed.path in ("", "/"):
        raise errors.InvalidParameterValue(
            f"Invalid url {new.url}: an NFS image store URL is nfs://<host>/<path>"
        )
    store = models.ImageStore(
        name=_name(new.name, parsed.hostname),
        protocol="nfs",
        url=new.url.strip(),
        image_provider_name=Provider.NFS.value,
        data_center_id=new.zone_id,
        scope=Scope.ZONE.value,
        role=protocol.DataStoreRole.IMAGE.value,
    )
    session.add(store)
    session.flush()
    _add_details(session, store, dict(new.details))
    return store


def add_s3(session: Session, new: NewS3Store) -> models.ImageStore:
    """Insert an S3 store with its settings as details, the secret key sealed."""
    for value, what in ((new.access_key, "accesskey"), (new.secret_key, "secretkey")):
        if not value.strip():
            raise errors.InvalidParameterValue(f"The S3 {what} cannot be blank")
    if not new.bucket.strip() or not new.end_point.strip():
        raise errors.InvalidParameterValue("An S3 image store needs an endpoint and a bucket")
    scheme = "https" if new.https else "http"
    store = models.ImageStore(
        name=_name(new.name, new.bucket),
        protocol=scheme,
        url=f"{scheme}://{new.end_point.strip()}/{new.bucket.strip()}",
        image_provider_name=Provider.S3.value,
        data_center_id=new.zone_id,
        scope=(Scope.ZONE if new.zone_id is not None else Scope.REGION).value,
        role=protocol.DataStoreRole.IMAGE.value,
    )
    session.add(store)
    session.flush()
    sealed = vault.of(session).seal(new.secret_key, S3_SECRET)
    if len(sealed) > _DETAIL_LENGTH:
        raise errors.InvalidParameterValue("The S3 secretkey is too long")
    shown = {
        "accesskey": new.access_key,
        SECRET_DETAIL: sealed,
        "endpoint": new.end_point.strip(),
        "bucket": new.bucket.strip(),
        "usehttps": str(new.https).lower(),
        "s3signer": new.signer,
        "connectiontimeout": new.connection_timeout,
        "sockettimeout": new.socket_timeout,
        "maxerrorretry": new.max_error_retry,
    }
    _add_details(session, store, {k: str(v) for k, v in shown.items() if v is not None})
    return store


def delete(session: Session, store: models.ImageStore) -> None:
    """Remove a store without template or volume copies; ResourceInUse naming how many remain.

    The store row is locked first: a registration, an upload or an extract that chose this
    store locks it too before inserting its copy, so the count cannot miss a copy being added
    at the same moment.
    """
    locked = lock(session, store.id)
    # A locking read: on MariaDB a plain one answers from the snapshot this transaction took
    # before the lock was granted, missing a copy a registration holding it committed.
    remaining = len(
        session.scalars(
            sa.select(template_models.TemplateStoreRef.id)
            .where(
                template_models.TemplateStoreRef.store_id == locked.id,
                template_models.TemplateStoreRef.destroyed.is_(False),
            )
            .with_for_update()
        ).all()
    )
    if remaining:
        raise errors.ResourceInUse(
            f"Cannot delete image store {locked.name} with active templates backup: "
            f"{remaining} template copies remain"
        )
    volumes = len(
        session.scalars(
            sa.select(template_models.VolumeStoreRef.id)
            .where(
                template_models.VolumeStoreRef.store_id == locked.id,
                template_models.VolumeStoreRef.destroyed.is_(False),
            )
            .with_for_update()
        ).all()
    )
    if volumes:
        raise errors.ResourceInUse(
            f"Cannot delete image store {locked.name} with active volumes backup: "
            f"{volumes} volume copies remain"
        )
    locked.removed = base.utcnow()
    capacity.delete_secondary(session, locked.id)
    session.flush()


def lock(session: Session, store_id: int) -> models.ImageStore:
    """The live store row, locked until the transaction ends; ResourceUnavailable once removed."""
    found = session.scalars(
        sa.select(models.ImageStore)
        .where(models.ImageStore.id == store_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if found.removed is not None:
        raise errors.ResourceUnavailable(f"Image store {found.name} has been removed")
    return found


def by_uuid(session: Session, uuid: str, parameter: str = "id") -> models.ImageStore:
    """The live store with ``uuid``; InvalidParameterValue naming ``parameter`` if none."""
    return rows.live_by_uuid(session, models.ImageStore, uuid, "image store", parameter)


def in_zone(session: Session, zone_id: int) -> list[models.ImageStore]:
    """The writable image stores serving ``zone_id`` (its own and region-wide), by id."""
    return list(
        session.scalars(
            sa.select(models.ImageStore)
            .where(
                models.ImageStore.removed.is_(None),
                models.ImageStore.readonly.is_(False),
                models.ImageStore.role == protocol.DataStoreRole.IMAGE.value,
                sa.or_(
                    models.ImageStore.data_center_id == zone_id,
                    models.ImageStore.data_center_id.is_(None),
                ),
            )
            .order_by(models.ImageStore.id)
        )
    )


def search(
    session: Session, wanted: StoreFilter, page: query.Page
) -> tuple[Sequence[models.ImageStore], int]:
    """One page of live image stores matching ``wanted``, by id."""
    store = models.ImageStore
    conditions = [
        store.removed.is_(None),
        store.role == protocol.DataStoreRole.IMAGE.value,
        *query.named_as_given((store.name, wanted.name)),
        *query.equal_to_given(
            (store.id, wanted.id),
            (store.data_center_id, wanted.zone_id),
            (store.image_provider_name, wanted.provider),
            (store.protocol, wanted.protocol),
        ),
    ]
    if wanted.keyword:
        conditions.append(query.keyword_in(wanted.keyword, store.name))
    statement = sa.select(store).where(*conditions).order_by(store.id)
    found, total = query.paged(session, statement, page)
    return list(found), total


def details_of(session: Session, store_ids: Sequence[int]) -> dict[int, dict[str, str]]:
    """Each store's details, the sealed secret key left out (one query)."""
    shown: dict[int, dict[str, str]] = {}
    if not store_ids:
        return shown
    detail = models.ImageStoreDetail
    for row in session.scalars(
        sa.select(detail).where(detail.store_id.in_(set(store_ids))).order_by(detail.id)
    ):
        if row.name != SECRET_DETAIL:
            shown.setdefault(row.store_id, {})[row.name] = row.value
    return shown


def transfer_object(session: Session, store: models.ImageStore) -> protocol.DataStoreTO:
    """What an agent is told about ``store`` (an NfsTO or an S3TO with the opened secret)."""
    if store.image_provider_name == Provider.NFS.value:
        return protocol.NfsTO(uuid=store.uuid, url=store.url or "")
    every = {row.name: row.value for row in _detail_rows(session, store.id)}
    secret = vault.of(session).open(every.get(SECRET_DETAIL, ""), S3_SECRET)
    return protocol.S3TO(
        uuid=store.uuid,
        id=store.id,
        end_point=every.get("endpoint", ""),
        bucket_name=every.get("bucket", ""),
        access_key=every.get("accesskey", ""),
        secret_key=secret,
        https=every.get("usehttps", "true") == "true",
        signer=every.get("s3signer", ""),
        connection_timeout=_whole(every, "connectiontimeout", 10),
        socket_timeout=_whole(every, "sockettimeout", 60),
        max_error_retry=_whole(every, "maxerrorretry", 3),
    )


def _whole(every: Mapping[str, str], name: str, default: int) -> int:
    text = every.get(name, "")
    return int(text) if text.isascii() and text.isdigit() else default


def _detail_rows(session: Session, store_id: int) -> Sequence[models.ImageStoreDetail]:
    detail = models.ImageStoreDetail
    return session.scalars(sa.select(detail).where(detail.store_id == store_id)).all()


def _add_details(session: Session, store: models.ImageStore, wanted: Mapping[str, str]) -> None:
    for name, value in wanted.items():
        session.add(models.ImageStoreDetail(store_id=store.id, name=name, value=value))
    session.flush()


def _name(given: str | None, fallback: str) -> str:
    return rows.require_name(given, "image store") if given is not None else fallback
