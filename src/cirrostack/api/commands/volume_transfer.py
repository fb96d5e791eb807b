"""uploadVolume and extractVolume: a volume from a URL onto an image store, and a volume's
bytes out through a link.

Both are async as in CloudStack. uploadVolume checks the URL in its ``before`` step (DNS, no
transaction open), records the volume UploadOp with its copy at the request, and downloads in
the job (``storage.volume_upload``); the job answers the volume. extractVolume checks at the
request and copies in the job (``storage.volume_extract``); the job answers CloudStack's
extract object (``url``, ``extractMode``, ``state``...).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from cirrostack import errors
from cirrostack.api import jobs, registry, responses
from cirrostack.api.commands import volumes as volume_commands
from cirrostack.api.commands.common import P, T
from cirrostack.api.registry import Field, ObjectSpec
from cirrostack.api.views import volumes as views
from cirrostack.db.models import accounts as account_models
from cirrostack.db.models import infrastructure
from cirrostack.db.models import offerings as offering_models
from cirrostack.db.models import storage as models
from cirrostack.infrastructure import zones
from cirrostack.offerings import disk_offerings
from cirrostack.offerings import scope as offering_scope
from cirrostack.storage import image_stores, volume_extract, volume_upload, volumes

_VOLUME = volume_commands.RESOURCE_TYPE


def _zone(call: registry.Call) -> infrastructure.DataCenter:
    found: infrastructure.DataCenter = zones.by_uuid(call.session, call.get("zoneid"), "zoneid")
    return found


def _offering(call: registry.Call, zone: infrastructure.DataCenter) -> offering_models.DiskOffering:
    """The given custom offering, or the first custom one the caller sees in the zone (the
    size of an upload is known only after it, so CloudStack wants a custom offering)."""
    uuid = call.get("diskofferingid")
    if uuid is not None:
        offering = disk_offerings.by_uuid(call.session, uuid, parameter="diskofferingid")
        if not offering_scope.sees(call.session, call.who, offering_scope.DISK, offering.id):
            raise disk_offerings.unknown(uuid, "diskofferingid")
        if not offering.customized:
            raise errors.InvalidParameterValue(
                f"Disk offering {uuid} is not a custom sized offering: the size of an "
                "uploaded volume is known only after the upload"
            )
        return offering
    model = offering_models.DiskOffering
    for offering in call.session.scalars(
        sa.select(model)
        .where(
            model.customized.is_(True),
            model.removed.is_(None),
            model.compute_only.is_(False),
            offering_scope.usable_in(offering_scope.DISK, model.id, zone),
        )
        .order_by(model.id)
    ):
        if offering_scope.sees(call.session, call.who, offering_scope.DISK, offering.id):
            return offering
    raise errors.InvalidParameterValue(
        "Specify diskofferingid: there is no custom sized disk offering for the upload"
    )


def check_url(before: registry.Before) -> str | None:
    """uploadVolume's ``before`` step: the template checks of the URL (DNS, no transaction)."""
    url = before.args.get("url")
    if not isinstance(url, str):
        return None
    return volume_upload.check_url(before.sessions, url)


def begin_upload(call: registry.Call) -> jobs.Instance:
    """At submit: every check, then the volume UploadOp and its copy Allocated."""
    if call.get("projectid") is not None:
        raise errors.InvalidParameterValue(
            "Projects are not supported yet: projectid cannot be used"
        )
    zone = _zone(call)
    store = call.get("imagestoreuuid")
    new = volume_upload.NewUpload(
        name=call.get("name"),
        url=call.prepared or call.get("url"),
        image_format=volume_upload.parse_format(call.get("format")),
        zone=zone,
        offering=_offering(call, zone),
        checksum=call.get("checksum"),
        store=image_stores.by_uuid(call.session, store, "imagestoreuuid") if store else None,
    )
    owner: account_models.Account = volume_commands.owner(call)
    volume = volume_upload.begin(call.session, call.who, owner, new, call.now)
    volume_commands.acted_on(call, volume)
    return jobs.Instance(_VOLUME, volume.id, volume.uuid)


def upload_volume(call: registry.Call) -> responses.Reply:
    """In the job: the download; the Uploaded volume."""
    if call.instance_id is None or call.job is None:
        raise RuntimeError("uploadVolume's job runs without the volume it created")
    volume = volume_upload.download(
        call.session, call.services.need_agents(), call.job, call.instance_id
    )
    volume_commands.acted_on(call, volume)
    return responses.Single("volume", views.volume_item(call.session, call.who, volume))


