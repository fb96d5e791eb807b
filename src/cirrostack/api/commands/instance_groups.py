"""createInstanceGroup, listInstanceGroups, updateInstanceGroup, deleteInstanceGroup (sync,
as in CloudStack)."""

from __future__ import annotations

from cirrostack.api import paging, registry, responses
from cirrostack.api.commands.common import P, T
from cirrostack.api.commands.owned import LIST_OWNER_PARAMS, OWNER_PARAMS, owner, wanted
from cirrostack.api.views import groups as views
from cirrostack.compute import instance_groups
from cirrostack.db.models import attachments as models


def _answer(call: registry.Call, group: models.InstanceGroup) -> responses.Reply:
    call.acted_on = ("InstanceGroup", group.id, group.name)
    return responses.Single("instancegroup", views.instance_group_items(call.session, [group])[0])


def create_group(call: registry.Call) -> responses.Reply:
    return _answer(call, instance_groups.create(call.session, owner(call), call.get("name")))


def list_groups(call: registry.Call) -> responses.Reply:
    wanted_groups = instance_groups.GroupFilter(
        owners=wanted(call), uuid=call.get("id"), name=call.get("name"), keyword=call.get("keyword")
    )
    found, total = instance_groups.search(call.session, call.who, wanted_groups, paging.page(call))
    return responses.Listing(
        "instancegroup", views.instance_group_items(call.session, found), total
    )


def update_group(call: registry.Call) -> responses.Reply:
    group = instance_groups.by_uuid(call.session, call.who, call.get("id"))
    if call.get("name") is not None:
        instance_groups.rename(call.session, group, call.get("name"))
    return _answer(call, group)


def delete_group(call: registry.Call) -> responses.Reply:
    group = instance_groups.by_uuid(call.session, call.who, call.get("id"))
    _answer(call, group)
    instance_groups.delete(call.session, group, call.now)
    return responses.Success()


_ID = P(
    "id", T.UUID, "the ID of the instance group", required=True, related=("listInstanceGroups",)
)

COMMANDS = (
    registry.Command(
        "createInstanceGroup",
        create_group,
        "Creates a vm group",
        (P("name", T.STRING, "the name of the instance group", required=True), *OWNER_PARAMS),
        views.INSTANCE_GROUP,
        event="VM.GROUP.CREATE",
    ),
    registry.Command(
        "listInstanceGroups",
        list_groups,
        "Lists vm groups",
        (
            P("id", T.UUID, "list instance groups by ID"),
            P("name", T.STRING, "list instance groups by name"),
            *LIST_OWNER_PARAMS,
            *paging.PARAMS,
        ),
        views.INSTANCE_GROUP,
    ),
    registry.Command(
        "updateInstanceGroup",
        update_group,
        "Updates a vm group",
        (_ID, P("name", T.STRING, "new instance group name")),
        views.INSTANCE_GROUP,
        event="VM.GROUP.UPDATE",
    ),
    registry.Command(
        "deleteInstanceGroup",
        delete_group,
        "Deletes a vm group",
        (_ID,),
        event="VM.GROUP.DELETE",
    ),
)
