"""registerTemplate, registerIso, listTemplates, listIsos, updateTemplate, updateIso,
updateTemplatePermissions, listTemplatePermissions (the work that runs as jobs, deletes and
copies included, is in ``template_jobs``).

Registration answers the template at once (isready false, as CloudStack) and queues one
download job per copy in the same transaction (``starts_jobs``).

The URL's host is resolved in the ``before`` step, with no transaction open (DNS may be slow);
the handler judges the addresses against ``secstorage.allowed.internal.sites``.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from cirrostack import errors
from cirrostack.accounts import accounts as account_service
from cirrostack.accounts import reach
from cirrostack.api import paging, registry, responses
from cirrostack.api.commands import template_jobs
from cirrostack.api.commands.common import LISTALL, P, T, domain_arg
from cirrostack.api.views import templates as views
from cirrostack.compute import guest_os
from cirrostack.db import query
from cirrostack.db.models import accounts as account_models
from cirrostack.db.models import templates as models
from cirrostack.infrastructure import zones
from cirrostack.storage import template_paths, template_search, templates, url_policy


def resolve_url(before: registry.Before) -> list[str]:
    """The addresses the URL's host resolves to (empty when it does not parse or resolve)."""
    try:
        host = urllib.parse.urlsplit(str(before.args.get("url") or "")).hostname
    except ValueError:
        return []
    return url_policy.resolve(host) if host else []


def _register(iso: bool) -> Callable[[registry.Call], responses.Reply]:
    def register(call: registry.Call) -> responses.Reply:
        owner = _owner(call)
        new = templates.NewTemplate(
            name=call.get("name"),
            display_text=call.get("displaytext"),
            url=call.get("url"),
            image_format=template_paths.parse_format(call.get("format") or "", iso=iso),
            guest_os_id=guest_os.by_uuid(call.session, call.get("ostypeid")).id,
            zone_ids=_zones(call),
            cross_zones=call.get("zoneid") == templates.ALL_ZONES,
            hypervisor=call.get("hypervisor"),
            checksum=templates.parse_checksum(call.get("checksum")),
            public=bool(call.get("ispublic", False)),
            featured=bool(call.get("isfeatured", False)),
            extractable=bool(call.get("isextractable", False)),
            password_enabled=bool(call.get("passwordenabled", False)),
            sshkey_enabled=bool(call.get("sshkeyenabled", False)),
            bootable=bool(call.get("bootable", True)),
            template_tag=call.get("templatetag"),
        )
        registered = templates.register(call.session, call.who, owner, new, call.prepared or [])
        template_jobs.queue_downloads(call, registered)
        template = registered.template
        call.acted_on = ("Iso" if iso else "Template", template.id, template.name)
        key = "iso" if iso else "template"
        items = views.item(call.session, template)
        return responses.Listing(key, items, len(items))

    return register


def _owner(call: registry.Call) -> account_models.Account:
    """The caller's account, or the ``account`` in ``domainid`` an admin names."""
    name = call.get("account")
    if name is None:
        return call.session.get_one(account_models.Account, call.who.account_id)
    domain = domain_arg(call)
    if domain is None:
        raise errors.InvalidParameterValue("Please specify domainid with account")
    found = reach.account_by_name(call.session, call.who, name, domain)
    if found is None:
        raise account_service.unknown(name, "account")
    return found


def _zones(call: registry.Call) -> tuple[int, ...]:
    given = call.get("zoneid")
    many = call.get("zoneids") or []
    if given == templates.ALL_ZONES:
        if not call.who.is_root_admin:
            raise errors.PermissionDenied("Only root admins can register a template for all zones")
        found, _total = zones.search(call.session, call.who, zones.ZoneFilter(), query.Page())
        return tuple(zone.id for zone in found)
    uuids = [given] if given else list(many)
    if not uuids:
        raise errors.InvalidParameterValue("Please specify zoneid or zoneids")
    return tuple(zones.by_uuid(call.session, uuid, "zoneid").id for uuid in uuids)


def _lister(iso: bool) -> Callable[[registry.Call], responses.Reply]:
    def list_templates(call: registry.Call) -> responses.Reply:
        name = "isofilter" if iso else "templatefilter"
        text = str(call.get(name) or ("featured" if iso else ""))
        try:
            kind = templates.Filter(text)
        except ValueError as exc:
            raise errors.InvalidParameterValue(f"Invalid {name} {text}") from exc
        zone = (
            zones.by_uuid(call.session, call.get("zoneid"), "zoneid")
            if call.get("zoneid")
            else None
        )
        wanted = templates.TemplateFilter(
            kind=kind,
            iso=iso,
            id=_id_of(call, call.get("id"), iso),
            ids=tuple(_id_of(call, uuid, iso) or 0 for uuid in call.get("ids") or []),
            name=call.get("name"),
            keyword=call.get("keyword"),
            zone_id=zone.id if zone else None,
            hypervisor=call.get("hypervisor"),
        )
        rows, total = template_search.search(call.session, call.who, wanted, paging.page(call))
        return responses.Listing(
            "iso" if iso else "template", views.items_of(call.session, rows), total
        )

    return list_templates


