"""Who owns and who may do: domain, account, user, roles and role_permissions."""

from __future__ import annotations

import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cirrostack.db import base


class Domain(base.Base, base.Entity):
    """A node of the domain tree; ``path`` is ``/`` for ROOT and ``/a/b/`` below it."""

    __tablename__ = "domain"
    __table_args__ = (Index("uq_domain_parent_live_name", "parent", "live_name", unique=True),)

    parent: Mapped[int | None] = mapped_column(base.BigId, ForeignKey("domain.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    owner: Mapped[int | None] = mapped_column(base.BigId)
    path: Mapped[str] = mapped_column(String(255), index=True)
    level: Mapped[int] = mapped_column(Integer, default=0)
    child_count: Mapped[int] = mapped_column(Integer, default=0)
    next_child_seq: Mapped[int] = mapped_column(base.BigId, default=1)
    state: Mapped[str] = mapped_column(String(32), default="Active")
    network_domain: Mapped[str | None] = mapped_column(String(255))
    live_name: Mapped[str | None] = base.live_name("name")


class Role(base.Base, base.Entity):
    """A named set of API permissions; ``role_type``: Admin, ResourceAdmin, DomainAdmin, User."""

    __tablename__ = "roles"

    name: Mapped[str] = mapped_column(String(255))
    role_type: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(String(255))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)


class RolePermission(base.Base, base.IdMixin, base.UuidMixin):
    """One rule of a role: an API name or wildcard (``list*``), ALLOW or DENY, in ``sort_order``."""

    __tablename__ = "role_permissions"
    #: CloudStack's key: one rule per pattern in a role.
    __table_args__ = (UniqueConstraint("role_id", "rule"),)

    role_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("roles.id", ondelete="CASCADE"), index=True
    )
    rule: Mapped[str] = mapped_column(String(255))
    permission: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(String(255))
    sort_order: Mapped[int] = mapped_column(base.BigId, default=0)


class Account(base.Base, base.Entity):
    """An owner of resources; ``type`` is CloudStack's ordinal (0 user, 1 admin, 2 domain admin)."""

    __tablename__ = "account"
    __table_args__ = (
        Index("uq_account_domain_id_live_name", "domain_id", "live_name", unique=True),
    )

    account_name: Mapped[str] = mapped_column(String(100), index=True)
    type: Mapped[int] = mapped_column(Integer)
    role_id: Mapped[int | None] = mapped_column(base.BigId, ForeignKey("roles.id"))
    domain_id: Mapped[int] = mapped_column(base.BigId, ForeignKey("domain.id"), index=True)
    state: Mapped[str] = mapped_column(String(10), default="enabled")
    cleanup_needed: Mapped[bool] = mapped_column(Boolean, default=False)
    network_domain: Mapped[str | None] = mapped_column(String(255))
    default: Mapped[bool] = mapped_column(Boolean, default=False)
    live_name: Mapped[str | None] = base.live_name("account_name")


class User(base.Base, base.Entity):
    """A login of an account. ``password`` is a salted hash; ``secret_key`` signs API requests."""

    __tablename__ = "user"
    __table_args__ = (Index("uq_user_domain_id_live_name", "domain_id", "live_name", unique=True),)

    username: Mapped[str] = mapped_column(String(255), index=True)
    password: Mapped[str] = mapped_column(String(255))
    account_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    firstname: Mapped[str | None] = mapped_column(String(255))
    lastname: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(10), default="enabled")
    api_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    secret_key: Mapped[str | None] = mapped_column(String(255))
    timezone: Mapped[str | None] = mapped_column(String(30))
    registration_token: Mapped[str | None] = mapped_column(String(255))
    is_registered: Mapped[bool] = mapped_column(Boolean, default=False)
    default: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(40), default="UNKNOWN")
    #: The account's domain, kept on the row (cirrostack addition) so that the database itself
    #: keeps usernames unique per domain, as CloudStack's login requires; accounts never move.
    domain_id: Mapped[int | None] = mapped_column(base.BigId, ForeignKey("domain.id"))
    live_name: Mapped[str | None] = base.live_name("username")
    #: Wrong passwords since the last good login (CloudStack's column); at
    #: ``incorrect.login.attempts.allowed`` the user is disabled.
    incorrect_login_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ApiSession(base.Base, base.IdMixin, base.CreatedMixin):
    """A login session (cirrostack addition: CloudStack keeps them in servlet memory).

    Kept in the database so that every management server sees the same sessions and a logout
    revokes a session everywhere. Only SHA-256 digests of the session key and of the JSESSIONID
    cookie are stored; a database leak does not hand out live sessions.
    """

    __tablename__ = "api_session"

    session_key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    jsessionid_hash: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(
        base.BigId, ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    last_access: Mapped[datetime.datetime] = mapped_column(DateTime(), default=base.utcnow)
