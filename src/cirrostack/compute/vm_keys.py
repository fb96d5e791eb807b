"""The SSH key pairs a VM is deployed with (deployVirtualMachine ``keypair``/``keypairs``).

CloudStack keeps them on the VM, not by reference: the public keys in the hidden detail
``SSH.PublicKey`` (one per line) and the pairs' names in ``SSH.KeyPairNames`` (the VM answer's
``keypairs``), so deleting a key pair later changes nothing on the VMs given it. Names are the
owner's pairs, found regardless of case; a missing or foreign one is refused with CloudStack's
"A key pair with name '...' was not found." and nothing is recorded.

The keys are recorded and shown; handing them to the guest needs the config drive (an ISO the
agent builds), which does not exist yet: docs/vms.md says so.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.compute import keypairs
from cirrostack.db.models import compute as models

PUBLIC_KEY_DETAIL = "SSH.PublicKey"
NAMES_DETAIL = "SSH.KeyPairNames"
#: ``user_vm_details.value`` holds 5,120 characters.
_MOST = 5120


def names_of(keypair: str | None, more: Iterable[str] | None) -> list[str]:
    """The names asked for, each once, in the order given (``keypair`` first)."""
    asked = [keypair] if keypair else []
    asked += [name for name in more or () if name]
    seen: dict[str, str] = {}
    for name in asked:
        seen.setdefault(name.lower(), name)
    return list(seen.values())


def give(session: Session, vm: models.VmInstance, names: list[str]) -> None:
    """Record the key pairs ``names`` (the VM owner's) on the VM."""
    if not names:
        return
    pairs = [keypairs.by_name(session, vm.account_id, name) for name in names]
    public = "\n".join(pair.public_key for pair in pairs)
    if len(public) > _MOST:
        raise errors.InvalidParameterValue(
            f"keypairs: the public keys of {len(pairs)} key pairs exceed {_MOST} characters"
        )
    shown = ",".join(pair.keypair_name for pair in pairs)
    session.add_all(
        [
            models.UserVmDetail(vm_id=vm.id, name=PUBLIC_KEY_DETAIL, value=public, display=False),
            models.UserVmDetail(vm_id=vm.id, name=NAMES_DETAIL, value=shown, display=False),
        ]
    )
