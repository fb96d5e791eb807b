"""A template's copies on image stores count against its owner's ``secondary_storage`` limit.

CloudStack counts a template's bytes once its copy on secondary storage is made (the size is
only known then) and gives them back when the copy goes. Here each copy that becomes Ready
(a download, or a copy between stores) reserves its stored bytes (``physical_size``, else the
virtual size) for the template's owner and its domains, with the one conditional UPDATE of
``accounts.limits.reserve``; a copy over the limit is not made Ready: it is Failed with the
limit's message and its file deleted (``template_download``). A destroyed copy gives back the
bytes it recorded. The system account (built-in templates) is never counted.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.accounts import limits, resources
from cirrostack.db.models import accounts
from cirrostack.db.models import templates as models

_KIND = resources.ResourceType.SECONDARY_STORAGE


def stored_bytes(physical_size: int | None, size: int | None) -> int:
    """What a copy counts: the bytes on the store, else its virtual size."""
    return int(physical_size or size or 0)


def count(session: Session, template: models.VmTemplate, amount: int) -> str | None:
    """Reserve ``amount`` for the owner; the limit's refusal text, or None when counted
    (nothing is counted on a refusal)."""
    owner = session.get_one(accounts.Account, template.account_id)
    try:
        with session.begin_nested():
            limits.reserve(session, owner, _KIND, amount)
    except errors.ResourceAllocation as exc:
        return str(exc)
    return None


def uncount(session: Session, copy: models.TemplateStoreRef) -> None:
    """Give back what a destroyed Ready copy counted."""
    amount = int(copy.physical_size or 0)
    if amount <= 0:
        return
    template = session.get_one(models.VmTemplate, copy.template_id)
    owner = session.get_one(accounts.Account, template.account_id)
    limits.release(session, owner, _KIND, amount)
