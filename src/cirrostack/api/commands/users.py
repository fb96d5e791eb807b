"""createUser, listUsers, updateUser, deleteUser, getUser, registerUserKeys, getUserKeys."""

from __future__ import annotations

from cirrostack import errors
from cirrostack.accounts import access, accounts, users
from cirrostack.api import paging, registry, responses
from cirrostack.api.commands.accounts import USER_PARAMS, new_user
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


def _acted_on(call: registry.Call, user: models.User) -> models.User:
    call.acted_on = ("User", user.id, user.username)
    return user


def _user_item(call: registry.Call, user: models.User) -> dict[str, object]:
    return identity.user_item(users.owner_of(call.session, user))


def create_user(call: registry.Call) -> responses.Reply:
    domain = domain_arg(call) or call.session.get_one(models.Domain, call.who.domain_id)
    account = accounts.by_name(call.session, call.get("account"), domain)
    if account is None:
        raise errors.InvalidParameterValue(
            f"Unable to find account {call.get('account')} in domain {domain.uuid}"
        )
    user = _acted_on(call, users.create(call.session, call.who, account, new_user(call)))
    return responses.Single("user", _user_item(call, user))


def list_users(call: registry.Call) -> responses.Reply:
    domain = domain_arg(call)
    account = None
    if call.get("account") is not None:
        account = accounts.by_name(
            call.session,
            call.get("account"),
            domain or call.session.get_one(models.Domain, call.who.domain_id),
        )
        if account is None:
            return responses.Listing("user", [], 0)
    wanted = users.UserFilter(
        id=users.by_uuid(call.session, call.get("id")).id if call.get("id") else None,
        username=call.get("username"),
        account=account,
        account_type=account_type_filter(call),
        state=call.get("state"),
        domain=domain,
        keyword=call.get("keyword"),
        listall=call.get("listall", False),
        isrecursive=call.get("isrecursive", False),
    )
    found, total = users.search(call.session, call.who, wanted, paging.page(call))
    items = [identity.user_item(owner) for owner in users.owners_of(call.session, found)]
    return responses.Listing("user", items, total)


def update_user(call: registry.Call) -> responses.Reply:
    changes = users.UserChanges(
        username=call.get("username"),
        password=call.get("password"),
        email=call.get("email"),
        firstname=call.get("firstname"),
        lastname=call.get("lastname"),
        timezone=call.get("timezone"),
    )
    target = _acted_on(call, users.by_uuid(call.session, call.get("id")))
    user = users.update(call.session, call.who, target, changes)
    return responses.Single("user", _user_item(call, user))


def delete_user(call: registry.Call) -> responses.Reply:
    users.delete(
        call.session, call.who, _acted_on(call, users.by_uuid(call.session, call.get("id")))
    )
    return responses.Success()


def get_user(call: registry.Call) -> responses.Reply:
    user = users.by_api_key(call.session, call.get("userapikey"))
    if user is None:
        raise errors.InvalidParameterValue("Unable to find a user with the given api key")
    owner = users.owner_of(call.session, user)
    access.check_account(call.who, owner.account, owner.domain)
    return responses.Single("user", identity.user_item(owner))


def register_user_keys(call: registry.Call) -> responses.Reply:
    target = _acted_on(call, users.by_uuid(call.session, call.get("id")))
    pair = users.register_keys(call.session, call.who, target)
    return responses.Single("userkeys", identity.keys_item(pair))


def get_user_keys(call: registry.Call) -> responses.Reply:
    pair = users.keys_of(call.session, call.who, users.by_uuid(call.session, call.get("id")))
    return responses.Single("userkeys", identity.keys_item(pair))


_ID = P("id", T.UUID, "User id", required=True, related=("listUsers",))

COMMANDS = (
    registry.Command(
        "createUser",
        create_user,
        "Creates a user for an account that already exists",
        (
            *USER_PARAMS,
            P("account", T.STRING, "Creates the user under the specified account", required=True),
            P("domainid", T.UUID, "Domain of the account", related=("listDomains",)),
        ),
        identity.USER,
        authorized=registry.DOMAIN_ADMINS,
        event="USER.CREATE",
    ),
    registry.Command(
        "listUsers",
        list_users,
        "Lists user accounts",
        (
            P("id", T.UUID, "List user by ID.", related=("listUsers",)),
            P("username", T.STRING, "List user by the username"),
            P("account", T.STRING, "list users of this account (with domainid)"),
            P("accounttype", T.LONG, "List users by account type: 0 user, 1 admin, 2 domain admin"),
            P("state", T.STRING, "List users by state: enabled, disabled, locked"),
            P("domainid", T.UUID, "list users of this domain", related=("listDomains",)),
            LISTALL,
            ISRECURSIVE,
            *paging.PARAMS,
        ),
        identity.USER,
    ),
    registry.Command(
        "updateUser",
        update_user,
        "Updates a user account",
        (
            _ID,
            P("username", T.STRING, "Unique username"),
            P("password", T.STRING, "Clear text password of the user"),
            P("email", T.STRING, "email"),
            P("firstname", T.STRING, "first name"),
            P("lastname", T.STRING, "last name"),
            P("timezone", T.STRING, "Specifies a timezone for this command"),
        ),
        identity.USER,
        event="USER.UPDATE",
    ),
    registry.Command(
        "deleteUser",
        delete_user,
        "Deletes a user for an account",
        (_ID,),
        authorized=registry.DOMAIN_ADMINS,
        event="USER.DELETE",
    ),
    registry.Command(
        "getUser",
        get_user,
        "Find user account by API key",
        (P("userapikey", T.STRING, "API key of the user", required=True),),
        identity.USER,
    ),
    registry.Command(
        "registerUserKeys",
        register_user_keys,
        "This command allows a user to register for the developer API, returning a secret key "
        "and an API key. The old pair stops working at once.",
        (_ID,),
        identity.USERKEYS,
        event="REGISTER.USER.KEY",
    ),
    registry.Command(
        "getUserKeys",
        get_user_keys,
        "This command allows the user to query the secret and API keys for the account",
        (_ID,),
        identity.USERKEYS,
    ),
)
