"""The ``imagestore`` response object: spec + serializer (secrets are never shown)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from cirrostack.api.registry import Field, ObjectSpec
from cirrostack.api.views import batch
from cirrostack.db.models import infrastructure
from cirrostack.db.models import storage as models
from cirrostack.storage import image_stores

_S, _B, _L = "string", "boolean", "long"

IMAGE_STORE = ObjectSpec(
    "imagestore",
    (
        Field("id", _S, "the ID of the image store"),
        Field("name", _S, "the name of the image store"),
        Field("url", _S, "the url of the image store"),
        Field("protocol", _S, "the protocol of the image store"),
        Field("providername", _S, "the provider name of the image store"),
        Field("scope", _S, "the scope of the image store"),
        Field("zoneid", _S, "the Zone ID of the image store"),
        Field("zonename", _S, "the Zone name of the image store"),
        Field("readonly", _B, "defines if store is read-only"),
        Field("disksizetotal", _L, "the total disk size of the host"),
        Field("disksizeused", _L, "the host's currently used disk size"),
        Field("details", "set", "the details of the image store (never the secret key)"),
    ),
)


def store_items(session: Session, found: Sequence[models.ImageStore]) -> list[dict[str, Any]]:
    """Stores as answers show them; zones and details read in one query each."""
    zones = batch.by_id(session, infrastructure.DataCenter, [s.data_center_id for s in found])
    shown = image_stores.details_of(session, [store.id for store in found])
    return [_store(store, zones.get(store.data_center_id or 0), shown) for store in found]


def _store(
    store: models.ImageStore,
    zone: infrastructure.DataCenter | None,
    shown: dict[int, dict[str, str]],
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": store.uuid,
        "name": store.name,
        "url": store.url,
        "protocol": store.protocol,
        "providername": store.image_provider_name,
        "scope": store.scope,
        "zoneid": zone.uuid if zone else None,
        "zonename": zone.name if zone else None,
        "readonly": store.readonly,
        "disksizetotal": store.total_size,
        "disksizeused": store.used_bytes,
    }
    details = shown.get(store.id)
    if details:
        item["details"] = [{"name": k, "value": v} for k, v in sorted(details.items())]
    return {key: value for key, value in item.items() if value is not None}
