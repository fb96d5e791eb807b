"""createTags, deleteTags (async, as in CloudStack: every check at submit, the write in the
job) and listTags, over the types of ``tagging.taggable``."""

from __future__ import annotations

from cirrostack.api import paging, registry, responses
from cirrostack.api.commands.common import P, T
from cirrostack.api.commands.owned import LIST_OWNER_PARAMS, wanted
from cirrostack.api.registry import Field, ObjectSpec
from cirrostack.tagging import taggable, tags

#: The jobs' ``jobinstancetype``: CloudStack's ``None`` (a tag job names no one resource).
NO_INSTANCE = "None"

TAG = ObjectSpec(
    "tag",
    (
        Field("key", "string", "tag key name"),
        Field("value", "string", "tag value"),
        Field("resourcetype", "string", "resource type"),
        Field("resourceid", "string", "id of the resource"),
        Field("account", "string", "the account associated with the tag"),
        Field("domainid", "string", "the ID of the domain associated with the tag"),
        Field("domain", "string", "the domain associated with the tag"),
        Field("customer", "string", "customer associated with the tag"),
    ),
)


def _create(call: registry.Call) -> int:
    return tags.create(
        call.session,
        call.who,
        taggable.kind(call.get("resourcetype")),
        call.get("resourceids"),
        tags.pairs(call.get("tags"), need_value=True),
        call.get("customer"),
    )


def _delete(call: registry.Call) -> int:
    return tags.delete(
        call.session,
        call.who,
        taggable.kind(call.get("resourcetype")),
        call.get("resourceids"),
        tags.pairs(call.get("tags"), need_value=False),
    )


def check_create(call: registry.Call) -> None:
    """At submit: the whole write in a savepoint, undone, so every refusal is a 431 now."""
    with call.session.begin_nested() as trial:
        _create(call)
        trial.rollback()


def check_delete(call: registry.Call) -> None:
    with call.session.begin_nested() as trial:
        _delete(call)
        trial.rollback()


def create_tags(call: registry.Call) -> responses.Reply:
    _create(call)
    return responses.Success()


def delete_tags(call: registry.Call) -> responses.Reply:
    _delete(call)
    return responses.Success()


def list_tags(call: registry.Call) -> responses.Reply:
    wanted_tags = tags.TagFilter(
        owners=wanted(call),
        resource_type=call.get("resourcetype"),
        resource_uuid=call.get("resourceid"),
        key=call.get("key"),
        value=call.get("value"),
        customer=call.get("customer"),
        keyword=call.get("keyword"),
    )
    found, total = tags.search(call.session, call.who, wanted_tags, paging.page(call))
    return responses.Listing("tag", found, total)


_TYPE = P("resourcetype", T.STRING, "type of the resource (UserVm, Volume, ...)", required=True)
_IDS = P("resourceids", T.LIST, "list of resources to tag", required=True, length=8192)

COMMANDS = (
    registry.Command(
        "createTags",
        create_tags,
        "Creates resource tag(s)",
        (
            _TYPE,
            _IDS,
            P("tags", T.MAP, "Map of tags (key/value pairs)", required=True),
            P("customer", T.STRING, "identifies client specific tag"),
        ),
        is_async=True,
        instance_type=NO_INSTANCE,
        event="CREATE_TAGS",
        prepare=check_create,
    ),
    registry.Command(
        "deleteTags",
        delete_tags,
        "Deleting resource tag(s)",
        (_TYPE, _IDS, P("tags", T.MAP, "Delete tags matching key/value pairs")),
        is_async=True,
        instance_type=NO_INSTANCE,
        event="DELETE_TAGS",
        prepare=check_delete,
    ),
    registry.Command(
        "listTags",
        list_tags,
        "List resource tag(s)",
        (
            P("resourcetype", T.STRING, "list by resource type"),
            P("resourceid", T.STRING, "list by resource id"),
            P("key", T.STRING, "list by key"),
            P("value", T.STRING, "list by value"),
            P("customer", T.STRING, "list by customer name"),
            *LIST_OWNER_PARAMS,
            *paging.PARAMS,
        ),
        TAG,
    ),
)
