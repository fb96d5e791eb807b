"""The audit trail (``event``) and the records the usage server meters (``usage_event``).

Neither table has foreign keys: events outlive the users, accounts and resources they mention.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from cirrostack.db import base


class Event(base.Base, base.IdMixin, base.UuidMixin, base.CreatedMixin):
    """One audit line. An async command writes Scheduled, Started and Completed rows, the later
    ones pointing at the first through ``start_id`` (0 when there is none)."""

    __tablename__ = "event"
    __table_args__ = (Index(None, "created"), Index(None, "resource_type", "resource_id"))

    type: Mapped[str] = mapped_column(String(32), index=True)
    state: Mapped[str] = mapped_column(String(32), default="Completed")
    description: Mapped[str] = mapped_column(String(1024))
    user_id: Mapped[int] = mapped_column(base.BigId)
    account_id: Mapped[int] = mapped_column(base.BigId, index=True)
    domain_id: Mapped[int] = mapped_column(base.BigId, index=True)
    level: Mapped[str] = mapped_column(String(16), default="INFO")
    start_id: Mapped[int] = mapped_column(base.BigId, default=0)
    parameters: Mapped[str | None] = mapped_column(String(1024))
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    display: Mapped[bool] = mapped_column(Boolean, default=True)
    resource_id: Mapped[int | None] = mapped_column(base.BigId)
    resource_type: Mapped[str | None] = mapped_column(String(32))


class UsageEvent(base.Base, base.IdMixin, base.CreatedMixin):
    """A metered happening (VM.START, VOLUME.CREATE, ...) waiting for the usage server.

    Conventions from CloudStack: IP events put the source-NAT flag in ``size`` and is_system in
    ``template_id``; snapshot events put the physical size in ``size`` and the virtual size in
    ``virtual_size``.
    """

    __tablename__ = "usage_event"
    __table_args__ = (Index(None, "created"),)

    type: Mapped[str] = mapped_column(String(32))
    account_id: Mapped[int] = mapped_column(base.BigId, index=True)
    zone_id: Mapped[int] = mapped_column(base.BigId)
    resource_id: Mapped[int | None] = mapped_column(base.BigId)
    resource_name: Mapped[str | None] = mapped_column(String(255))
    offering_id: Mapped[int | None] = mapped_column(base.BigId)
    template_id: Mapped[int | None] = mapped_column(base.BigId)
    size: Mapped[int | None] = mapped_column(BigInteger)
    virtual_size: Mapped[int | None] = mapped_column(BigInteger)
    resource_type: Mapped[str | None] = mapped_column(String(32))
    processed: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