def _id_of(call: registry.Call, uuid: str | None, iso: bool) -> int | None:
    """The internal id of a listed uuid; an unknown one matches nothing (-1)."""
    if uuid is None:
        return None
    found = call.session.scalar(
        sa.select(models.VmTemplate.id).where(models.VmTemplate.uuid == uuid)
    )
    return int(found) if found is not None else -1


def _updater(iso: bool) -> Callable[[registry.Call], responses.Reply]:
    def update(call: registry.Call) -> responses.Reply:
        template = _mine(call, iso)
        ostype = call.get("ostypeid")
        changes = templates.TemplateChanges(
            name=call.get("name"),
            display_text=call.get("displaytext"),
            guest_os_id=guest_os.by_uuid(call.session, ostype).id if ostype else None,
            password_enabled=call.get("passwordenabled"),
            sshkey_enabled=call.get("sshkeyenabled"),
            bootable=call.get("bootable"),
            sort_key=call.get("sortkey"),
            dynamically_scalable=call.get("isdynamicallyscalable"),
        )
        templates.update(call.session, template, changes)
        items = views.item(call.session, template)
        return responses.Single("iso" if iso else "template", items[0])

    return update


def _mine(call: registry.Call, iso: bool) -> models.VmTemplate:
    template = template_search.visible_template(call.session, call.who, call.get("id"), iso=iso)
    call.acted_on = ("Iso" if iso else "Template", template.id, template.name)
    return template


def update_permissions(call: registry.Call) -> responses.Reply:
    template = _any(call)
    domain_id = call.session.get_one(account_models.Account, template.account_id).domain_id
    domain = call.session.get_one(account_models.Domain, domain_id)
    account_ids = []
    for name in call.get("accounts") or []:
        found = account_service.by_name(call.session, name, domain)
        if found is None:
            raise errors.InvalidParameterValue(
                f"Unable to find account {name} in domain {domain.name}"
            )
        account_ids.append(found.id)
    operation = call.get("op")
    try:
        op = templates.Operation(operation) if operation else None
    except ValueError as exc:
        raise errors.InvalidParameterValue(
            f"Invalid op {operation}: use add, remove or reset"
        ) from exc
    templates.set_permissions(
        call.session,
        call.who,
        template,
        public=call.get("ispublic"),
        featured=call.get("isfeatured"),
        extractable=call.get("isextractable"),
        operation=op,
        account_ids=account_ids,
    )
    return responses.Success()


def list_permissions(call: registry.Call) -> responses.Reply:
    template = _any(call)
    owner = call.session.get_one(account_models.Account, template.account_id)
    domain = call.session.get_one(account_models.Domain, owner.domain_id)
    item: dict[str, Any] = {
        "id": template.uuid,
        "ispublic": template.public,
        "domainid": domain.uuid,
        "account": [a.account_name for a in templates.permitted_accounts(call.session, template)],
    }
    return responses.Single("templatepermission", item)


def _any(call: registry.Call) -> models.VmTemplate:
    """A template or ISO the caller manages, for the permission commands (both kinds)."""
    uuid = call.get("id")
    for iso in (False, True):
        try:
            return _mine(call, iso)
        except errors.InvalidParameterValue:
            continue
    raise errors.InvalidParameterValue(f"Unable to find template by id {uuid}")


