"""createUser, listUsers, updateUser, deleteUser, getUser, registerUserKeys, getUserKeys,
lockUser, disableUser (async, as in CloudStack), enableUser."""

from __future__ import annotations

from cirrostack import errors
from cirrostack.accounts import accounts, passwords, reach, sessions, user_state, users
from cirrostack.api import jobs, paging, registry, responses
from cirrostack.api.commands import common
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
    account = reach.account_by_name(call.session, call.who, call.get("account"), domain)
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
        id=reach.user(call.session, call.who, call.get("id")).id if call.get("id") else None,
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


def _prepare_update(before: registry.Before) -> None:
    """updateUser's ``before`` step (no transaction open): hash the new password, and check
    a given current password against the user's stored hash, read in a short read. The
    transaction trusts that check only while the hash is unchanged (``passwords.Verified``)."""
    common.hash_password(before)
    current, uuid = before.args.get("currentpassword"), before.args.get("id")
    if not isinstance(current, str) or not current.strip() or before.args.get("password") is None:
        return
    with before.reading() as session:
        stored = users.stored_password(session, uuid) if isinstance(uuid, str) else None
    # An unknown user costs the same derivation; the transaction then answers "not found".
    before.args["currentpassword"] = passwords.verify_ahead(current, stored)


def update_user(call: registry.Call) -> responses.Reply:
    changes = users.UserChanges(
        username=call.get("username"),
        password=call.get("password"),
        current_password=call.get("currentpassword"),
        api_key=call.get("userapikey"),
        secret_key=call.get("usersecretkey"),
        email=call.get("email"),
        firstname=call.get("firstname"),
        lastname=call.get("lastname"),
        timezone=call.get("timezone"),
    )
    target = _acted_on(call, reach.user(call.session, call.who, call.get("id")))
    user = users.update(call.session, call.who, target, changes)
    if changes.password is not None:
        # A new password ends the user's other sessions; the caller's own one goes on.
        sessions.end_sessions(call.session, user.id, keep=_session_key_of(call))
    return responses.Single("user", _user_item(call, user))


def _session_key_of(call: registry.Call) -> str | None:
    """The session key the request came with (parameter or cookie), if any."""
    request = call.request
    if request is None:
        return None
    return request.first("sessionkey") or request.cookies.get("sessionkey") or None


def lock_user(call: registry.Call) -> responses.Reply:
    target = _acted_on(call, reach.user(call.session, call.who, call.get("id")))
    return responses.Single(
        "user", _user_item(call, user_state.lock(call.session, call.who, target))
    )


def disable_user(call: registry.Call) -> responses.Reply:
    target = _acted_on(call, reach.user(call.session, call.who, call.get("id")))
    user = user_state.disable(call.session, call.who, target)
    return responses.Single("user", _user_item(call, user))


def enable_user(call: registry.Call) -> responses.Reply:
    target = _acted_on(call, reach.user(call.session, call.who, call.get("id")))
    user = user_state.enable(call.session, call.who, target)
    return responses.Single("user", _user_item(call, user))


def reachable_user(call: registry.Call) -> jobs.Instance:
    """disableUser at submit: the user exists and the caller may disable it (at once otherwise)."""
    user = _acted_on(call, reach.user(call.session, call.who, call.get("id")))
    user_state.check_state_change(
        call.session, call.who, users.owner_of(call.session, user), "disabling"
    )
    return jobs.Instance("User", user.id, user.uuid)


def delete_user(call: registry.Call) -> responses.Reply:
    users.delete(
        call.session, call.who, _acted_on(call, reach.user(call.session, call.who, call.get("id")))
    )
    return responses.Success()


def get_user(call: registry.Call) -> responses.Reply:
    # A key of a user out of reach is answered as an unknown one: keys are not an oracle.
    user = reach.user_by_api_key(call.session, call.who, call.get("userapikey"))
    if user is None:
        raise errors.InvalidParameterValue("Unable to find a user with the given api key")
    return responses.Single("user", identity.user_item(users.owner_of(call.session, user)))


def register_user_keys(call: registry.Call) -> responses.Reply:
    target = _acted_on(call, reach.user(call.session, call.who, call.get("id")))
    pair = users.register_keys(call.session, call.who, target)
    return responses.Single("userkeys", identity.keys_item(pair))


def get_user_keys(call: registry.Call) -> responses.Reply:
    pair = users.keys_of(call.session, call.who, reach.user(call.session, call.who, call.get("id")))
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
        before=common.hash_password,
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
            P(
                "currentpassword",
                T.STRING,
                "Current password of the user; required when a user who is not an admin "
                "sets a new password",
            ),
            P(
                "userapikey",
                T.STRING,
                "The API key for the user. Must be specified with usersecretkey",
            ),
            P(
                "usersecretkey",
                T.STRING,
                "The secret key for the user. Must be specified with userapikey",
            ),
            P("email", T.STRING, "email"),
            P("firstname", T.STRING, "first name"),
            P("lastname", T.STRING, "last name"),
            P("timezone", T.STRING, "Specifies a timezone for this command"),
        ),
        identity.USER,
        event="USER.UPDATE",
        before=_prepare_update,
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
    registry.Command(
        "lockUser",
        lock_user,
        "Locks a user account",
        (P("id", T.UUID, "Locks user by user ID.", required=True, related=("listUsers",)),),
        identity.USER,
        authorized=registry.DOMAIN_ADMINS,
        event="USER.LOCK",
    ),
    registry.Command(
        "disableUser",
        disable_user,
        "Disables a user account",
        (P("id", T.UUID, "Disables user by user ID.", required=True, related=("listUsers",)),),
        identity.USER,
        is_async=True,
        authorized=registry.DOMAIN_ADMINS,
        instance_type="User",
        event="USER.DISABLE",
        prepare=reachable_user,
    ),
    registry.Command(
        "enableUser",
        enable_user,
        "Enables a user account",
        (P("id", T.UUID, "Enables user by user ID.", required=True, related=("listUsers",)),),
        identity.USER,
        authorized=registry.DOMAIN_ADMINS,
        event="USER.ENABLE",
    ),
)
