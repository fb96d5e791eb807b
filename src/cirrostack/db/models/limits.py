"""Resource limits and counts: ``resource_limit`` and ``resource_count``, CloudStack's tables.

Each row belongs to exactly one owner, an account or a domain (the other id is NULL), and one
resource type (``type``: CloudStack's ``Resource.ResourceType`` name, ``user_vm``,
``primary_storage`` ...). A missing ``resource_limit`` row means the default applies
(``max.account.*`` / ``max.domain.*``); ``max`` -1 is unlimited. Storage amounts are bytes,
as in CloudStack.

Unique keys over (type, owner) on both tables: one limit and one counter per owner and type,
so a lost insert race is refused by the database, and the conditional UPDATE of
``accounts.limits.reserve`` has exactly one row per owner to act on.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cirrostack.db import base

_ONE_OWNER = "(account_id IS NULL) <> (domain_id IS NULL)"


class ResourceLimit(base.Base, base.IdMixin):
    """The limit an operator set for one account or domain and one resource type."""

    __tablename__ = "resource_limit"
    __table_args__ = (
        UniqueConstraint("type", "account_id"),
        UniqueConstraint("type", "domain_id"),
        CheckConstraint(_ONE_OWNER, name="one_owner"),
    )

    type: Mapped[str] = mapped_column(String(255))
    domain_id: Mapped[int | None] = mapped_column(
        base.BigId, ForeignKey("domain.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[int | None] = mapped_column(
        base.BigId, ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    max: Mapped[int] = mapped_column(BigInteger, default=-1)


class ResourceCount(base.Base, base.IdMixin):
    """How much of one resource type an account, or a domain's whole subtree, holds."""

    __tablename__ = "resource_count"
    __table_args__ = (
        UniqueConstraint("type", "account_id"),
        UniqueConstraint("type", "domain_id"),
        CheckConstraint(_ONE_OWNER, name="one_owner"),
    )

    type: Mapped[str] = mapped_column(String(255))
    account_id: Mapped[int | None] = mapped_column(
        base.BigId, ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    domain_id: Mapped[int | None] = mapped_column(
        base.BigId, ForeignKey("domain.id", ondelete="CASCADE"), index=True
    )
    count: Mapped[int] = mapped_column(BigInteger, default=0)
