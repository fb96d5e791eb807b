"""The power states a host's ping reports (``PingAnswer.vm_states``), written on its VMs.

Called by the host monitor in the short write that records an answered ping. A VM the report
names is PowerOn on that host; a VM the host was running (``power_host``) that the report no
longer names is PowerOff (KVM reports only powered-on domains). Only the power columns are
written, never ``state``: acting on a report (CloudStack's out-of-band sync) is not done yet.
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack.db import base
from cirrostack.db.models import compute as models
from cirrostack.protocol import compute as protocol


def record(session: Session, host_id: int, reported: Mapping[str, str]) -> None:
    """Two UPDATEs whatever the number of VMs: the reported ones, then the missing ones."""
    vm = models.VmInstance
    now = base.utcnow().replace(microsecond=0)
    live = sa.and_(vm.removed.is_(None), vm.type == "User")
    if reported:
        session.execute(
            sa.update(vm)
            .where(live, vm.instance_name.in_(list(reported)))
            .values(
                power_state=protocol.PowerState.POWER_ON.value,
                power_host=host_id,
                power_state_update_time=now,
                power_state_update_count=vm.power_state_update_count + 1,
            )
            .execution_options(synchronize_session=False)
        )
    session.execute(
        sa.update(vm)
        .where(
            live,
            vm.power_host == host_id,
            vm.power_state == protocol.PowerState.POWER_ON.value,
            vm.instance_name.not_in(list(reported) or [""]),
        )
        .values(
            power_state=protocol.PowerState.POWER_OFF.value,
            power_state_update_time=now,
            power_state_update_count=0,
        )
        .execution_options(synchronize_session=False)
    )
