"""Security group rules: what authorizeSecurityGroupIngress/Egress add and revoke removes.

A request names a protocol (``tcp``, ``udp``, ``icmp``, ``all`` or an IP protocol number
0-255), a port range (tcp/udp) or ICMP type and code (-1 for any), and its sources: CIDRs
(``cidrlist``) and other accounts' groups (``usersecuritygrouplist``, by account and group
name); one rule row per source, as CloudStack stores them. A rule the group already has is
not added twice: the authorize locks the group row, so two concurrent requests for the same
rule add it once.
"""

from __future__ import annotations

import enum
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.accounts import access
from cirrostack.accounts import accounts as account_service
from cirrostack.compute import owned, security_groups
from cirrostack.db.models import accounts as account_models
from cirrostack.db.models import attachments as models


class Direction(enum.StrEnum):
    INGRESS = "ingress"
    EGRESS = "egress"


_PORTED = frozenset({"tcp", "udp"})
_NAMED = frozenset({"tcp", "udp", "icmp", "all"})


@dataclass(frozen=True)
class RuleSpec:
    """One authorize request's rule, checked (``spec``); sources come separately."""

    protocol: str
    start_port: int | None
    end_port: int | None


def spec(
    protocol: str | None,
    start_port: int | None,
    end_port: int | None,
    icmp_type: int | None,
    icmp_code: int | None,
) -> RuleSpec:
    """The rule a request asks for; InvalidParameterValue for a wrong protocol or range."""
    name = (protocol or "tcp").lower()
    if name not in _NAMED:
        if not name.isdigit() or not 0 <= int(name) <= 255:
            raise errors.InvalidParameterValue(
                f"Invalid protocol {protocol}: use tcp, udp, icmp, all or a number 0-255"
            )
        return RuleSpec(name, None, None)
    if name == "all":
        return RuleSpec(name, None, None)
    if name == "icmp":
        return RuleSpec(name, _icmp(icmp_type, "type"), _icmp(icmp_code, "code"))
    return RuleSpec(name, *_ports(start_port, end_port))


def _icmp(value: int | None, what: str) -> int:
    if value is None:
        raise errors.InvalidParameterValue(f"Specify icmp{what} for protocol icmp (-1: any)")
    if not -1 <= value <= 255:
        raise errors.InvalidParameterValue(f"Invalid icmp {what} {value}: -1 or 0-255")
    return value


def _ports(start: int | None, end: int | None) -> tuple[int, int]:
    if start is None:
        raise errors.InvalidParameterValue("Specify startport for protocol tcp or udp")
    end = start if end is None else end
    if not (0 <= start <= 65535 and 0 <= end <= 65535) or start > end:
        raise errors.InvalidParameterValue(f"Invalid port range {start}:{end}")
    return start, end


def cidrs(texts: Sequence[str]) -> list[str]:
    """The CIDRs of ``cidrlist``, each checked; InvalidParameterValue for a bad one."""
    found = []
    for text in texts:
        try:
            found.append(str(ipaddress.ip_network(text.strip(), strict=False)))
        except ValueError:
            raise errors.InvalidParameterValue(f"Invalid cidr {text}") from None
    return found


def source_groups(
    session: Session, caller: access.Caller, domain_id: int, entries: Sequence[dict[str, str]]
) -> list[models.SecurityGroup]:
    """The groups of ``usersecuritygrouplist`` ({account, group}), accounts looked up in
    ``domain_id``; a missing or unreachable one raises InvalidParameterValue alike."""
    domain = session.get_one(account_models.Domain, domain_id)
    found = []
    for entry in entries:
        account_name, group_name = entry.get("account"), entry.get("group")
        if not account_name or not group_name:
            raise errors.InvalidParameterValue("usersecuritygrouplist needs account and group")
        account = account_service.by_name(session, account_name, domain)
        group = None
        if account is not None and owned.reaches(session, caller, account.id):
            group = security_groups.named(session, account.id, group_name)
        if group is None:
            raise errors.InvalidParameterValue(
                f"Unable to find security group {group_name} for account {account_name}"
            )
        found.append(group)
    return found


