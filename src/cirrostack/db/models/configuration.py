"""Global settings (``configuration``) and the account- and domain-scoped overrides.

A scoped setting is looked up first in the owner's details table (row ``name`` = setting key),
then in ``configuration``; zone, cluster, pool and image-store overrides live in the details
tables of those modules.
"""

from __future__ import annotations

import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cirrostack.db import base


class Configuration(base.Base):
    """One setting. ``value`` NULL means unset (``default_value`` applies); values of the Hidden
    and Secure categories are stored encrypted."""

    __tablename__ = "configuration"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str | None] = mapped_column(Text)
    default_value: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(255), default="Advanced", index=True)
    instance: Mapped[str] = mapped_column(String(255), default="DEFAULT")
    component: Mapped[str] = mapped_column(String(255), default="management-server")
    description: Mapped[str | None] = mapped_column(String(1024))
    scope: Mapped[str | None] = mapped_column(String(255))
    is_dynamic: Mapped[bool] = mapped_column(Boolean, default=False)
    updated: Mapped[datetime.datetime | None] = mapped_column(DateTime())
    group_id: Mapped[int | None] = mapped_column(base.BigId)
    subgroup_id: Mapped[int | None] = mapped_column(base.BigId)
    parent: Mapped[str | None] = mapped_column(String(255))
    display_text: Mapped[str | None] = mapped_column(String(255))
    kind: Mapped[str | None] = mapped_column(String(255))
    options: Mapped[str | None] = mapped_column(String(255))


class AccountDetail(base.Base, base.IdMixin):
    """An account-scoped setting or attribute."""

    __tablename__ = "account_details"

    account_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(String(255))


class DomainDetail(base.Base, base.IdMixin):
    """A domain-scoped setting or attribute."""

    __tablename__ = "domain_details"

    domain_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("domain.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(String(255))