def begin_extract(call: registry.Call) -> jobs.Instance:
    """At submit: the volume in reach (another account's is answered as missing), the mode,
    the zone and the volume's state."""
    volume = volumes.by_uuid(call.session, call.who, call.get("id"))
    volume_extract.check(call.session, volume, _zone(call), call.get("mode"))
    volume_commands.acted_on(call, volume)
    return jobs.Instance(_VOLUME, volume.id, volume.uuid)


def extract_volume(call: registry.Call) -> responses.Reply:
    """In the job: the copy on an image store and its link."""
    if call.job is None:
        raise RuntimeError("extractVolume runs as a job")
    volume = volumes.by_uuid(call.session, call.who, call.get("id"))
    volume_commands.acted_on(call, volume)
    done = volume_extract.extract(
        call.session, call.services.need_agents(), call.job, volume, call.now
    )
    return responses.Single("volume", _extract_item(call, volume, done))


def _extract_item(
    call: registry.Call, volume: models.Volume, done: volume_extract.Extracted
) -> dict[str, Any]:
    zone = call.session.get_one(infrastructure.DataCenter, volume.data_center_id)
    account = call.session.get_one(account_models.Account, volume.account_id)
    return responses.compact(
        {
            "id": volume.uuid,
            "name": volume.name,
            "extractId": volume.uuid,
            "extractMode": volume_extract.HTTP_DOWNLOAD,
            "url": done.url(call.session, volume),
            "state": "DOWNLOAD_URL_CREATED",
            "status": "DOWNLOAD_URL_CREATED",
            "uploadpercentage": 100,
            "zoneid": zone.uuid,
            "zonename": zone.name,
            "accountid": account.uuid,
            "created": responses.date(done.ref.created),
            "storagetype": "Image",
        }
    )


_S = "string"
EXTRACT = ObjectSpec(
    "volume",
    (
        Field("id", _S, "the id of extracted object"),
        Field("name", _S, "the name of the extracted object"),
        Field("extractId", _S, "the upload id of extracted object"),
        Field("extractMode", _S, "the mode of extraction - upload or download"),
        Field("url", _S, "if mode = download the url at which the volume can be downloaded"),
        Field("state", _S, "the state of the extracted object"),
        Field("status", _S, "the status of the extraction"),
        Field("uploadpercentage", "integer", "the percentage of the entity uploaded"),
        Field("zoneid", _S, "zone ID the object was extracted from"),
        Field("zonename", _S, "zone name the object was extracted from"),
        Field("accountid", _S, "the account id to which the extracted object belongs"),
        Field("created", "date", "the time and date the object was created"),
        Field("storagetype", _S, "type of the storage"),
        Field("resultstring", _S, "the result of the extraction"),
    ),
)

COMMANDS = (
    registry.Command(
        "uploadVolume",
        upload_volume,
        "Uploads a data disk.",
        (
            P("format", T.STRING, "the format for the volume: QCOW2 or RAW", required=True),
            P("name", T.STRING, "the name of the volume", required=True),
            P(
                "url",
                T.STRING,
                "the URL of where the volume is hosted (http or https)",
                required=True,
            ),
            P(
                "zoneid",
                T.UUID,
                "the ID of the zone the volume is to be hosted on",
                required=True,
                related=("listZones",),
            ),
            P("checksum", T.STRING, "the checksum of the volume: {ALGO}hex, or bare MD5 hex"),
            P(
                "diskofferingid",
                T.UUID,
                "the ID of a custom sized disk offering",
                related=("listDiskOfferings",),
            ),
            P("imagestoreuuid", T.STRING, "Image store uuid", related=("listImageStores",)),
            P("account", T.STRING, "an optional accountName (with domainid)"),
            P("domainid", T.UUID, "an optional domainId", related=("listDomains",)),
            P(
                "projectid",
                T.UUID,
                "Upload volume for the project (projects are not supported yet: refused)",
            ),
        ),
        views.VOLUME,
        is_async=True,
        instance_type=_VOLUME,
        event="VOLUME.UPLOAD",
        prepare=begin_upload,
        before=check_url,
    ),
    registry.Command(
        "extractVolume",
        extract_volume,
        "Extracts volume",
        (
            P("id", T.UUID, "the ID of the volume", required=True, related=("listVolumes",)),
            P(
                "mode",
                T.STRING,
                "the mode of extraction: HTTP_DOWNLOAD (FTP_UPLOAD is refused)",
                required=True,
            ),
            P(
                "zoneid",
                T.UUID,
                "the ID of the zone where the volume is located",
                required=True,
                related=("listZones",),
            ),
            P("url", T.STRING, "the url to which the volume would be extracted (FTP_UPLOAD only)"),
        ),
        EXTRACT,
        is_async=True,
        instance_type=_VOLUME,
        event="VOLUME.EXTRACT",
        prepare=begin_extract,
    ),
)
