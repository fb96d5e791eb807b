"""The ``template`` and ``iso`` response objects: spec + serializer.

One item per (template, zone), as CloudStack lists them; ``isready`` and ``status`` come from
the template's copy in that zone. A page reads the copies, owners, domains, guest OSes and
zones in one query each, whatever its size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from cirrostack.api import responses
from cirrostack.api.registry import Field, ObjectSpec
from cirrostack.api.views import batch
from cirrostack.db.models import accounts, guest_os, infrastructure
from cirrostack.db.models import templates as models
from cirrostack.storage import template_search, templates
from cirrostack.tagging import tags

_S, _B, _L, _D = "string", "boolean", "long", "date"

_FIELDS = (
    Field("id", _S, "the template ID"),
    Field("name", _S, "the template name"),
    Field("displaytext", _S, "the template display text"),
    Field("ispublic", _B, "true if this template is a public template, false otherwise"),
    Field("isfeatured", _B, "true if this template is a featured template, false otherwise"),
    Field("isextractable", _B, "true if the template is extractable, false otherwise"),
    Field("crossZones", _B, "true if the template is managed across all Zones"),
    Field("isready", _B, "true if the template is ready to be deployed from"),
    Field("status", _S, "the status of the template"),
    Field("passwordenabled", _B, "true if the reset password feature is enabled"),
    Field("sshkeyenabled", _B, "true if template is sshkey enabled"),
    Field("bootable", _B, "true if the ISO is bootable, false otherwise"),
    Field("format", _S, "the format of the template."),
    Field("templatetype", _S, "the type of the template"),
    Field("hypervisor", _S, "the hypervisor on which the template runs"),
    Field("ostypeid", _S, "the ID of the OS type for this template."),
    Field("ostypename", _S, "the name of the OS type for this template."),
    Field("account", _S, "the account name to which the template belongs"),
    Field("accountid", _S, "the account id to which the template belongs"),
    Field("domain", _S, "the name of the domain to which the template belongs"),
    Field("domainid", _S, "the ID of the domain to which the template belongs"),
    Field("zoneid", _S, "the ID of the zone for this template"),
    Field("zonename", _S, "the name of the zone for this template"),
    Field("size", _L, "the size of the template"),
    Field("physicalsize", _L, "the physical size of the template"),
    Field("checksum", _S, "checksum of the template"),
    Field("templatetag", _S, "the tag of this template"),
    Field("sortkey", "integer", "the sort key of the template"),
    Field("isdynamicallyscalable", _B, "true if template contains XS/VMWare tools"),
    Field("directdownload", _B, "KVM Only: true if template is directly downloaded"),
    Field("deployasis", _B, "VMware only: true if template is deployed as is"),
    Field("url", _S, "the URL the template was registered from (owners and admins)"),
    Field("created", _D, "the date this template was created"),
    Field("removed", _D, "the date this template was removed"),
    Field("tags", "set", "the list of resource tags associated"),
)
TEMPLATE = ObjectSpec("template", _FIELDS)
ISO = ObjectSpec("iso", _FIELDS)


@dataclass(frozen=True)
class _Related:
    templates: dict[int, models.VmTemplate]
    copies: dict[tuple[int, int | None], list[models.TemplateStoreRef]]
    owners: dict[int, accounts.Account]
    domains: dict[int, accounts.Domain]
    os_types: dict[int, guest_os.GuestOs]
    zones: dict[int, infrastructure.DataCenter]
    tags: dict[int, list[dict[str, Any]]]


def items_of(session: Session, rows: Sequence[template_search.Row]) -> list[dict[str, Any]]:
    """The listed (template id, zone id) pairs as answers show them."""
    related = _related(session, rows)
    return [_item(related, template_id, zone_id) for template_id, zone_id in rows]


def item(session: Session, template: models.VmTemplate) -> list[dict[str, Any]]:
    """A template as registerTemplate and updateTemplate answer: one item per zone."""
    zones = sorted(
        {zone for _ref, zone in template_search.refs_of(session, [template.id])},
        key=lambda zone: -1 if zone is None else zone,
    )
    return items_of(session, [(template.id, zone) for zone in zones] or [(template.id, None)])


def _related(session: Session, rows: Sequence[template_search.Row]) -> _Related:
    found = batch.by_id(session, models.VmTemplate, [template for template, _ in rows])
    copies: dict[tuple[int, int | None], list[models.TemplateStoreRef]] = {}
    for ref, zone in template_search.refs_of(session, list(found)):
        copies.setdefault((ref.template_id, zone), []).append(ref)
    owners = batch.by_id(session, accounts.Account, [t.account_id for t in found.values()])
    return _Related(
        templates=found,
        copies=copies,
        owners=owners,
        domains=batch.by_id(session, accounts.Domain, [a.domain_id for a in owners.values()]),
        os_types=batch.by_id(session, guest_os.GuestOs, [t.guest_os_id for t in found.values()]),
        zones=batch.by_id(session, infrastructure.DataCenter, [zone for _, zone in rows]),
        tags=_tags(session, list(found.values())),
    )


def _tags(session: Session, found: list[models.VmTemplate]) -> dict[int, list[dict[str, Any]]]:
    """The tags of a page's templates and ISOs (two resource types), in one query."""
    wanted = {
        "Template": [t.id for t in found if t.format != "ISO"],
        "ISO": [t.id for t in found if t.format == "ISO"],
    }
    return {ident: shown for (_kind, ident), shown in tags.tags_by_type(session, wanted).items()}


