"""The template work that runs as jobs: each copy's download (queued by registerTemplate and
registerIso), deleteTemplate/deleteIso, copyTemplate/copyIso, and prepareTemplate's copies to
primary pools.

``downloadTemplate`` and ``copyTemplateToPool`` are internal commands (``registry.NOBODY``):
job bodies another command queues with ``api.jobs.start`` in its own transaction, never
reachable from the API (answered like an unknown command) nor listed by listApis. Their job
is the copy they work on (``jobinstancetype`` TemplateStoreRef / TemplateSpoolRef), so the
reaper leaves it alone while the job is unfinished.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from cirrostack import errors
from cirrostack.api import jobs, registry, responses
from cirrostack.api.commands.common import P, T
from cirrostack.api.views import templates as views
from cirrostack.db import base
from cirrostack.db.models import infrastructure
from cirrostack.db.models import storage as storage_models
from cirrostack.db.models import templates as models
from cirrostack.infrastructure import zones
from cirrostack.jobs import context, queue
from cirrostack.states import machines
from cirrostack.storage import (
    pools,
    template_copy,
    template_delete,
    template_download,
    template_pool,
    template_search,
    templates,
)

_TEMPLATE = "Template"
_STORE_COPY = "TemplateStoreRef"
_POOL_COPY = "TemplateSpoolRef"


def _job(call: registry.Call) -> context.Job:
    if call.job is None or call.instance_id is None:
        raise RuntimeError(f"{call.command.name} runs only as a job on its instance")
    return call.job


# --- the downloads registerTemplate queues ---------------------------------------------------


def _download(call: registry.Call) -> responses.Reply:
    job = _job(call)
    zone = call.get("zoneid")
    zone_id = zones.by_uuid(call.session, zone, "zoneid").id if zone else None
    template_download.download(
        call.session,
        call.services.need_sessions(),
        call.services.need_agents(),
        job,
        call.who,
        call.instance_id or 0,
        zone_id,
    )
    return responses.Success()


DOWNLOAD = registry.Command(
    "downloadTemplate",
    _download,
    "Internal: downloads one copy of a registered template or ISO to its image store.",
    (P("zoneid", T.UUID, "the zone whose host downloads (for a region-wide store)"),),
    is_async=True,
    authorized=registry.NOBODY,
    instance_type=_STORE_COPY,
)


def queue_downloads(call: registry.Call, registered: templates.Registered) -> None:
    """One download job per new copy, in the registration's transaction."""
    template = registered.template
    for ref, zone_id in registered.copies:
        zone = call.session.get_one(infrastructure.DataCenter, zone_id)
        instance = jobs.Instance(_STORE_COPY, ref.id, template.uuid)
        jobs.start(call.session, call, DOWNLOAD, [("zoneid", zone.uuid)], instance)


# --- deleteTemplate / deleteIso --------------------------------------------------------------


def _visible(call: registry.Call, iso: bool, parameter: str = "id") -> models.VmTemplate:
    found = template_search.visible_template(
        call.session, call.who, call.get(parameter), iso=iso, parameter=parameter
    )
    call.acted_on = ("Iso" if iso else "Template", found.id, found.name)
    return found


def _zone_id(call: registry.Call, name: str) -> int | None:
    uuid = call.get(name)
    return zones.by_uuid(call.session, uuid, name).id if uuid else None


def _ask_delete(iso: bool) -> Callable[[registry.Call], jobs.Instance]:
    def prepare(call: registry.Call) -> jobs.Instance:
        template = _visible(call, iso)
        _zone_id(call, "zoneid")
        template_delete.check_in_use(call.session, template, forced=bool(call.get("forced")))
        also = tuple(template_delete.copy_keys(call.session, template))
        return jobs.Instance(_TEMPLATE, template.id, template.uuid, also)

    return prepare


def _delete(call: registry.Call) -> responses.Reply:
    job = _job(call)
    template = call.session.get_one(models.VmTemplate, call.instance_id)
    iso = template.format == "ISO"
    call.acted_on = ("Iso" if iso else "Template", template.id, template.name)
    if template.removed is None:
        template_delete.delete(
            call.session,
            call.services.need_agents(),
            job,
            template,
            _zone_id(call, "zoneid"),
            forced=bool(call.get("forced")),
        )
    return responses.Success()


_DELETE = (
    P("id", T.UUID, "the ID of the template", required=True),
    P("zoneid", T.UUID, "the ID of zone of the template", related=("listZones",)),
    P("forced", T.BOOLEAN, "Force delete a template even while volumes use it"),
)


def _deleter(iso: bool) -> registry.Command:
    word, event = ("Iso", "ISO") if iso else ("Template", "TEMPLATE")
    return registry.Command(
        f"delete{word}",
        _delete,
        f"Deletes a {word.lower()} from the system.",
        _DELETE,
        is_async=True,
        instance_type=_TEMPLATE,
        event=f"{event}.DELETE",
        prepare=_ask_delete(iso),
    )


# --- copyTemplate / copyIso ------------------------------------------------------------------


def _dest_zones(call: registry.Call) -> list[int]:
    given = [call.get("destzoneid")] if call.get("destzoneid") else []
    uuids = given + list(call.get("destzoneids") or [])
    if not uuids:
        raise errors.InvalidParameterValue("Please specify destzoneid or destzoneids")
    return list(dict.fromkeys(zones.by_uuid(call.session, uuid, "destzoneid").id for uuid in uuids))


