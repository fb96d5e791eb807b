"""One ``configuration`` row per key of the catalogue, written at bootstrap.

Called by ``accounts.bootstrap.ensure_cloud`` on every start. Idempotent: a missing row is
inserted with the default as its value (as CloudStack's ConfigDepot does); an existing row gets
the declaration's current default, category, component, description and scopes, but keeps its
``value``; rows of names cirrostack does not declare are left alone.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack.config import catalogue, definitions, store
from cirrostack.db.models import configuration as models


def ensure(session: Session, registry: definitions.Registry = catalogue.REGISTRY) -> None:
    """Insert or refresh the row of every key in ``registry``; no commit."""
    existing = {
        row.name: row
        for row in session.scalars(
            sa.select(models.Configuration).where(
                models.Configuration.name.in_([key.name for key in registry])
            )
        )
    }
    for key in registry:
        row = existing.get(key.name)
        if row is None:
            session.add(store.new_row(key))
        else:
            store.describe(row, key)
    session.flush()
