"""The demo cloud's guest networking: a physical network and a shared network any account uses.

The physical network carries Guest and Management traffic on the hosts' ``cloudbr0``; the
shared network ``Sandbox-simulator-shared`` (VLAN 100, 10.1.1.0/24, gateway 10.1.1.1,
addresses .100-.199) is Domain-wide in ROOT with subdomain access, so a VM
of any account deploys on it without naming a network (``network.nics.default_network``).
Its offering is QuickCloudNoServices: no router, so it promises no DHCP or DNS.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from cirrostack.accounts import access
from cirrostack.db.models import accounts as account_models
from cirrostack.db.models import infrastructure
from cirrostack.network import networks, offerings, physical

PHYSICAL_NETWORK = "Sandbox-simulator-physical"
NETWORK = "Sandbox-simulator-shared"
OFFERING = "QuickCloudNoServices"
VLAN = "100"
GATEWAY, NETMASK = "10.1.1.1", "255.255.255.0"
START_IP, END_IP = "10.1.1.100", "10.1.1.199"


def ensure(session: Session, admin: access.Caller, zone: infrastructure.DataCenter) -> None:
    """Create the demo zone's physical network (Enabled) and its shared guest network."""
    carrier = physical.create(
        session,
        physical.NewPhysicalNetwork(
            PHYSICAL_NETWORK, zone, vlan="100-199", isolation_methods=["VLAN"]
        ),
    )
    for kind in (physical.TrafficType.Guest, physical.TrafficType.Management):
        physical.add_traffic_type(session, carrier, kind, physical.Labels(kvm="cloudbr0"))
    physical.update(session, carrier, physical.Changes(state="Enabled"))
    offering = offerings.by_unique_name(session, OFFERING)
    if offering is None:
        return
    root = session.get_one(account_models.Domain, 1)
    owner = networks.Owner(
        session.get_one(account_models.Account, admin.account_id),
        root,
        networks.AclType.Domain,
        subdomain_access=True,
    )
    networks.create(
        session,
        admin,
        networks.NewNetwork(
            name=NETWORK,
            display_text=NETWORK,
            offering=offering,
            zone=zone,
            owner=owner,
            physical_network=carrier,
            vlan=VLAN,
            gateway=GATEWAY,
            netmask=NETMASK,
            start_ip=START_IP,
            end_ip=END_IP,
        ),
    )
