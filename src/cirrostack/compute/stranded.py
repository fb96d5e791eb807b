"""The reaper's undo for a VM whose start job died (``states.recovery``): the VM is back in
Stopped (the rule's OperationFailed), so the CPU and RAM its start claimed on the host are
given back and the host cleared, in the same savepoint."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from cirrostack.compute import vm_capacity


def vm_start(session: Session, vm: Any) -> None:
    """A VM recovered from Starting: its claim on ``host_id`` released, on no host."""
    if vm.host_id is not None:
        vm_capacity.release_used(session, vm, vm.host_id)
    vm.host_id = None
    session.flush()
