"""A VM's NICs: the one seam between VMs and the network slice (``network.nics``).

``allocate`` runs in deployVirtualMachine's transaction: one NIC per network of ``networkids``
(device ids 0, 1, ...; the first is the default and takes ``ipaddress``), or one on the
account's default network (``nics.default_network``). A zone with no guest network the
account may use gives a VM with no NIC (the simulator needs none); CloudStack would create an
isolated network here, which needs a virtual router cirrostack does not run.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.accounts import access
from cirrostack.db.models import compute as models
from cirrostack.db.models import network as network_models
from cirrostack.network import networks, nics
from cirrostack.protocol import compute as protocol


def allocate(
    session: Session,
    caller: access.Caller,
    vm: models.VmInstance,
    network_uuids: Sequence[str],
    ip_address: str | None,
) -> list[network_models.Nic]:
    """The VM's NICs (see the module doc); raises InvalidParameterValue for a network the
    caller may not use or of another zone, InsufficientCapacity when no address is left."""
    chosen = [networks.reached(session, caller, uuid, "networkids") for uuid in network_uuids]
    if not chosen:
        found = nics.default_network(session, vm.data_center_id, vm.account_id)
        if found is None and ip_address is not None:
            raise errors.InvalidParameterValue(
                "ipaddress needs a network: specify networkids (no default network found)"
            )
        chosen = [found] if found is not None else []
    for network in chosen:
        if network.data_center_id != vm.data_center_id:
            raise errors.InvalidParameterValue(
                f"Network {network.uuid} is not in the VM's zone: choose a network of its zone"
            )
    return [
        nics.allocate(
            session,
            vm_id=vm.id,
            vm_type=vm.type,
            network=network,
            device_id=device,
            default=device == 0,
            requested_ip=ip_address if device == 0 else None,
        )
        for device, network in enumerate(chosen)
    ]


def release_all(session: Session, vm_id: int) -> None:
    """Every NIC of the VM removed, its addresses free again (failed deploy, expunge)."""
    for nic in nics.for_vms(session, [vm_id]).get(vm_id, []):
        nics.release(session, nic)


def transfer_objects(session: Session, vm_id: int) -> tuple[protocol.NicTO, ...]:
    """The VM's NICs for StartCommand, by device id."""
    listed = nics.for_vms(session, [vm_id]).get(vm_id, [])
    return tuple(
        _to(nic, session.get_one(network_models.Network, nic.network_id)) for nic in listed
    )


def _to(nic: network_models.Nic, network: network_models.Network) -> protocol.NicTO:
    return protocol.NicTO(
        uuid=nic.uuid,
        device_id=nic.device_id or 0,
        mac=nic.mac_address or "",
        ip=nic.ip4_address,
        netmask=nic.netmask,
        gateway=nic.gateway,
        dns1=network.dns1,
        dns2=network.dns2,
        broadcast_type=network.broadcast_domain_type,
        broadcast_uri=nic.broadcast_uri or network.broadcast_uri,
        isolation_uri=nic.isolation_uri,
        type=network.traffic_type,
        network_uuid=network.uuid,
        default_nic=nic.default_nic,
        mtu=nic.mtu,
    )
