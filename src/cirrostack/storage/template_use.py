"""A template's use by a new volume and its deletion serialise on the template's row.

deleteTemplate checks that no live volume was made from the template, then moves its copies
to Destroying and deletes their files. A volume recorded from the template between that check
and the copies' removal would be left reading a file that is going away (field lessons 1E: a
check in Python before a write is no guard on PostgreSQL and MariaDB). So both lock the
template's row first: the delete (``lock``) before its check, a new volume (``hold_for_volume``)
before it is recorded. Whichever comes second sees the other's committed work: the delete
finds the volume and refuses (unless forced), or the volume finds the copies Destroying and is
refused with a clear error. SQLite, whose write transactions are serial, needs no row lock.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.db.models import templates as models
from cirrostack.states import machines

_DESTROYING = machines.ObjectInDataStoreState.Destroying.value


def lock(session: Session, template_id: int) -> models.VmTemplate:
    """Lock the template's row for update; return it re-read under the lock."""
    return session.scalars(
        sa.select(models.VmTemplate)
        .where(models.VmTemplate.id == template_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def being_deleted(session: Session, template: models.VmTemplate) -> bool:
    """True when the template is removed or a delete has started on one of its copies.

    A locking read: under MariaDB's repeatable read a plain one would see the transaction's
    first snapshot, from before the delete it waited for committed."""
    if template.removed is not None:
        return True
    ref = models.TemplateStoreRef
    found = session.scalar(
        sa.select(ref.id)
        .where(
            ref.template_id == template.id,
            ref.destroyed.is_(False),
            ref.state == _DESTROYING,
        )
        .limit(1)
        .with_for_update(read=True)
    )
    return found is not None


def hold_for_volume(session: Session, template_id: int) -> models.VmTemplate:
    """Lock the template a new volume is made from; InvalidParameterValue when it is being
    deleted (the volume is then not recorded)."""
    template = lock(session, template_id)
    if being_deleted(session, template):
        raise errors.InvalidParameterValue(
            f"Template {template.uuid} is being deleted: a volume cannot be created from it"
        )
    return template
