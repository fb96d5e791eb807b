"""createSecurityGroup, listSecurityGroups, deleteSecurityGroup (sync), and
authorizeSecurityGroupIngress/Egress, revokeSecurityGroupIngress/Egress (async, as in
CloudStack: every check at submit, 431 before any job; the rule written in the job).

An authorize answers the group with only the rules it added (or found already there), as
CloudStack does; Ansible's cs_securitygroup_rule reads the first of them.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from cirrostack import errors
from cirrostack.api import jobs, paging, registry, responses
from cirrostack.api.commands.common import P, T
from cirrostack.api.commands.owned import LIST_OWNER_PARAMS, OWNER_PARAMS, owner, wanted
from cirrostack.api.views import security_groups as views
from cirrostack.compute import security_groups, security_rules
from cirrostack.db.models import attachments as models
from cirrostack.db.models import compute

RESOURCE_TYPE = "SecurityGroup"


def _acted_on(call: registry.Call, group: models.SecurityGroup) -> models.SecurityGroup:
    call.acted_on = (RESOURCE_TYPE, group.id, group.name)
    return group


def _single(call: registry.Call, group: models.SecurityGroup) -> responses.Reply:
    return responses.Single("securitygroup", views.group_items(call.session, [group])[0])


def create_group(call: registry.Call) -> responses.Reply:
    group = security_groups.create(
        call.session, owner(call), call.get("name"), call.get("description")
    )
    return _single(call, _acted_on(call, group))


def _vm_id(call: registry.Call) -> int | None:
    uuid = call.get("virtualmachineid")
    if uuid is None:
        return None
    found = call.session.scalar(
        sa.select(compute.VmInstance.id).where(compute.VmInstance.uuid == uuid)
    )
    return -1 if found is None else int(found)


def list_groups(call: registry.Call) -> responses.Reply:
    wanted_groups = security_groups.GroupFilter(
        owners=wanted(call),
        uuid=call.get("id"),
        name=call.get("securitygroupname"),
        vm_id=_vm_id(call),
        keyword=call.get("keyword"),
    )
    found, total = security_groups.search(call.session, call.who, wanted_groups, paging.page(call))
    return responses.Listing("securitygroup", views.group_items(call.session, found), total)


def _named_group(call: registry.Call, id_param: str, name_param: str) -> models.SecurityGroup:
    uuid, name = call.get(id_param), call.get(name_param)
    if (uuid is None) == (name is None):
        raise errors.InvalidParameterValue(
            f"Either {id_param} or {name_param} must be specified, but not both"
        )
    if uuid is not None:
        return _acted_on(call, security_groups.by_uuid(call.session, call.who, uuid))
    account = owner(call)
    if name.lower() == security_groups.DEFAULT:
        return _acted_on(call, security_groups.ensure_default(call.session, account))
    return _acted_on(call, security_groups.by_name(call.session, account.id, name))


def delete_group(call: registry.Call) -> responses.Reply:
    security_groups.delete(call.session, _named_group(call, "id", "name"))
    return responses.Success()


def _rule_request(
    call: registry.Call,
) -> tuple[models.SecurityGroup, security_rules.RuleSpec, list[str], list[models.SecurityGroup]]:
    group = _named_group(call, "securitygroupid", "securitygroupname")
    rule = security_rules.spec(
        call.get("protocol"),
        call.get("startport"),
        call.get("endport"),
        call.get("icmptype"),
        call.get("icmpcode"),
    )
    cidrs = security_rules.cidrs(call.get("cidrlist") or [])
    entries = [entry for _i, entry in sorted((call.get("usersecuritygrouplist") or {}).items())]
    sources = security_rules.source_groups(call.session, call.who, group.domain_id, entries)
    if not cidrs and not sources:
        raise errors.InvalidParameterValue(
            "At least one cidr or at least one security group needs to be specified"
        )
    return group, rule, cidrs, sources


def check_rule(call: registry.Call) -> jobs.Instance:
    group, _rule, _cidrs, _sources = _rule_request(call)
    return jobs.Instance(RESOURCE_TYPE, group.id, group.uuid)


def _authorize(direction: security_rules.Direction) -> registry.Handler:
    def authorize(call: registry.Call) -> responses.Reply:
        group, rule, cidrs, sources = _rule_request(call)
        added = security_rules.authorize(call.session, group, direction, rule, cidrs, sources)
        item = views.group_items(call.session, [group], only=added)[0]
        return responses.Single("securitygroup", item)

    return authorize


def _find_rule(direction: security_rules.Direction) -> Callable[[registry.Call], jobs.Instance]:
    def find(call: registry.Call) -> jobs.Instance:
        rule = security_rules.rule_by_uuid(call.session, call.who, call.get("id"), direction)
        group = _acted_on(call, call.session.get_one(models.SecurityGroup, rule.security_group_id))
        return jobs.Instance(RESOURCE_TYPE, group.id, group.uuid)

    return find


def _revoke(direction: security_rules.Direction) -> registry.Handler:
    def revoke(call: registry.Call) -> responses.Reply:
        rule = security_rules.rule_by_uuid(call.session, call.who, call.get("id"), direction)
        _acted_on(call, call.session.get_one(models.SecurityGroup, rule.security_group_id))
        security_rules.revoke(call.session, rule)
        return responses.Success()

    return revoke


def _rule_params(direction: str) -> tuple[P, ...]:
    return (
        P(
            "securitygroupid",
            T.UUID,
            "The ID of the security group",
            related=("listSecurityGroups",),
        ),
        P("securitygroupname", T.STRING, "The name of the security group (with account/domainid)"),
        P("protocol", T.STRING, "TCP is default. UDP, ICMP, ALL or a number are the others"),
        P("startport", T.INTEGER, "start port for this " + direction + " rule"),
        P("endport", T.INTEGER, "end port for this " + direction + " rule"),
        P("icmptype", T.INTEGER, "type of the icmp message being sent"),
        P("icmpcode", T.INTEGER, "error code for this icmp message"),
        P("cidrlist", T.LIST, "the cidr list associated", length=8192),
        P("usersecuritygrouplist", T.MAP, "user to security group mapping"),
        *OWNER_PARAMS,
    )


_INGRESS, _EGRESS = security_rules.Direction.INGRESS, security_rules.Direction.EGRESS
_RULE_ID = P("id", T.UUID, "The ID of the rule", required=True)

COMMANDS = (
    registry.Command(
        "createSecurityGroup",
        create_group,
        "Creates a security group",
        (
            P("name", T.STRING, "name of the security group", required=True),
            P("description", T.STRING, "the description of the security group", length=4096),
            *OWNER_PARAMS,
        ),
        views.SECURITY_GROUP,
        event="SG.CREATE",
    ),
    registry.Command(
        "listSecurityGroups",
        list_groups,
        "Lists security groups",
        (
            P("id", T.UUID, "list the security group by the id provided"),
            P("securitygroupname", T.STRING, "lists security groups by name"),
            P("virtualmachineid", T.UUID, "lists security groups by virtual machine id"),
            *LIST_OWNER_PARAMS,
            *paging.PARAMS,
        ),
        views.SECURITY_GROUP,
    ),
    registry.Command(
        "deleteSecurityGroup",
        delete_group,
        "Deletes security group",
        (
            P("id", T.UUID, "The ID of the security group (mutually exclusive with name)"),
            P("name", T.STRING, "The name of the security group (mutually exclusive with id)"),
            *OWNER_PARAMS,
        ),
        event="SG.DELETE",
    ),
    registry.Command(
        "authorizeSecurityGroupIngress",
        _authorize(_INGRESS),
        "Authorizes a particular ingress rule for this security group",
        _rule_params("ingress"),
        views.SECURITY_GROUP,
        is_async=True,
        instance_type=RESOURCE_TYPE,
        event="SG.AUTH.INGRESS",
        prepare=check_rule,
    ),
    registry.Command(
        "authorizeSecurityGroupEgress",
        _authorize(_EGRESS),
        "Authorizes a particular egress rule for this security group",
        _rule_params("egress"),
        views.SECURITY_GROUP,
        is_async=True,
        instance_type=RESOURCE_TYPE,
        event="SG.AUTH.EGRESS",
        prepare=check_rule,
    ),
    registry.Command(
        "revokeSecurityGroupIngress",
        _revoke(_INGRESS),
        "Deletes a particular ingress rule from this security group",
        (_RULE_ID,),
        is_async=True,
        instance_type=RESOURCE_TYPE,
        event="SG.REVOKE.INGRESS",
        prepare=_find_rule(_INGRESS),
    ),
    registry.Command(
        "revokeSecurityGroupEgress",
        _revoke(_EGRESS),
        "Deletes a particular egress rule from this security group",
        (_RULE_ID,),
        is_async=True,
        instance_type=RESOURCE_TYPE,
        event="SG.REVOKE.EGRESS",
        prepare=_find_rule(_EGRESS),
    ),
)
