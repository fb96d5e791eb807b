"""Related rows for a page of list items, each kind in one query (no query per item).

Called by the serializers of ``api.views`` before they build a page's items: a list answer
then costs the same number of statements whatever its page size.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack.db import base

M = TypeVar("M", bound=base.IdMixin)


def by_id(session: Session, model: type[M], ids: Iterable[int | None]) -> dict[int, M]:
    """The rows of ``model`` with ``ids`` (None ignored), by id, in at most one query."""
    wanted = sorted({ident for ident in ids if ident is not None})
    if not wanted:
        return {}
    return {row.id: row for row in session.scalars(sa.select(model).where(model.id.in_(wanted)))}