def authorize(
    session: Session,
    group: models.SecurityGroup,
    direction: Direction,
    rule: RuleSpec,
    cidr_list: Sequence[str],
    groups: Sequence[models.SecurityGroup],
) -> list[models.SecurityGroupRule]:
    """Add the rule for each source (the ones the group has already are answered, not added
    again); the group is locked, the source groups locked shared (in id order)."""
    if not cidr_list and not groups:
        raise errors.InvalidParameterValue(
            "At least one cidr or at least one security group needs to be specified"
        )
    # In id order, so two authorizes naming each other's groups never wait in a cycle.
    for group_id in sorted({group.id, *(source.id for source in groups)}):
        security_groups.lock(session, group_id, exclusive=group_id == group.id)
    existing = rules_of(session, [group.id]).get(group.id, [])
    answered = []
    sources: list[tuple[str | None, int | None]] = [(cidr, None) for cidr in cidr_list]
    sources += [(None, source.id) for source in groups]
    for cidr, source_id in sources:
        same = [r for r in existing if _same(r, direction, rule, cidr, source_id)]
        if same:
            answered.append(same[0])
            continue
        row = models.SecurityGroupRule(
            security_group_id=group.id,
            type=direction.value,
            protocol=rule.protocol,
            start_port=rule.start_port,
            end_port=rule.end_port,
            allowed_ip_cidr=cidr,
            allowed_network_id=source_id,
            create_status="Active",
        )
        session.add(row)
        answered.append(row)
    session.flush()
    return answered


def _same(
    row: models.SecurityGroupRule,
    direction: Direction,
    rule: RuleSpec,
    cidr: str | None,
    source_id: int | None,
) -> bool:
    return (row.type, row.protocol, row.start_port, row.end_port) == (
        direction.value,
        rule.protocol,
        rule.start_port,
        rule.end_port,
    ) and (row.allowed_ip_cidr, row.allowed_network_id) == (cidr, source_id)


def rule_by_uuid(
    session: Session, caller: access.Caller, uuid: str, direction: Direction
) -> models.SecurityGroupRule:
    """The rule ``uuid`` names, of ``direction``, in a group the caller reaches; else like
    an unknown id."""
    rule = session.scalars(
        sa.select(models.SecurityGroupRule).where(
            models.SecurityGroupRule.uuid == uuid,
            models.SecurityGroupRule.type == direction.value,
        )
    ).first()
    if rule is not None:
        group = session.get_one(models.SecurityGroup, rule.security_group_id)
        if owned.reaches(session, caller, group.account_id):
            return rule
    raise errors.InvalidParameterValue(f"Unable to find {direction.value} rule with id {uuid}")


def revoke(session: Session, rule: models.SecurityGroupRule) -> None:
    """Remove the rule (already gone: InvalidParameterValue, as for an unknown id)."""
    deleted = session.execute(
        sa.delete(models.SecurityGroupRule).where(models.SecurityGroupRule.id == rule.id)
    ).rowcount  # type: ignore[attr-defined]
    if deleted != 1:
        raise errors.InvalidParameterValue(f"Unable to find rule with id {rule.uuid}")


def rules_of(
    session: Session, group_ids: Sequence[int]
) -> dict[int, list[models.SecurityGroupRule]]:
    """The rules of each group, by group id, in one query (rule id order)."""
    wanted = sorted(set(group_ids))
    if not wanted:
        return {}
    found: dict[int, list[models.SecurityGroupRule]] = {}
    rows = session.scalars(
        sa.select(models.SecurityGroupRule)
        .where(models.SecurityGroupRule.security_group_id.in_(wanted))
        .order_by(models.SecurityGroupRule.id)
    )
    for row in rows:
        found.setdefault(row.security_group_id, []).append(row)
    return found


def rules_for_vm(session: Session, vm_id: int) -> list[models.SecurityGroupRule]:
    """Every rule of every group VM ``vm_id`` is in (what its host programs), in one query."""
    return list(
        session.scalars(
            sa.select(models.SecurityGroupRule)
            .join(
                models.SecurityGroupVm,
                models.SecurityGroupVm.security_group_id
                == models.SecurityGroupRule.security_group_id,
            )
            .where(models.SecurityGroupVm.instance_id == vm_id)
            .order_by(models.SecurityGroupRule.id)
        )
    )
