"""Rows an account owns (key pairs, groups, security groups): found by id or listed within
the caller's reach, a foreign row answered exactly like a missing one (``accounts.reach``)."""

from __future__ import annotations

from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack.accounts import access
from cirrostack.db.models import accounts as account_models

M = TypeVar("M")


def reaches(session: Session, caller: access.Caller, account_id: int) -> bool:
    """Whether ``caller`` may know of what account ``account_id`` owns."""
    owner = session.get_one(account_models.Account, account_id)
    domain = session.get_one(account_models.Domain, owner.domain_id)
    return access.reaches_account(caller, owner, domain)


def by_uuid(
    session: Session, caller: access.Caller, model: type[M], uuid: str, *live: Any
) -> M | None:
    """The row of ``model`` with ``uuid`` (and the ``live`` conditions) if the caller reaches
    its account; None when missing or foreign, so the caller raises one error for both."""
    found = session.scalars(
        sa.select(model).where(model.uuid == uuid, *live)  # type: ignore[attr-defined]
    ).first()
    if found is None or not reaches(session, caller, found.account_id):  # type: ignore[attr-defined]
        return None
    return found