def _ask_copy(iso: bool) -> Callable[[registry.Call], jobs.Instance]:
    def prepare(call: registry.Call) -> jobs.Instance:
        template = _visible(call, iso)
        planned = template_copy.plan(
            call.session, template, _zone_id(call, "sourcezoneid"), _dest_zones(call)
        )
        keys = [(_STORE_COPY, planned.source.id), *((_STORE_COPY, r.id) for r in planned.copies)]
        return jobs.Instance(_TEMPLATE, template.id, template.uuid, tuple(keys))

    return prepare


def _copy(call: registry.Call) -> responses.Reply:
    job = _job(call)
    template = call.session.get_one(models.VmTemplate, call.instance_id)
    iso = template.format == "ISO"
    call.acted_on = ("Iso" if iso else "Template", template.id, template.name)
    destinations = _dest_zones(call)
    template_copy.copy(
        call.session,
        call.services.need_sessions(),
        call.services.need_agents(),
        job,
        template,
        _zone_id(call, "sourcezoneid"),
        destinations,
    )
    found = call.session.get_one(models.VmTemplate, template.id)
    [item] = views.items_of(call.session, [(found.id, destinations[0])])
    return responses.Single("iso" if iso else "template", item)


def _copier(iso: bool) -> registry.Command:
    word, event = ("Iso", "ISO") if iso else ("Template", "TEMPLATE")
    return registry.Command(
        f"copy{word}",
        _copy,
        f"Copies a {word.lower()} from one zone to another.",
        (
            P("id", T.UUID, f"the ID of the {word.lower()}", required=True),
            P("destzoneid", T.UUID, "the ID of the zone the template is being copied to"),
            P("destzoneids", T.LIST, "the IDs of the zones the template is being copied to"),
            P("sourcezoneid", T.UUID, "the ID of the zone the template is currently hosted on"),
        ),
        views.ISO if iso else views.TEMPLATE,
        is_async=True,
        instance_type=_TEMPLATE,
        event=f"{event}.COPY",
        prepare=_ask_copy(iso),
        on_lost=queue.OnLost.RECOVER,
    )


# --- prepareTemplate -------------------------------------------------------------------------


def _to_pool(call: registry.Call) -> responses.Reply:
    job = _job(call)
    ref = call.session.get_one(models.TemplateSpoolRef, call.instance_id)
    template_id, pool_id = ref.template_id, ref.pool_id
    job.checkpoint()  # ensure works in short transactions of its own
    template_pool.ensure(
        call.services.need_sessions(), call.services.need_agents(), job, template_id, pool_id
    )
    return responses.Success()


TO_POOL = registry.Command(
    "copyTemplateToPool",
    _to_pool,
    "Internal: copies a template to one primary storage pool (prepareTemplate).",
    (),
    is_async=True,
    authorized=registry.NOBODY,
    instance_type=_POOL_COPY,
    on_lost=queue.OnLost.RECOVER,
)


def _pools(call: registry.Call, zone_id: int) -> list[storage_models.StoragePool]:
    if call.get("storageid"):
        pool = pools.by_uuid(call.session, call.get("storageid"), "storageid")
        if pool.data_center_id != zone_id:
            raise errors.InvalidParameterValue(
                f"Storage pool {pool.uuid} is not in zone {call.get('zoneid')}"
            )
        return [pool]
    model = storage_models.StoragePool
    return list(
        call.session.scalars(
            sa.select(model)
            .where(
                model.data_center_id == zone_id,
                model.removed.is_(None),
                model.status == machines.StoragePoolStatus.Up.value,
            )
            .order_by(model.id)
        )
    )


def _spool_row(
    call: registry.Call, template_id: int, pool_id: int
) -> models.TemplateSpoolRef | None:
    """The (template, pool) copy row, inserted if missing; None when a concurrent request
    inserted it first (its work makes the copy; nothing is read after the failed insert)."""
    ref = models.TemplateSpoolRef
    found = call.session.scalars(
        sa.select(ref).where(ref.template_id == template_id, ref.pool_id == pool_id)
    ).first()
    if found is not None:
        return found
    made = ref(
        template_id=template_id,
        pool_id=pool_id,
        state="Allocated",
        download_state="NOT_DOWNLOADED",
        created=base.utcnow(),
    )
    try:
        with call.session.begin_nested():
            call.session.add(made)
    except sa.exc.IntegrityError:
        return None
    return made


def _prepare(call: registry.Call) -> responses.Reply:
    template = _visible(call, iso=False, parameter="templateid")
    zone = zones.by_uuid(call.session, call.get("zoneid"), "zoneid")
    template_copy.source_of(call.session, template, zone.id)
    for pool in _pools(call, zone.id):
        ref = _spool_row(call, template.id, pool.id)
        if ref is None or ref.state != "Allocated":
            continue  # Ready, or another request's job is copying it
        instance = jobs.Instance(_POOL_COPY, ref.id, template.uuid)
        jobs.start(call.session, call, TO_POOL, [("storageid", pool.uuid or "")], instance)
    items = views.items_of(call.session, [(template.id, zone.id)])
    return responses.Listing("template", items, len(items))


PREPARE = registry.Command(
    "prepareTemplate",
    _prepare,
    "Load template into primary storage.",
    (
        P("templateid", T.UUID, "template ID of the template to be prepared", required=True),
        P("zoneid", T.UUID, "zone ID of the template to be prepared", required=True),
        P("storageid", T.UUID, "storage pool ID of the pool to prepare it on (default: all)"),
    ),
    views.TEMPLATE,
    authorized=registry.ADMINS,
    starts_jobs=True,
)


COMMANDS = (
    DOWNLOAD,
    _deleter(iso=False),
    _deleter(iso=True),
    _copier(iso=False),
    _copier(iso=True),
    TO_POOL,
    PREPARE,
)
