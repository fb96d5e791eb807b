"""The ``securitygroup`` object with its ``ingressrule`` and ``egressrule`` lists (always
present, empty or not: Ansible's cs_securitygroup_rule reads them unguarded).

A page reads its owners (two queries), its rules (one), the groups those rules name with
their accounts (one), its VMs (one) and its tags (one), whatever its size.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack.api import responses
from cirrostack.api.registry import Field, ObjectSpec
from cirrostack.api.views import owners
from cirrostack.compute import security_rules
from cirrostack.db.models import accounts as account_models
from cirrostack.db.models import attachments as models
from cirrostack.db.models import compute
from cirrostack.tagging import tags

RULE_FIELDS = (
    Field("ruleid", "string", "the id of the security group rule"),
    Field("protocol", "string", "the protocol of the security group rule"),
    Field("startport", "integer", "the starting port of the security group rule"),
    Field("endport", "integer", "the ending port of the security group rule"),
    Field("icmptype", "integer", "the type of the ICMP message response"),
    Field("icmpcode", "integer", "the code for the ICMP message response"),
    Field("cidr", "string", "the CIDR notation for the base IP address of the rule"),
    Field("securitygroupname", "string", "security group name"),
    Field("account", "string", "account owning the security group rule"),
)

SECURITY_GROUP = ObjectSpec(
    "securitygroup",
    (
        Field("id", "string", "the ID of the security group"),
        Field("name", "string", "the name of the security group"),
        Field("description", "string", "the description of the security group"),
        *owners.FIELDS,
        Field("ingressrule", "set", "the list of ingress rules", RULE_FIELDS),
        Field("egressrule", "set", "the list of egress rules", RULE_FIELDS),
        Field("virtualmachinecount", "integer", "the number of virtualmachines associated"),
        Field("virtualmachineids", "set", "the list of virtualmachine ids associated"),
        Field("tags", "set", "the list of resource tags associated with the rule"),
    ),
)


def group_items(
    session: Session,
    found: Sequence[models.SecurityGroup],
    only: Sequence[models.SecurityGroupRule] | None = None,
) -> list[dict[str, Any]]:
    """Groups as answers show them; ``only``: just these rules (an authorize's answer)."""
    ids = [group.id for group in found]
    who = owners.of(session, [group.account_id for group in found])
    rules = security_rules.rules_of(session, ids) if only is None else _by_group(only)
    sources = _sources(session, [r.allowed_network_id for rs in rules.values() for r in rs])
    vms = _vm_uuids(session, ids)
    tagged = tags.tags_for(session, "SecurityGroup", ids)
    return [
        {
            "id": group.uuid,
            "name": group.name,
            **({"description": group.description} if group.description else {}),
            **who.fields(group.account_id),
            "ingressrule": _rules(rules.get(group.id, []), "ingress", sources),
            "egressrule": _rules(rules.get(group.id, []), "egress", sources),
            "virtualmachinecount": len(vms.get(group.id, [])),
            "virtualmachineids": vms.get(group.id, []),
            "tags": tagged.get(group.id, []),
        }
        for group in found
    ]


def _by_group(
    rules: Sequence[models.SecurityGroupRule],
) -> dict[int, list[models.SecurityGroupRule]]:
    found: dict[int, list[models.SecurityGroupRule]] = {}
    for rule in rules:
        found.setdefault(rule.security_group_id, []).append(rule)
    return found


def _sources(session: Session, ids: list[int | None]) -> dict[int, tuple[str, str]]:
    """(group name, account name) of the groups rules name as sources."""
    wanted = sorted({ident for ident in ids if ident is not None})
    if not wanted:
        return {}
    rows = session.execute(
        sa.select(
            models.SecurityGroup.id, models.SecurityGroup.name, account_models.Account.account_name
        )
        .join(account_models.Account, account_models.Account.id == models.SecurityGroup.account_id)
        .where(models.SecurityGroup.id.in_(wanted))
    )
    return {int(ident): (name, account) for ident, name, account in rows}


def _vm_uuids(session: Session, group_ids: list[int]) -> dict[int, list[str]]:
    if not group_ids:
        return {}
    rows = session.execute(
        sa.select(models.SecurityGroupVm.security_group_id, compute.VmInstance.uuid)
        .join(compute.VmInstance, compute.VmInstance.id == models.SecurityGroupVm.instance_id)
        .where(models.SecurityGroupVm.security_group_id.in_(sorted(set(group_ids))))
        .order_by(models.SecurityGroupVm.id)
    )
    found: dict[int, list[str]] = {}
    for group_id, uuid in rows:
        found.setdefault(int(group_id), []).append(str(uuid))
    return found


def _rules(
    rules: Sequence[models.SecurityGroupRule], direction: str, sources: dict[int, tuple[str, str]]
) -> list[dict[str, Any]]:
    return [rule_item(rule, sources) for rule in rules if rule.type == direction]


def rule_item(
    rule: models.SecurityGroupRule, sources: dict[int, tuple[str, str]]
) -> dict[str, Any]:
    """One rule; ICMP's type and code are kept in the port columns, as CloudStack does."""
    item: dict[str, Any] = {"ruleid": rule.uuid, "protocol": rule.protocol}
    if rule.protocol == "icmp":
        item |= {"icmptype": rule.start_port, "icmpcode": rule.end_port}
    elif rule.start_port is not None:
        item |= {"startport": rule.start_port, "endport": rule.end_port}
    if rule.allowed_network_id is not None and rule.allowed_network_id in sources:
        name, account = sources[rule.allowed_network_id]
        item |= {"securitygroupname": name, "account": account}
    else:
        item["cidr"] = rule.allowed_ip_cidr
    return responses.compact(item)