_REGISTER = (
    P("name", T.STRING, "the name of the template", required=True),
    P("displaytext", T.STRING, "the display text of the template"),
    P("url", T.STRING, "the URL of where the template is hosted (http or https)", required=True),
    P("zoneid", T.STRING, "the ID of the zone the template is to be hosted on (-1: all)"),
    P("zoneids", T.LIST, "a list of zone ids where the template will be hosted"),
    P("ostypeid", T.UUID, "the ID of the OS Type that best represents the OS", required=True),
    P("checksum", T.STRING, "the checksum: {ALGORITHM}hex, or a bare MD5"),
    P("ispublic", T.BOOLEAN, "true if the template is available to all accounts"),
    P("isfeatured", T.BOOLEAN, "true if this template is a featured template (admins)"),
    P("isextractable", T.BOOLEAN, "true if the template or its derivatives are extractable"),
    P("passwordenabled", T.BOOLEAN, "true if the template supports the password reset feature"),
    P("sshkeyenabled", T.BOOLEAN, "true if the template supports the sshkey upload feature"),
    P("templatetag", T.STRING, "the tag for this template"),
    P("account", T.STRING, "an optional accountName; must be used with domainId"),
    P("domainid", T.UUID, "an optional domainId", related=("listDomains",)),
    P("details", T.MAP, "Template details in key/value pairs (ignored)"),
    P("isdynamicallyscalable", T.BOOLEAN, "true if template contains XS/VMWare tools (ignored)"),
    P("requireshvm", T.BOOLEAN, "true if this template requires HVM (ignored)"),
    P("bits", T.INTEGER, "32 or 64 bits support, 64 by default (ignored)"),
    P("directdownload", T.BOOLEAN, "KVM only: download directly to primary storage (ignored)"),
)
_LIST = (
    P("id", T.UUID, "the template ID"),
    P("ids", T.LIST, "the IDs of the templates"),
    P("name", T.STRING, "the template name"),
    P("zoneid", T.UUID, "list templates by zoneId", related=("listZones",)),
    P("hypervisor", T.STRING, "the hypervisor for which to restrict the search"),
    P("account", T.STRING, "list resources by account (ignored)"),
    P("domainid", T.UUID, "list only resources belonging to the domain specified (ignored)"),
    P("showremoved", T.BOOLEAN, "show removed templates as well (ignored)"),
    P("tags", T.MAP, "List resources by tags (ignored)"),
    LISTALL,
    *paging.PARAMS,
)
_UPDATE = (
    P("id", T.UUID, "the ID of the image file", required=True),
    P("name", T.STRING, "the name of the image file"),
    P("displaytext", T.STRING, "the display text of the image"),
    P("ostypeid", T.UUID, "the ID of the OS type that best represents the OS of this image."),
    P("passwordenabled", T.BOOLEAN, "true if the image supports the password reset feature"),
    P("sshkeyenabled", T.BOOLEAN, "true if the template supports the sshkey upload feature"),
    P("bootable", T.BOOLEAN, "true if image is bootable, false otherwise"),
    P("sortkey", T.INTEGER, "sort key of the template, integer"),
    P("isdynamicallyscalable", T.BOOLEAN, "true if template/ISO contains XS/VMWare tools"),
    P("format", T.STRING, "the format for the image (ignored)"),
    P(
        "isrouting",
        T.BOOLEAN,
        "true if the template type is routing i.e., if template is used to deploy router (ignored)",
    ),
)
_PERMISSIONS = (
    P("id", T.UUID, "the template ID", required=True),
    P("ispublic", T.BOOLEAN, "true for a public template/iso"),
    P("isfeatured", T.BOOLEAN, "true for featured template/iso"),
    P("isextractable", T.BOOLEAN, "true if the template/iso is extractable"),
    P("accounts", T.LIST, "a comma delimited list of accounts within caller's domain"),
    P("op", T.STRING, "permission operator (add, remove, reset)"),
    P("projectids", T.LIST, "a comma delimited list of projects (ignored: no projects)"),
)

PERMISSION = registry.ObjectSpec(
    "templatepermission",
    (
        registry.Field("id", "string", "the template ID"),
        registry.Field("ispublic", "boolean", "true if this template is a public template"),
        registry.Field("domainid", "string", "the ID of the domain to which the template belongs"),
        registry.Field("account", "list", "the list of accounts the template is available for"),
    ),
)


def _family(iso: bool) -> tuple[registry.Command, ...]:
    word, spec = ("Iso", views.ISO) if iso else ("Template", views.TEMPLATE)
    event = "ISO" if iso else "TEMPLATE"
    register_params = (
        _REGISTER
        if iso
        else (
            *_REGISTER,
            P("format", T.STRING, "the format for the template: QCOW2, RAW", required=True),
            P("hypervisor", T.STRING, "the target hypervisor for the template", required=True),
        )
    )
    filter_param = (
        P(
            "isofilter",
            T.STRING,
            "featured, self, selfexecutable, sharedexecutable, executable, community, all",
        )
        if iso
        else P(
            "templatefilter",
            T.STRING,
            "featured, self, selfexecutable, sharedexecutable, executable, community, all",
            required=True,
        )
    )
    return (
        registry.Command(
            f"register{word}",
            _register(iso),
            f"Registers an existing {word.lower()} into the CloudStack cloud.",
            (*register_params, P("bootable", T.BOOLEAN, "true if this ISO is bootable"))
            if iso
            else register_params,
            spec,
            event=f"{event}.CREATE",
            before=resolve_url,
            starts_jobs=True,
        ),
        registry.Command(
            f"list{word}s",
            _lister(iso),
            f"List all public, private, and privileged {word.lower()}s.",
            (filter_param, *_LIST),
            spec,
        ),
        registry.Command(
            f"update{word}",
            _updater(iso),
            f"Updates attributes of a {word.lower()}.",
            _UPDATE,
            spec,
            event=f"{event}.UPDATE",
        ),
    )


COMMANDS = (
    *_family(iso=False),
    *_family(iso=True),
    registry.Command(
        "updateTemplatePermissions",
        update_permissions,
        "Updates a template visibility permissions.",
        _PERMISSIONS,
        event="TEMPLATE.UPDATE",
    ),
    registry.Command(
        "updateIsoPermissions",
        update_permissions,
        "Updates ISO permissions",
        _PERMISSIONS,
        event="ISO.UPDATE",
    ),
    registry.Command(
        "listTemplatePermissions",
        list_permissions,
        "List template visibility and all accounts that have permissions to view this template.",
        (P("id", T.UUID, "the template ID", required=True), *paging.PARAMS),
        PERMISSION,
    ),
    registry.Command(
        "listIsoPermissions",
        list_permissions,
        "List ISO visibility and all accounts that have permissions to view this ISO.",
        (P("id", T.UUID, "the template ID", required=True), *paging.PARAMS),
        PERMISSION,
    ),
)
