"""User-defined key/value tags on any resource (``resource_tags``).

``resource_id`` is the id in whichever table ``resource_type`` names (UserVm, Volume, Snapshot,
Template, Network, ...), so it has no foreign key; ``resource_uuid`` is kept beside it for the
API.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cirrostack.db import base


class ResourceTag(base.Base, base.IdMixin, base.UuidMixin):
    """One tag; a resource has at most one value per key."""

    __tablename__ = "resource_tags"
    __table_args__ = (UniqueConstraint("resource_id", "resource_type", "key"),)

    key: Mapped[str | None] = mapped_column(String(255))
    value: Mapped[str | None] = mapped_column(String(255))
    resource_id: Mapped[int] = mapped_column(base.BigId)
    resource_uuid: Mapped[str | None] = mapped_column(String(40))
    resource_type: Mapped[str | None] = mapped_column(String(255))
    customer: Mapped[str | None] = mapped_column(String(255))
    domain_id: Mapped[int] = mapped_column(base.BigId, ForeignKey("domain.id"), index=True)
    account_id: Mapped[int] = mapped_column(base.BigId, ForeignKey("account.id"), index=True)
