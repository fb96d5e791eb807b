"""Guest operating systems a template or VM declares, grouped into categories."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from cirrostack.db import base


class GuestOsCategory(base.Base, base.IdMixin, base.UuidMixin):
    """A family of guest operating systems (CentOS, Windows, Other, ...)."""

    __tablename__ = "guest_os_category"

    name: Mapped[str] = mapped_column(String(255))


class GuestOs(base.Base, base.Entity):
    """One guest OS; ``display_name`` is what the API lists as ``ostypename``."""

    __tablename__ = "guest_os"

    category_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("guest_os_category.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str | None] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(255))
    is_user_defined: Mapped[bool] = mapped_column(Boolean, default=False)
    display: Mapped[bool] = mapped_column(Boolean, default=True)
