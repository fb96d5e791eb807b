"""createAccount, listAccounts, updateAccount, disableAccount, enableAccount, deleteAccount."""

from __future__ import annotations

import sqlalchemy as sa

from cirrostack import errors
from cirrostack.accounts import access, accounts, reach, roles, users
from cirrostack.api import jobs, paging, registry, responses
from cirrostack.api.commands import common
from cirrostack.api.commands.common import (
    ISRECURSIVE,
    LISTALL,
    P,
    T,
    account_type_filter,
    domain_arg,
)
from cirrostack.api.views import identity
from cirrostack.db.models import accounts as models


def _role(call: registry.Call) -> models.Role:
    """The role createAccount asked for: ``roleid``, else the default role of ``accounttype``."""
    if call.get("roleid") is not None:
        role = call.session.scalars(
            sa.select(models.Role)
            .where(models.Role.uuid == call.get("roleid"), models.Role.removed.is_(None))
            # Shared with deleteRole's exclusive lock: a role is not deleted under a new account.
            .with_for_update(read=True)
        ).first()
        if role is None:
            raise errors.InvalidParameterValue(
                f"Unable to find role by roleid {call.get('roleid')}"
            )
        return role
    kind = call.get("accounttype")
    if kind is None:
        raise errors.InvalidParameterValue("Either roleid or accounttype must be passed")
    try:
        role_type = roles.ROLE_TYPE_OF_ACCOUNT_TYPE[roles.AccountType(kind)]
    except (ValueError, KeyError):
        raise errors.InvalidParameterValue(
            f"Invalid accounttype {kind}: use 0 (user), 1 (admin) or 2 (domain admin)"
        ) from None
    return call.session.get_one(models.Role, roles.default_role_id(role_type))


def new_user(call: registry.Call) -> users.NewUser:
    return users.NewUser(
        username=call.get("username"),
        password=call.get("password"),
        email=call.get("email"),
        firstname=call.get("firstname"),
        lastname=call.get("lastname"),
        timezone=call.get("timezone"),
    )


def _acted_on(call: registry.Call, account: models.Account) -> models.Account:
    call.acted_on = ("Account", account.id, account.account_name)
    return account


def create_account(call: registry.Call) -> responses.Reply:
    domain = domain_arg(call) or call.session.get_one(models.Domain, call.who.domain_id)
    new = accounts.NewAccount(
        user=new_user(call),
        role=_role(call),
        domain=domain,
        name=call.get("account"),
        network_domain=call.get("networkdomain"),
    )
    account = _acted_on(call, accounts.create(call.session, call.who, new)[0])
    return responses.Single("account", identity.account_item(call.session, account))


def target(call: registry.Call) -> models.Account:
    """The account an update/enable/disable names: ``id``, or ``account`` + ``domainid``."""
    if call.get("id") is not None:
        return reach.account(call.session, call.who, call.get("id"))
    name = call.get("account")
    if name is None:
        raise errors.InvalidParameterValue("Either id or account (with domainid) must be passed")
    domain = domain_arg(call) or call.session.get_one(models.Domain, call.who.domain_id)
    found = reach.account_by_name(call.session, call.who, name, domain)
    if found is None:
        raise errors.InvalidParameterValue(f"Unable to find account {name} in domain {domain.uuid}")
    return found


def list_accounts(call: registry.Call) -> responses.Reply:
    wanted = accounts.AccountFilter(
        id=reach.account(call.session, call.who, call.get("id")).id if call.get("id") else None,
        name=call.get("name"),
        account_type=account_type_filter(call),
        state=call.get("state"),
        domain=domain_arg(call),
        keyword=call.get("keyword"),
        listall=call.get("listall", False),
        isrecursive=call.get("isrecursive", False),
    )
    found, total = accounts.search(call.session, call.who, wanted, paging.page(call))
    return responses.Listing("account", identity.account_items(call.session, found), total)


def update_account(call: registry.Call) -> responses.Reply:
    account = accounts.update(
        call.session,
        call.who,
        _acted_on(call, target(call)),
        call.get("newname"),
        call.get("networkdomain"),
    )
    return responses.Single("account", identity.account_item(call.session, account))


def disable_account(call: registry.Call) -> responses.Reply:
    state = accounts.State.LOCKED if call.get("lock") else accounts.State.DISABLED
    account = accounts.set_state(call.session, call.who, _acted_on(call, target(call)), state)
    return responses.Single("account", identity.account_item(call.session, account))


