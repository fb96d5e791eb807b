"""listAffinityGroupTypes, createAffinityGroup, listAffinityGroups, deleteAffinityGroup.

createAffinityGroup and deleteAffinityGroup are async as in CloudStack. The create records the
group at submit (a duplicate name or bad type is a 431 before any job) and answers its ``id``
with the ``jobid``; the job answers the group. The delete finds the group at submit and
removes it in the job (refused there while VMs are in it).
"""

from __future__ import annotations

import sqlalchemy as sa

from cirrostack import errors
from cirrostack.api import jobs, paging, registry, responses
from cirrostack.api.commands.common import P, T
from cirrostack.api.commands.owned import LIST_OWNER_PARAMS, OWNER_PARAMS, owner, wanted
from cirrostack.api.views import groups as views
from cirrostack.compute import affinity_groups
from cirrostack.db.models import attachments as models
from cirrostack.db.models import compute

RESOURCE_TYPE = "AffinityGroup"


def _acted_on(call: registry.Call, group: models.AffinityGroup) -> models.AffinityGroup:
    call.acted_on = (RESOURCE_TYPE, group.id, group.name)
    return group


def list_types(call: registry.Call) -> responses.Reply:
    kinds = [{"type": kind.value} for kind in affinity_groups.GroupType]
    return responses.Listing("affinityGroupType", kinds, len(kinds))


def record_group(call: registry.Call) -> jobs.Instance:
    group = affinity_groups.create(
        call.session,
        owner(call),
        call.get("name"),
        affinity_groups.group_type(call.get("type")),
        call.get("description"),
    )
    _acted_on(call, group)
    return jobs.Instance(RESOURCE_TYPE, group.id, group.uuid)


def create_group(call: registry.Call) -> responses.Reply:
    if call.instance_id is None:
        raise RuntimeError("createAffinityGroup's job runs without the group it created")
    group = _acted_on(call, call.session.get_one(models.AffinityGroup, call.instance_id))
    return responses.Single("affinitygroup", views.affinity_group_items(call.session, [group])[0])


def _named_group(call: registry.Call) -> models.AffinityGroup:
    uuid, name = call.get("id"), call.get("name")
    if uuid is None and name is None:
        raise errors.InvalidParameterValue("Either the affinity group's id or name is required")
    if uuid is not None:
        return _acted_on(call, affinity_groups.by_uuid(call.session, call.who, uuid))
    return _acted_on(call, affinity_groups.by_name(call.session, owner(call).id, name))


def find_group(call: registry.Call) -> jobs.Instance:
    group = _named_group(call)
    return jobs.Instance(RESOURCE_TYPE, group.id, group.uuid)


def delete_group(call: registry.Call) -> responses.Reply:
    affinity_groups.delete(call.session, _named_group(call))
    return responses.Success()


def _vm_id(call: registry.Call) -> int | None:
    uuid = call.get("virtualmachineid")
    if uuid is None:
        return None
    found = call.session.scalar(
        sa.select(compute.VmInstance.id).where(compute.VmInstance.uuid == uuid)
    )
    return -1 if found is None else int(found)


def list_groups(call: registry.Call) -> responses.Reply:
    wanted_groups = affinity_groups.GroupFilter(
        owners=wanted(call),
        uuid=call.get("id"),
        name=call.get("name"),
        type=call.get("type"),
        vm_id=_vm_id(call),
        keyword=call.get("keyword"),
    )
    found, total = affinity_groups.search(call.session, call.who, wanted_groups, paging.page(call))
    return responses.Listing(
        "affinitygroup", views.affinity_group_items(call.session, found), total
    )


COMMANDS = (
    registry.Command(
        "listAffinityGroupTypes",
        list_types,
        "Lists affinity group types available",
        (*paging.PARAMS,),
        views.AFFINITY_GROUP_TYPE,
    ),
    registry.Command(
        "createAffinityGroup",
        create_group,
        "Creates an affinity/anti-affinity group",
        (
            P("name", T.STRING, "name of the affinity group", required=True),
            P(
                "type",
                T.STRING,
                "Type of the affinity group from the available types",
                required=True,
            ),
            P("description", T.STRING, "optional description of the affinity group", length=4096),
            *OWNER_PARAMS,
        ),
        views.AFFINITY_GROUP,
        is_async=True,
        creates=True,
        instance_type=RESOURCE_TYPE,
        event="AG.CREATE",
        prepare=record_group,
    ),
    registry.Command(
        "listAffinityGroups",
        list_groups,
        "Lists affinity groups",
        (
            P("id", T.UUID, "list the affinity group by the ID provided"),
            P("name", T.STRING, "lists affinity groups by name"),
            P("type", T.STRING, "lists affinity groups by type"),
            P("virtualmachineid", T.UUID, "lists affinity groups by virtual machine ID"),
            *LIST_OWNER_PARAMS,
            *paging.PARAMS,
        ),
        views.AFFINITY_GROUP,
    ),
    registry.Command(
        "deleteAffinityGroup",
        delete_group,
        "Deletes affinity group",
        (
            P("id", T.UUID, "The ID of the affinity group (mutually exclusive with name)"),
            P("name", T.STRING, "The name of the affinity group (mutually exclusive with id)"),
            *OWNER_PARAMS,
        ),
        is_async=True,
        instance_type=RESOURCE_TYPE,
        event="AG.DELETE",
        prepare=find_group,
    ),
)
