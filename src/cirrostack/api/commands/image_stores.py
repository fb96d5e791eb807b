"""addImageStore, addImageStoreS3, listImageStores, deleteImageStore (root admins only).

CloudStack records no event for these (they are not event-bearing commands there either).
"""

from __future__ import annotations

from typing import Any

from cirrostack import errors
from cirrostack.api import paging, registry, responses
from cirrostack.api.commands.common import P, T
from cirrostack.api.views import image_stores as views
from cirrostack.db.models import storage as models
from cirrostack.infrastructure import zones
from cirrostack.storage import image_stores


def _acted_on(call: registry.Call, store: models.ImageStore) -> models.ImageStore:
    call.acted_on = ("ImageStore", store.id, store.name)
    return store


def add_image_store(call: registry.Call) -> responses.Reply:
    provider = str(call.get("provider"))
    if provider.upper() != image_stores.Provider.NFS.value:
        raise errors.InvalidParameterValue(
            f"Image store provider {provider} is not supported: use NFS (or addImageStoreS3)"
        )
    if call.get("zoneid") is None:
        raise errors.InvalidParameterValue("An NFS image store needs a zoneid")
    zone = zones.by_uuid(call.session, call.get("zoneid"), "zoneid")
    new = image_stores.NewNfsStore(
        name=call.get("name"),
        url=str(call.get("url") or ""),
        zone_id=zone.id,
        details=_details(call.get("details")),
    )
    store = _acted_on(call, image_stores.add_nfs(call.session, new))
    return responses.Single("imagestore", views.store_items(call.session, [store])[0])


def add_image_store_s3(call: registry.Call) -> responses.Reply:
    zone = zones.by_uuid(call.session, call.get("zoneid"), "zoneid") if call.get("zoneid") else None
    new = image_stores.NewS3Store(
        name=call.get("name"),
        access_key=call.get("accesskey"),
        secret_key=call.get("secretkey"),
        end_point=call.get("endpoint"),
        bucket=call.get("bucket"),
        https=call.get("usehttps", True),
        signer=call.get("s3signer"),
        connection_timeout=call.get("connectiontimeout"),
        socket_timeout=call.get("sockettimeout"),
        max_error_retry=call.get("maxerrorretry"),
        zone_id=zone.id if zone else None,
    )
    store = _acted_on(call, image_stores.add_s3(call.session, new))
    return responses.Single("imagestore", views.store_items(call.session, [store])[0])


def list_image_stores(call: registry.Call) -> responses.Reply:
    zone = zones.by_uuid(call.session, call.get("zoneid"), "zoneid") if call.get("zoneid") else None
    wanted = image_stores.StoreFilter(
        id=image_stores.by_uuid(call.session, call.get("id")).id if call.get("id") else None,
        name=call.get("name"),
        zone_id=zone.id if zone else None,
        provider=call.get("provider"),
        protocol=call.get("protocol"),
        keyword=call.get("keyword"),
    )
    found, total = image_stores.search(call.session, wanted, paging.page(call))
    return responses.Listing("imagestore", views.store_items(call.session, found), total)


def delete_image_store(call: registry.Call) -> responses.Reply:
    store = _acted_on(call, image_stores.by_uuid(call.session, call.get("id")))
    image_stores.delete(call.session, store)
    return responses.Success()


def _details(value: dict[int, dict[str, str]] | None) -> dict[str, str]:
    """``details[0].key=k&details[0].value=v`` (CloudStack's form) or ``details[0].k=v``."""
    merged: dict[str, str] = {}
    for index in sorted(value or {}):
        entry: dict[str, Any] = (value or {})[index]
        if set(entry) == {"key", "value"}:
            merged[str(entry["key"])] = str(entry["value"])
        else:
            merged.update(entry)
    return merged


COMMANDS = (
    registry.Command(
        "addImageStore",
        add_image_store,
        "Adds backup image store.",
        (
            P("provider", T.STRING, "the image store provider name (NFS)", required=True),
            P("url", T.STRING, "the URL for the image store (nfs://host/path)"),
            P("name", T.STRING, "the name for the image store"),
            P("zoneid", T.UUID, "the Zone ID for the image store", related=("listZones",)),
            P("details", T.MAP, "the details for the image store"),
        ),
        views.IMAGE_STORE,
        authorized=registry.ADMINS,
        writes=True,
    ),
    registry.Command(
        "addImageStoreS3",
        add_image_store_s3,
        "Adds S3 Image Store",
        (
            P("accesskey", T.STRING, "S3 access key", required=True),
            P("secretkey", T.STRING, "S3 secret key", required=True),
            P("endpoint", T.STRING, "S3 endpoint (host[:port])", required=True),
            P("bucket", T.STRING, "Name of the storage bucket", required=True),
            P("name", T.STRING, "the name for the image store"),
            P("zoneid", T.UUID, "the Zone ID (none: region-wide)", related=("listZones",)),
            P("usehttps", T.BOOLEAN, "Use HTTPS instead of HTTP"),
            P(
                "s3signer",
                T.STRING,
                "Signer Algorithm to use, either S3SignerType or AWSS3V4SignerType",
            ),
            P("connectiontimeout", T.INTEGER, "Connection timeout (milliseconds)"),
            P("sockettimeout", T.INTEGER, "Socket timeout (milliseconds)"),
            P("maxerrorretry", T.INTEGER, "Maximum number of times to retry on error"),
            P("connectionttl", T.INTEGER, "Connection TTL (milliseconds; ignored)"),
            P("usetcpkeepalive", T.BOOLEAN, "Whether TCP keep-alive is used (ignored)"),
        ),
        views.IMAGE_STORE,
        authorized=registry.ADMINS,
        writes=True,
    ),
    registry.Command(
        "listImageStores",
        list_image_stores,
        "Lists image stores.",
        (
            P("id", T.UUID, "the ID of the storage pool", related=("listImageStores",)),
            P("name", T.STRING, "the name of the image store"),
            P("zoneid", T.UUID, "the Zone ID for the image store", related=("listZones",)),
            P("provider", T.STRING, "the image store provider"),
            P("protocol", T.STRING, "the image store protocol"),
            P("readonly", T.BOOLEAN, "read-only status of the image store (ignored)"),
            *paging.PARAMS,
        ),
        views.IMAGE_STORE,
        authorized=registry.ADMINS,
    ),
    registry.Command(
        "deleteImageStore",
        delete_image_store,
        "Deletes an image store or Secondary Storage.",
        (P("id", T.UUID, "the image store ID", required=True, related=("listImageStores",)),),
        authorized=registry.ADMINS,
        writes=True,
    ),
)
