"""listConfigurations, updateConfiguration, resetConfiguration (root admins only).

At most one scope id may be given (zoneid, clusterid, storageid, imagestoreuuid, accountid,
domainid), as in CloudStack; with one, only keys of that scope are listed and the value shown is
the one in force there (the object's override, else the global value, else the default).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from cirrostack import errors
from cirrostack.api import paging, registry, responses
from cirrostack.api.commands.common import P, T
from cirrostack.api.views import configuration as view
from cirrostack.config import definitions, service, store
from cirrostack.db.models import accounts, infrastructure, storage
from cirrostack.infrastructure import capacity

Scope = definitions.Scope


@dataclass(frozen=True)
class _ScopeParam:
    param: str
    scope: Scope
    model: type[Any]
    label: str
    resource_type: str
    related: str


_SCOPE_PARAMS = (
    _ScopeParam("zoneid", Scope.ZONE, infrastructure.DataCenter, "zone", "Zone", "listZones"),
    _ScopeParam(
        "clusterid", Scope.CLUSTER, infrastructure.Cluster, "cluster", "Cluster", "listClusters"
    ),
    _ScopeParam(
        "storageid",
        Scope.STORAGE_POOL,
        storage.StoragePool,
        "storage pool",
        "StoragePool",
        "listStoragePools",
    ),
    _ScopeParam(
        "imagestoreuuid",
        Scope.IMAGE_STORE,
        storage.ImageStore,
        "image store",
        "ImageStore",
        "listImageStores",
    ),
    _ScopeParam("accountid", Scope.ACCOUNT, accounts.Account, "account", "Account", "listAccounts"),
    _ScopeParam("domainid", Scope.DOMAIN, accounts.Domain, "domain", "Domain", "listDomains"),
)


@dataclass(frozen=True)
class _Target:
    """The object a scope id names."""

    spec: _ScopeParam
    place: store.Place
    uuid: str


#: resetConfiguration names the image store ``imagestoreid`` (the others ``imagestoreuuid``).
_RESET_SCOPE_PARAMS = tuple(
    dataclasses.replace(spec, param="imagestoreid") if spec.scope is Scope.IMAGE_STORE else spec
    for spec in _SCOPE_PARAMS
)


def _target(call: registry.Call, specs: tuple[_ScopeParam, ...] = _SCOPE_PARAMS) -> _Target | None:
    """The one scope object the request names, or None for the global value."""
    given = [spec for spec in specs if call.get(spec.param) is not None]
    if len(given) > 1:
        raise errors.InvalidParameterValue(
            "cannot handle multiple IDs, provide only one ID corresponding to the scope"
        )
    if not given:
        return None
    spec = given[0]
    uuid = call.get(spec.param)
    ident = call.session.scalar(
        sa.select(spec.model.id).where(spec.model.uuid == uuid, spec.model.removed.is_(None))
    )
    if ident is None:
        raise errors.InvalidParameterValue(f"Unable to find {spec.label} by {spec.param} {uuid}")
    return _Target(spec, store.Place(spec.scope, ident), uuid)


def _item(entry: service.Entry, target: _Target | None) -> dict[str, Any]:
    if target is None:
        return view.configuration_item(entry, Scope.GLOBAL, None)
    return view.configuration_item(entry, target.spec.scope, target.uuid)


def _acted_on(call: registry.Call, target: _Target | None) -> None:
    # The event names the object of a scoped change; a global one has no resource row to name.
    if target is not None:
        label = f"{call.get('name')} for {target.spec.label} {target.uuid}"
        call.acted_on = (target.spec.resource_type, target.place.id, label)


#: Settings folded into the hosts' capacity totals (``infrastructure.capacity``).
_RATIO_KEYS = frozenset({"cpu.overprovisioning.factor", "mem.overprovisioning.factor"})


def _refresh_capacity(call: registry.Call, entry: service.Entry, place: store.Place | None) -> None:
    """A new over-commit ratio acts at once: the totals the claims compare with follow it."""
    if entry.key is None or entry.key.name not in _RATIO_KEYS:
        return
    scoped = place is not None and place.scope is definitions.Scope.CLUSTER
    capacity.refresh_totals(call.session, place.id if scoped and place is not None else None)


def list_configurations(call: registry.Call) -> responses.Reply:
    target = _target(call)
    wanted = service.Filter(
        name=call.get("name"),
        category=call.get("category"),
        keyword=call.get("keyword"),
    )
    place = None if target is None else target.place
    entries, total = service.search(call.session, wanted, place, paging.page(call))
    return responses.Listing("configuration", [_item(entry, target) for entry in entries], total)


def update_configuration(call: registry.Call) -> responses.Reply:
    target = _target(call)
    place = None if target is None else target.place
    entry = service.update(call.session, call.get("name"), call.get("value"), place, call.now)
    _refresh_capacity(call, entry, place)
    _acted_on(call, target)
    return responses.Single("configuration", _item(entry, target))


def reset_configuration(call: registry.Call) -> responses.Reply:
    target = _target(call, _RESET_SCOPE_PARAMS)
    place = None if target is None else target.place
    entry = service.reset(call.session, call.get("name"), place, call.now)
    _refresh_capacity(call, entry, place)
    _acted_on(call, target)
    return responses.Single("configuration", _item(entry, target))


def _scope_args(specs: tuple[_ScopeParam, ...]) -> tuple[P, ...]:
    return tuple(
        P(
            spec.param,
            T.UUID,
            f"the ID of the {spec.label} for the value at that scope",
            related=(spec.related,),
        )
        for spec in specs
    )


_SCOPE_ARGS = _scope_args(_SCOPE_PARAMS)
_NAME = P("name", T.STRING, "the name of the configuration", required=True)
_EVENT = "CONFIGURATION.VALUE.EDIT"

COMMANDS = (
    registry.Command(
        "listConfigurations",
        list_configurations,
        "Lists all configurations.",
        (
            P("name", T.STRING, "lists configuration by name"),
            P("category", T.STRING, "lists configurations by category"),
            *_SCOPE_ARGS,
            *paging.PARAMS,
        ),
        view.CONFIGURATION,
        authorized=registry.ADMINS,
    ),
    registry.Command(
        "updateConfiguration",
        update_configuration,
        "Updates a configuration.",
        (_NAME, P("value", T.STRING, "the value of the configuration", length=4095), *_SCOPE_ARGS),
        view.CONFIGURATION,
        authorized=registry.ADMINS,
        event=_EVENT,
    ),
    registry.Command(
        "resetConfiguration",
        reset_configuration,
        "Resets a configuration. The configuration will be set to default value for global "
        "setting, and removed from account_details or domain_details for Account/Domain "
        "settings",
        (_NAME, *_scope_args(_RESET_SCOPE_PARAMS)),
        view.CONFIGURATION,
        authorized=registry.ADMINS,
        since="4.16.0",
        event=_EVENT,
    ),
)
