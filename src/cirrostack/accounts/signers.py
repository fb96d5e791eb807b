"""The caller a signed request's API key names: the first statement of every signed call.

Called by the API's authentication (``api.auth.identify``) once per signed request, so it is
written for cost: one prebuilt Core statement (built once at import, so neither construction
nor SQL compilation is paid per call; about a quarter of an ORM query's cost) joining the user
to its account, domain and role, read as plain columns into an ``access.Caller`` with the
sealed secret key and whether the user and its account are enabled. Nothing here holds an ORM
object, so nothing outlives the short transaction that read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack.accounts import access, roles
from cirrostack.db.models import accounts as models

ENABLED = "enabled"


@dataclass(frozen=True)
class Signer:
    """Who holds an API key: the caller, its sealed secret key, and whether it may act."""

    caller: access.Caller
    #: ``user.secret_key`` as stored (sealed with the server key); None: no key pair.
    sealed_secret: str | None = field(repr=False)
    #: The user and its account are both enabled.
    active: bool


_user, _account, _domain, _role = models.User, models.Account, models.Domain, models.Role

#: The live user holding an API key, with what a Caller needs (bound parameter ``api_key``).
_BY_API_KEY = (
    sa.select(
        _user.id,
        _user.uuid,
        _user.username,
        _user.secret_key,
        _user.state,
        _account.id,
        _account.uuid,
        _account.account_name,
        _account.type,
        _account.state,
        _role.id,
        _role.role_type,
        _domain.id,
        _domain.uuid,
        _domain.path,
    )
    .join(_account, _account.id == _user.account_id)
    .join(_domain, _domain.id == _account.domain_id)
    .join(_role, _role.id == _account.role_id)
    .where(_user.api_key == sa.bindparam("api_key"), _user.removed.is_(None))
)


def by_api_key(session: Session, api_key: str) -> Signer | None:
    """The live user holding ``api_key`` as a Signer, in one statement; None if nobody."""
    # On the session's connection: a plain read at the start of the transaction has nothing
    # to flush, and skips the ORM's statement handling (half the cost of this read).
    row = session.connection().execute(_BY_API_KEY, {"api_key": api_key}).first()
    if row is None:
        return None
    (
        user_id,
        user_uuid,
        username,
        secret,
        user_state,
        account_id,
        account_uuid,
        account_name,
        account_type,
        account_state,
        role_id,
        role_type,
        domain_id,
        domain_uuid,
        domain_path,
    ) = row
    caller = access.Caller(
        user_id=user_id,
        user_uuid=user_uuid,
        username=username,
        account_id=account_id,
        account_uuid=account_uuid,
        account_name=account_name,
        account_type=roles.AccountType(account_type),
        role_id=role_id,
        role_type=roles.RoleType(role_type),
        domain_id=domain_id,
        domain_uuid=domain_uuid,
        domain_path=domain_path,
    )
    return Signer(caller, secret, user_state == ENABLED and account_state == ENABLED)
