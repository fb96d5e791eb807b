"""A VM row for the tests of what users attach to VMs (key pairs, groups, tags), inserted
directly: deploying VMs is another slice's work, and these tests need only the row."""

from __future__ import annotations

import itertools

import sqlalchemy as sa

from cirrostack.db.models import accounts, compute, guest_os, infrastructure, offerings
from tests.cloud import Cloud

_NUMBERS = itertools.count(1)


def vm(cloud: Cloud, account_name: str) -> tuple[int, str]:
    """A new Stopped user VM of account ``account_name``: (id, uuid)."""
    number = next(_NUMBERS)
    with cloud.sessions() as session:
        account = session.scalars(
            sa.select(accounts.Account).where(accounts.Account.account_name == account_name)
        ).one()
        zone = infrastructure.DataCenter(name=f"vz{number}")
        category = guest_os.GuestOsCategory(name=f"cat{number}")
        offering = offerings.ServiceOffering(name=f"so{number}")
        session.add_all([zone, category, offering])
        session.flush()
        os_row = guest_os.GuestOs(category_id=category.id, display_name=f"os{number}")
        session.add(os_row)
        session.flush()
        row = compute.VmInstance(
            name=f"vm{number}",
            instance_name=f"i-{account.id}-{number}-VM",
            type="User",
            vm_type="User",
            guest_os_id=os_row.id,
            service_offering_id=offering.id,
            data_center_id=zone.id,
            account_id=account.id,
            domain_id=account.domain_id,
            vnc_password="secret",
            state="Stopped",
        )
        session.add(row)
        session.commit()
        return row.id, row.uuid
