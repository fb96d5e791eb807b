"""The first start of a cloud: ROOT domain, default roles, the system and admin accounts.

Called by ``cirrostack serve`` and ``cirrostack db upgrade`` after the migrations; idempotent:
a second call finds everything in place and changes nothing. The admin user gets a random
password and an API key pair (its secret key sealed with the server key the session carries:
``accounts.vault``), which the caller writes to the data directory for the operator.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack.accounts import accounts, keys, passwords, roles, vault
from cirrostack.compute import guest_os
from cirrostack.config import seed
from cirrostack.db.models import accounts as models
from cirrostack.network import offering_seed

SYSTEM_ACCOUNT_ID = accounts.SYSTEM_ACCOUNT_ID
ADMIN_ACCOUNT_ID = 2
ADMIN_USER_ID = 2
ADMIN_USERNAME = "admin"


@dataclass(frozen=True)
class AdminCredentials:
    """What the operator needs to reach a new cloud; the password only on first start."""

    username: str
    api_key: str
    secret_key: str
    password: str | None


def ensure_cloud(session: Session) -> AdminCredentials:
    """Create whatever of the seed data is missing and return the admin's credentials."""
    _ensure_root_domain(session)
    _ensure_roles(session)
    _ensure_account(session, SYSTEM_ACCOUNT_ID, "system")
    _ensure_account(session, ADMIN_ACCOUNT_ID, "admin")
    _ensure_system_user(session)
    credentials = _ensure_admin_user(session)
    guest_os.ensure_catalogue(session)
    seed.ensure(session)
    offering_seed.ensure(session)
    _sequences_after_seed(session)
    return credentials


def _ensure_root_domain(session: Session) -> None:
    if session.get(models.Domain, 1) is None:
        session.add(models.Domain(id=1, name="ROOT", parent=None, path="/", level=0, owner=2))
        session.flush()


def _ensure_roles(session: Session) -> None:
    for role in roles.DEFAULT_ROLES:
        if session.get(models.Role, role.id) is not None:
            continue
        session.add(
            models.Role(
                id=role.id,
                name=role.name,
                role_type=role.type.value,
                description=role.description,
                is_default=True,
            )
        )
        session.flush()
        session.add(
            models.RolePermission(role_id=role.id, rule="*", permission=roles.Permission.ALLOW)
        )
    session.flush()


def _ensure_account(session: Session, account_id: int, name: str) -> None:
    if session.get(models.Account, account_id) is None:
        session.add(
            models.Account(
                id=account_id,
                account_name=name,
                type=int(roles.AccountType.ADMIN),
                role_id=roles.default_role_id(roles.RoleType.ADMIN),
                domain_id=1,
                default=True,
            )
        )
        session.flush()


def _ensure_system_user(session: Session) -> None:
    if session.get(models.User, 1) is None:
        # The system user never logs in: its password is a hash nobody knows the input of.
        session.add(
            models.User(
                id=1,
                username="system",
                password=passwords.hash_password(secrets.token_urlsafe(32)),
                account_id=SYSTEM_ACCOUNT_ID,
                domain_id=1,
                firstname="system",
                lastname="cloud",
                default=True,
            )
        )
        session.flush()


def _ensure_admin_user(session: Session) -> AdminCredentials:
    admin = session.get(models.User, ADMIN_USER_ID)
    password = None
    if admin is None:
        password = secrets.token_urlsafe(18)
        admin = models.User(
            id=2,
            username=ADMIN_USERNAME,
            password=passwords.hash_password(password),
            account_id=ADMIN_ACCOUNT_ID,
            domain_id=1,
            firstname="Admin",
            lastname="User",
            default=True,
        )
        session.add(admin)
    sealer = vault.of(session)
    if admin.api_key is None or admin.secret_key is None:
        pair = keys.new_key_pair()
        admin.api_key, admin.secret_key = pair.api_key, sealer.seal(pair.secret_key)
    session.flush()
    # A clear key is one an older cirrostack left; the start seals it (vault.seal_clear_keys).
    stored = admin.secret_key
    plain = sealer.open(stored) if vault.is_sealed(stored) else stored
    return AdminCredentials(admin.username, admin.api_key, plain, password)


def _sequences_after_seed(session: Session) -> None:
    """PostgreSQL sequences do not advance for explicit ids; move them past the seed rows."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in ("domain", "roles", "account", "user"):
        # Table names come from the tuple above, never from input.
        session.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "  # noqa: S608
                f'GREATEST((SELECT MAX(id) FROM "{table}"), 1))'
            )
        )
