"""listApis and listCapabilities: what clients learn about this server.

listApis is built from the registry alone (names, parameters with type/length/required,
isasync, response fields), so it cannot drift from what dispatch accepts. cmk and cloudmonkey
build their caches from it: every field they type-check is always present with its type.
"""

from __future__ import annotations

from typing import Any

from cirrostack import CLOUDSTACK_API_VERSION
from cirrostack.accounts import roles
from cirrostack.api import errors, registry, responses
from cirrostack.api.commands.common import P, T
from cirrostack.config import keys, settings

_SUCCESS_FIELDS = (
    registry.Field("success", "boolean", "true if operation is executed successfully"),
    registry.Field("displaytext", "string", "any text associated with the success or failure"),
)
_JOB_FIELDS = (
    registry.Field("jobid", "string", "the UUID of the latest async job acting on this object"),
    registry.Field("jobstatus", "integer", "the current status of the latest async job"),
)


def describe(command: registry.Command) -> dict[str, Any]:
    """One ``api`` entry of listApis."""
    fields = command.response.fields if command.response else _SUCCESS_FIELDS
    if command.is_async:
        fields = (*fields, *_JOB_FIELDS)
    return {
        "name": command.name,
        "description": command.description,
        "isasync": command.is_async,
        "related": "",
        "since": command.since,
        "type": "",
        "params": [_param(param) for param in command.params],
        "response": [_field(field) for field in fields],
    }


def _param(param: Any) -> dict[str, Any]:
    return {
        "name": param.name,
        "description": param.description,
        "type": param.type.value,
        "length": param.length,
        "required": param.required,
        "related": ",".join(param.related),
        "since": "",
    }


def _field(field: registry.Field) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": field.name,
        "description": field.description,
        "type": field.type,
    }
    if field.fields:
        entry["response"] = [_field(inner) for inner in field.fields]
    return entry


def list_apis(call: registry.Call) -> responses.Reply:
    commands = call.services.need_registry()
    rules = roles.rules_of(call.session, call.who.role_id)
    visible = [
        command
        for command in commands
        if call.who.role_type in command.authorized and rules.allow(command.name)
    ]
    wanted = call.get("name")
    if wanted is not None:
        visible = [command for command in visible if command.name == wanted]
        if not visible:
            raise errors.param_error(f"Unable to find API {wanted} or it is not available")
    return responses.Listing("api", [describe(command) for command in visible], len(visible))


#: listCapabilities' settings in force for the caller's account (account, domain, global).
_PER_ACCOUNT = (
    keys.ALLOW_PUBLIC_USER_TEMPLATES,
    keys.ALLOW_USER_VIEW_DESTROYED_VM,
    keys.ALLOW_USER_EXPUNGE_RECOVER_VM,
)
#: listCapabilities' global settings.
_GLOBAL = (
    keys.PROJECT_INVITE_REQUIRED,
    keys.ALLOW_USER_CREATE_PROJECTS,
    keys.CUSTOM_DISK_OFFERING_MIN_SIZE,
    keys.CUSTOM_DISK_OFFERING_MAX_SIZE,
    keys.DEFAULT_PAGE_SIZE,
)


def list_capabilities(call: registry.Call) -> responses.Reply:
    # Called by cs, cmk and the UI at every start: all its settings in a fixed few queries.
    values = settings.Settings(call.session)
    account = call.who.account_id
    mine = values.resolve_each(_PER_ACCOUNT, settings.Scope.ACCOUNT, [account])
    overall = values.values_at(_GLOBAL, None)

    def own(key: Any) -> Any:
        return settings.parsed(key, mine[(key.name, account)])

    def global_(key: Any) -> Any:
        return settings.parsed(key, overall[key.name])

    return responses.Single(
        "capability",
        {
            "cloudstackversion": CLOUDSTACK_API_VERSION,
            "securitygroupsenabled": False,
            "userpublictemplateenabled": own(keys.ALLOW_PUBLIC_USER_TEMPLATES),
            "supportELB": "false",
            "projectinviterequired": global_(keys.PROJECT_INVITE_REQUIRED),
            "allowusercreateprojects": global_(keys.ALLOW_USER_CREATE_PROJECTS),
            "customdiskofferingminsize": global_(keys.CUSTOM_DISK_OFFERING_MIN_SIZE),
            "customdiskofferingmaxsize": global_(keys.CUSTOM_DISK_OFFERING_MAX_SIZE),
            "kvmsnapshotenabled": True,
            "regionsecondaryenabled": False,
            "allowuserviewdestroyedvm": own(keys.ALLOW_USER_VIEW_DESTROYED_VM),
            "allowuserexpungerecovervm": own(keys.ALLOW_USER_EXPUNGE_RECOVER_VM),
            "dynamicrolesenabled": True,
            "defaultuipagesize": 20,
            "apilimitinterval": 1,
            "apilimitmax": 0,
            "maxpagesize": global_(keys.DEFAULT_PAGE_SIZE),
        },
    )


CAPABILITY = registry.ObjectSpec(
    "capability",
    (
        registry.Field("cloudstackversion", "string", "the CloudStack API version answered"),
        registry.Field("securitygroupsenabled", "boolean", "true if security groups are enabled"),
        registry.Field("userpublictemplateenabled", "boolean", "users may make templates public"),
        registry.Field("supportELB", "string", "whether elastic load balancing is supported"),
        registry.Field("projectinviterequired", "boolean", "project invites are required"),
        registry.Field("allowusercreateprojects", "boolean", "users may create projects"),
        registry.Field("customdiskofferingminsize", "long", "minimum custom disk size, GB"),
        registry.Field("customdiskofferingmaxsize", "long", "maximum custom disk size, GB"),
        registry.Field("kvmsnapshotenabled", "boolean", "KVM volume snapshots are enabled"),
        registry.Field("regionsecondaryenabled", "boolean", "region-wide secondary storage"),
        registry.Field("allowuserviewdestroyedvm", "boolean", "users may see destroyed VMs"),
        registry.Field("allowuserexpungerecovervm", "boolean", "users may expunge/recover VMs"),
        registry.Field("dynamicrolesenabled", "boolean", "dynamic roles are enabled"),
        registry.Field("defaultuipagesize", "long", "default page size in the UI"),
        registry.Field("apilimitinterval", "integer", "time interval of the API limit, seconds"),
        registry.Field("apilimitmax", "integer", "API calls allowed per interval, 0 unlimited"),
        registry.Field("maxpagesize", "long", "the largest pagesize a list accepts"),
    ),
)

API = registry.ObjectSpec(
    "api",
    (
        registry.Field("name", "string", "the name of the api command"),
        registry.Field("description", "string", "description of the api"),
        registry.Field("isasync", "boolean", "true if api is asynchronous"),
        registry.Field("related", "string", "comma separated related apis"),
        registry.Field("since", "string", "version of CloudStack the api was introduced in"),
        registry.Field("type", "string", "response field type"),
        registry.Field("params", "list", "the list params the api accepts"),
        registry.Field("response", "list", "api response fields"),
    ),
)

COMMANDS = (
    registry.Command(
        "listApis",
        list_apis,
        "lists all available apis on the server, provided by the Api Discovery plugin",
        (P("name", T.STRING, "API name"),),
        API,
    ),
    registry.Command(
        "listCapabilities",
        list_capabilities,
        "Lists capabilities",
        (),
        CAPABILITY,
    ),
)
