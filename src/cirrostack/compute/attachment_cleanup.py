"""What a removed account's attachments become (CloudStack's cleanupAccount): its key pairs
go, its instance groups are removed (their VMs leave them), and its security groups and
affinity groups that no VM is in go with their rules. Groups VMs are still in stay until the
VM work removes the VMs.

Called by ``accounts.accounts.remove_all`` in the deleting transaction, with the accounts
locked; plain SQL over the account ids, so a removal of many accounts costs a fixed number of
statements (one more when it has security groups to remove).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack.db.models import attachments as models


def remove_for_accounts(
    session: Session, account_ids: Sequence[int], now: datetime.datetime
) -> None:
    """Remove the attachments of ``account_ids`` that nothing else holds."""
    owned = list(account_ids)
    session.execute(sa.delete(models.SshKeyPair).where(models.SshKeyPair.account_id.in_(owned)))
    groups = sa.select(models.InstanceGroup.id).where(models.InstanceGroup.account_id.in_(owned))
    session.execute(
        sa.delete(models.InstanceGroupVm).where(models.InstanceGroupVm.group_id.in_(groups))
    )
    session.execute(
        sa.update(models.InstanceGroup)
        .where(models.InstanceGroup.account_id.in_(owned), models.InstanceGroup.removed.is_(None))
        .values(removed=now)
    )
    _remove_empty_security_groups(session, owned)
    session.execute(
        sa.delete(models.AffinityGroup).where(
            models.AffinityGroup.account_id.in_(owned),
            models.AffinityGroup.id.not_in(sa.select(models.AffinityGroupVm.affinity_group_id)),
        )
    )


def _remove_empty_security_groups(session: Session, owned: list[int]) -> None:
    """Groups no VM is in go with their rules and the rules that name them as a source."""
    group, rule = models.SecurityGroup, models.SecurityGroupRule
    ids = list(
        session.scalars(
            sa.select(group.id).where(
                group.account_id.in_(owned),
                group.id.not_in(sa.select(models.SecurityGroupVm.security_group_id)),
            )
        )
    )
    if not ids:
        return
    session.execute(
        sa.delete(rule).where(
            sa.or_(rule.security_group_id.in_(ids), rule.allowed_network_id.in_(ids))
        )
    )
    session.execute(sa.delete(group).where(group.id.in_(ids)))
