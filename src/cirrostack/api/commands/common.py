"""Parameter sets and lookups that many commands share."""

from __future__ import annotations

from cirrostack import errors
from cirrostack.accounts import passwords, reach, roles
from cirrostack.api import params, registry
from cirrostack.db.models import accounts as models

P = params.Param
T = params.ParamType

LISTALL = P(
    "listall",
    T.BOOLEAN,
    "If set to false, list only resources belonging to the command's caller; if set to true - "
    "list resources that the caller is authorized to see. Default value is false",
)
ISRECURSIVE = P(
    "isrecursive",
    T.BOOLEAN,
    "defaults to false, but if true, lists all resources from the parent specified by the "
    "domainId till leaves.",
)


def domain_arg(call: registry.Call, name: str = "domainid") -> models.Domain | None:
    """The live domain a UUID parameter names, or None when it was not given."""
    uuid = call.get(name)
    return None if uuid is None else reach.domain(call.session, call.who, uuid, parameter=name)


def account_type_filter(call: registry.Call) -> int | None:
    """The ``accounttype`` filter of a list, checked against CloudStack's account types."""
    value = call.get("accounttype")
    if value is None:
        return None
    if value not in {kind.value for kind in roles.AccountType}:
        raise errors.InvalidParameterValue(
            f"Invalid accounttype {value}: use 0 (user), 1 (admin), 2 (domain admin), "
            "3 (resource domain admin), 4 (read-only admin) or 5 (project)"
        )
    return int(value)


def hash_password(before: registry.Before) -> None:
    """The ``before`` step of commands that store a password (createAccount, createUser,
    updateUser): hash it with no transaction open, so PBKDF2 holds no lock. The handler
    then finds a ``passwords.Prepared`` under ``password``; an empty one is left for the
    service to refuse."""
    plain = before.args.get("password")
    if isinstance(plain, str) and plain:
        before.args["password"] = passwords.prepare(plain)