def enable_account(call: registry.Call) -> responses.Reply:
    account = accounts.set_state(
        call.session, call.who, _acted_on(call, target(call)), accounts.State.ENABLED
    )
    return responses.Single("account", identity.account_item(call.session, account))


def reachable_account(call: registry.Call) -> jobs.Instance:
    """At submit: the account exists and the caller may act on it (531 at once otherwise)."""
    account = _acted_on(call, target(call))
    access.check_account(call.who, account, call.session.get_one(models.Domain, account.domain_id))
    return jobs.Instance("Account", account.id, account.uuid)


def delete_account(call: registry.Call) -> responses.Reply:
    account = _acted_on(call, reach.account(call.session, call.who, call.get("id")))
    accounts.delete(call.session, call.who, account)
    return responses.Success()


_ID = P("id", T.UUID, "Account id", related=("listAccounts",))
_ACCOUNT = P("account", T.STRING, "Account name (with domainid)")
_DOMAIN = P("domainid", T.UUID, "Domain ID of the account", related=("listDomains",))
USER_PARAMS = (
    P("username", T.STRING, "Unique username", required=True),
    P("password", T.STRING, "Clear text password of the user", required=True),
    P("email", T.STRING, "email", required=True),
    P("firstname", T.STRING, "firstname", required=True),
    P("lastname", T.STRING, "lastname", required=True),
    P("timezone", T.STRING, "Specifies a timezone for this command"),
)

COMMANDS = (
    registry.Command(
        "createAccount",
        create_account,
        "Creates an account",
        (
            *USER_PARAMS,
            P("account", T.STRING, "Name of the account; the username when not given"),
            P("accounttype", T.SHORT, "Type of the account: 0 user, 1 root admin, 2 domain admin"),
            P(
                "roleid",
                T.UUID,
                "Creates the account under the specified role",
                related=("listRoles",),
            ),
            _DOMAIN,
            P("networkdomain", T.STRING, "Network domain for the account's networks"),
        ),
        identity.ACCOUNT,
        authorized=registry.DOMAIN_ADMINS,
        event="ACCOUNT.CREATE",
        before=common.hash_password,
    ),
    registry.Command(
        "listAccounts",
        list_accounts,
        "Lists accounts and provides detailed account information for listed accounts",
        (
            _ID,
            P("name", T.STRING, "list account by account name"),
            P(
                "accounttype",
                T.LONG,
                "list accounts by account type: 0 user, 1 admin, 2 domain admin",
            ),
            P("state", T.STRING, "list accounts by state: enabled, disabled, locked"),
            _DOMAIN,
            LISTALL,
            ISRECURSIVE,
            *paging.PARAMS,
        ),
        identity.ACCOUNT,
    ),
    registry.Command(
        "updateAccount",
        update_account,
        "Updates account information for the authenticated user",
        (
            _ID,
            _ACCOUNT,
            _DOMAIN,
            P("newname", T.STRING, "new name for the account"),
            P("networkdomain", T.STRING, "Network domain for the account's networks"),
        ),
        identity.ACCOUNT,
        authorized=registry.DOMAIN_ADMINS,
        event="ACCOUNT.UPDATE",
    ),
    registry.Command(
        "disableAccount",
        disable_account,
        "Disables an account",
        (
            _ID,
            _ACCOUNT,
            _DOMAIN,
            P("lock", T.BOOLEAN, "If true, only lock the account", required=True),
        ),
        identity.ACCOUNT,
        is_async=True,
        authorized=registry.DOMAIN_ADMINS,
        instance_type="Account",
        event="ACCOUNT.DISABLE",
        prepare=reachable_account,
    ),
    registry.Command(
        "enableAccount",
        enable_account,
        "Enables an account",
        (_ID, _ACCOUNT, _DOMAIN),
        identity.ACCOUNT,
        authorized=registry.DOMAIN_ADMINS,
        event="ACCOUNT.ENABLE",
    ),
    registry.Command(
        "deleteAccount",
        delete_account,
        "Deletes an account and all the users associated with it",
        (P("id", T.UUID, "Account id", required=True, related=("listAccounts",)),),
        is_async=True,
        authorized=registry.DOMAIN_ADMINS,
        instance_type="Account",
        event="ACCOUNT.DELETE",
        prepare=reachable_account,
    ),
)