def _item(related: _Related, template_id: int, zone_id: int | None) -> dict[str, Any]:
    template = related.templates[template_id]
    copy = _best(related.copies.get((template_id, zone_id), []))
    owner = related.owners.get(template.account_id)
    domain = related.domains.get(owner.domain_id) if owner else None
    os_type = related.os_types.get(template.guest_os_id)
    zone = related.zones.get(zone_id or 0)
    shown = {
        "id": template.uuid,
        "name": template.name,
        "displaytext": template.display_text,
        "ispublic": template.public,
        "isfeatured": template.featured,
        "isextractable": template.extractable,
        "crossZones": template.cross_zones,
        "isready": copy is not None and copy.state == "Ready",
        "status": status(copy),
        "passwordenabled": template.enable_password,
        "sshkeyenabled": template.enable_sshkey,
        "bootable": template.bootable,
        "format": template.format,
        "templatetype": template.type,
        "hypervisor": template.hypervisor_type,
        "ostypeid": os_type.uuid if os_type else None,
        "ostypename": os_type.display_name if os_type else None,
        "account": owner.account_name if owner else None,
        "accountid": owner.uuid if owner else None,
        "domain": domain.name if domain else None,
        "domainid": domain.uuid if domain else None,
        "zoneid": zone.uuid if zone else None,
        "zonename": zone.name if zone else None,
        "size": copy.size if copy and copy.size else template.size,
        "physicalsize": copy.physical_size if copy and copy.physical_size else None,
        "checksum": template.checksum,
        "templatetag": template.template_tag,
        "sortkey": template.sort_key,
        "isdynamicallyscalable": template.dynamically_scalable,
        "directdownload": template.direct_download,
        "deployasis": template.deploy_as_is,
        "created": responses.date(template.created),
        "removed": responses.date(template.removed),
        "tags": related.tags.get(template_id, []),
    }
    return {key: value for key, value in shown.items() if value is not None}


def _best(copies: Sequence[models.TemplateStoreRef]) -> models.TemplateStoreRef | None:
    """The copy a zone's item reports: a Ready one if any, else the newest."""
    ready = [copy for copy in copies if copy.state == "Ready"]
    chosen = ready or list(copies)
    return chosen[-1] if chosen else None


def status(copy: models.TemplateStoreRef | None) -> str:
    """CloudStack's ``status`` text for a copy's download."""
    if copy is None:
        return "Processing"
    state = copy.download_state
    if state == templates.DownloadState.DOWNLOADED.value:
        return "Download Complete"
    if state == templates.DownloadState.DOWNLOAD_IN_PROGRESS.value:
        pct = copy.download_pct or 0
        return "Installing Template" if pct == 100 else f"{pct}% Downloaded"
    if copy.error_str:
        return copy.error_str
    if state == templates.DownloadState.DOWNLOAD_ERROR.value:
        return "Download Failed"
    return (
        "Download in progress"
        if state == templates.DownloadState.NOT_DOWNLOADED.value
        else "Processing"
    )
