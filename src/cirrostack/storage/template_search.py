"""listTemplates and listIsos: which templates a caller sees, one row per (template, zone).

``templatefilter`` as CloudStack defines it: featured (featured templates), self (the caller's
own), selfexecutable (own and ready), sharedexecutable (shared with the caller through
``launch_permission``, ready), executable (own, public or shared, ready), community (public,
not featured), all (root admins: every template; domain admins: their domain's and public
ones). A template another account keeps private never matches, so it is answered exactly as a
missing one. A page costs a fixed number of statements whatever its size.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.accounts import access
from cirrostack.db import query
from cirrostack.db.models import accounts as account_models
from cirrostack.db.models import storage as storage_models
from cirrostack.db.models import templates as models
from cirrostack.storage import templates

Row = tuple[int, int | None]

_T, _R, _S = models.VmTemplate, models.TemplateStoreRef, storage_models.ImageStore


def search(
    session: Session, caller: access.Caller, wanted: templates.TemplateFilter, page: query.Page
) -> tuple[list[Row], int]:
    """One page of (template id, zone id) the caller may see, by template id then zone."""
    pairs = (
        sa.select(_T.id.label("template_id"), _S.data_center_id.label("zone_id"))
        .select_from(_T)
        .outerjoin(_R, sa.and_(_R.template_id == _T.id, _R.destroyed.is_(False)))
        .outerjoin(_S, _S.id == _R.store_id)
        .where(*_conditions(session, caller, wanted))
        .distinct()
    )
    inner = pairs.subquery()
    ordered = sa.select(inner.c.template_id, inner.c.zone_id).order_by(
        inner.c.template_id, inner.c.zone_id
    )
    sliced = ordered.offset(page.offset)
    if page.limit is not None:
        sliced = sliced.limit(page.limit)
    found = [(int(t), None if z is None else int(z)) for t, z in session.execute(sliced)]
    if page.offset == 0 and (page.limit is None or len(found) < page.limit):
        return found, len(found)
    total = session.scalar(sa.select(sa.func.count()).select_from(inner))
    return found, int(total or 0)


def _conditions(
    session: Session, caller: access.Caller, wanted: templates.TemplateFilter
) -> list[sa.ColumnElement[bool]]:
    iso = _T.format == "ISO"
    conditions = [
        _T.removed.is_(None),
        iso if wanted.iso else ~iso,
        _visible(session, caller, wanted.kind),
        *query.named_as_given((_T.name, wanted.name)),
        *query.equal_to_given((_T.id, wanted.id), (_S.data_center_id, wanted.zone_id)),
    ]
    if wanted.ids:
        conditions.append(_T.id.in_(wanted.ids))
    if wanted.keyword:
        conditions.append(query.keyword_in(wanted.keyword, _T.name, _T.display_text))
    if wanted.hypervisor:
        conditions.append(sa.func.lower(_T.hypervisor_type) == wanted.hypervisor.lower())
    return conditions


def _visible(
    session: Session, caller: access.Caller, kind: templates.Filter
) -> sa.ColumnElement[bool]:
    own = _T.account_id == caller.account_id
    shared = _T.id.in_(
        sa.select(models.LaunchPermission.template_id).where(
            models.LaunchPermission.account_id == caller.account_id
        )
    )
    ready = _R.state == "Ready"
    kinds = templates.Filter
    if kind is kinds.featured:
        return _T.featured.is_(True)
    if kind is kinds.self:
        return own
    if kind is kinds.selfexecutable:
        return sa.and_(own, ready)
    if kind is kinds.sharedexecutable:
        return sa.and_(shared, ready)
    if kind is kinds.executable:
        return sa.and_(sa.or_(own, _T.public.is_(True), shared), ready)
    if kind is kinds.community:
        return sa.and_(_T.public.is_(True), _T.featured.is_(False))
    if caller.is_root_admin:
        return sa.true()
    if caller.is_domain_admin:
        return sa.or_(_T.public.is_(True), _T.account_id.in_(_domain_accounts(caller)))
    raise errors.InvalidParameterValue(f"Filter {kind.value} can be specified by admin only")


def _domain_accounts(caller: access.Caller) -> sa.Select[Any]:
    account, domain = account_models.Account, account_models.Domain
    return (
        sa.select(account.id)
        .join(domain, domain.id == account.domain_id)
        .where(query.under_path(domain.path, caller.domain_path))
    )


def visible_template(
    session: Session, caller: access.Caller, uuid: str, *, iso: bool, parameter: str = "id"
) -> models.VmTemplate:
    """The live template ``uuid`` the caller may act on as owner or admin; a foreign private
    one is answered like a missing one (InvalidParameterValue)."""
    found = session.scalars(
        sa.select(_T).where(_T.uuid == uuid, _T.removed.is_(None), (_T.format == "ISO") == iso)
    ).first()
    if found is None or not _may_manage(session, caller, found):
        what = "iso" if iso else "template"
        raise errors.InvalidParameterValue(f"Unable to find {what} by {parameter} {uuid}")
    return found


def _may_manage(session: Session, caller: access.Caller, template: models.VmTemplate) -> bool:
    if caller.is_root_admin or template.account_id == caller.account_id:
        return True
    if not caller.is_domain_admin:
        return False
    owner = session.get(account_models.Account, template.account_id)
    domain = session.get(account_models.Domain, owner.domain_id) if owner else None
    return domain is not None and domain.path.startswith(caller.domain_path)


def refs_of(
    session: Session, template_ids: Sequence[int]
) -> list[tuple[models.TemplateStoreRef, int | None]]:
    """Every live copy of the templates with its store's zone (one statement)."""
    if not template_ids:
        return []
    rows = session.execute(
        sa.select(_R, _S.data_center_id)
        .join(_S, _S.id == _R.store_id)
        .where(_R.template_id.in_(set(template_ids)), _R.destroyed.is_(False))
        .order_by(_R.id)
    )
    return [(ref, zone) for ref, zone in rows.all()]
