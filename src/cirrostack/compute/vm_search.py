"""listVirtualMachines' query: one page of the VMs a caller may list, and the total.

Two statements at most (the page and, for a full page, the count), whatever the page size.
Expunged VMs (removed) are never listed; Destroyed ones are, to admins (CloudStack's
``allow.user.view.destroyed.vm`` is off by default).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack.accounts import access, scope
from cirrostack.db import query
from cirrostack.db.models import compute as models


@dataclass(frozen=True)
class VmFilter:
    """listVirtualMachines' filters (ids already resolved to internal ids)."""

    owners: scope.Wanted = field(default_factory=scope.Wanted)
    uuid: str | None = None
    uuids: tuple[str, ...] | None = None
    name: str | None = None
    state: str | None = None
    zone_id: int | None = None
    host_id: int | None = None
    template_id: int | None = None
    keyword: str | None = None


def search(
    session: Session, caller: access.Caller, wanted: VmFilter, page: query.Page
) -> tuple[Sequence[models.VmInstance], int]:
    vm = models.VmInstance
    statement = sa.select(vm).where(
        vm.removed.is_(None),
        vm.type == "User",
        scope.condition(session, caller, wanted.owners, vm.account_id),
        *query.equal_to_given(
            (vm.uuid, wanted.uuid),
            (vm.data_center_id, wanted.zone_id),
            (vm.host_id, wanted.host_id),
            (vm.vm_template_id, wanted.template_id),
        ),
        *query.named_as_given((vm.name, wanted.name)),
    )
    if wanted.uuids is not None:
        statement = statement.where(vm.uuid.in_(wanted.uuids))
    if wanted.state is not None:
        statement = statement.where(query.same_name(vm.state, wanted.state))
    elif not (caller.is_root_admin or caller.is_domain_admin):
        statement = statement.where(vm.state != "Destroyed")
    if wanted.keyword:
        statement = statement.where(query.matches_keyword(vm.name, wanted.keyword))
    return query.paged(session, statement.order_by(vm.id), page)
