"""The network offerings CloudStack seeds at install, under its unique names.

Each entry: unique name, display text, traffic type, guest type, flags, and its services with
their providers exactly as CloudStack maps them. cirrostack runs no virtual router, so the
router's services are recorded (clients look for these offerings and their service lists) but
not provided: docs/networks.md says so. ``ensure`` adds whatever is missing, once per start.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack.db.models import network as models
from cirrostack.network import services

S = services.Service
P = services.Provider
Services = Sequence[tuple[services.Service, services.Provider]]

_VR = P.VirtualRouter
_BASIC: Services = ((S.Dhcp, _VR), (S.Dns, _VR), (S.UserData, _VR))
_SOURCE_NAT: Services = (
    *_BASIC,
    *((service, _VR) for service in (S.Firewall, S.Gateway, S.Lb, S.SourceNat, S.StaticNat)),
    (S.PortForwarding, _VR),
    (S.Vpn, _VR),
)
_VPC: Services = tuple(
    (service, P.VpcVirtualRouter)
    for service in (
        S.Dhcp, S.Dns, S.UserData, S.NetworkACL, S.Gateway, S.Lb, S.SourceNat, S.StaticNat,
        S.PortForwarding, S.Vpn,
    )
)  # fmt: skip


@dataclass(frozen=True)
class Seed:
    """One seeded offering; ``flags`` are further column values."""

    name: str
    display_text: str
    guest_type: str | None
    services: Services = ()
    traffic_type: str = "Guest"
    availability: str = "Optional"
    flags: dict[str, bool] = field(default_factory=dict)


_SPECIFY = {"specify_vlan": True, "specify_ip_ranges": True}
_SYSTEM = {"system_only": True}

SEEDS: tuple[Seed, ...] = (
    Seed("System-Public-Network", "System Offering for System-Public-Network", None,
         traffic_type="Public", flags=_SYSTEM),
    Seed("System-Management-Network", "System Offering for System-Management-Network", None,
         traffic_type="Management", flags=_SYSTEM),
    Seed("System-Control-Network", "System Offering for System-Control-Network", None,
         traffic_type="Control", flags=_SYSTEM),
    Seed("System-Storage-Network", "System Offering for System-Storage-Network", None,
         traffic_type="Storage", flags=_SYSTEM),
    Seed("DefaultSharedNetworkOfferingWithSGService",
         "Offering for Shared Security group enabled networks", "Shared",
         (*_BASIC, (S.SecurityGroup, P.SecurityGroupProvider)), flags=_SPECIFY),
    Seed("DefaultSharedNetworkOffering", "Offering for Shared networks", "Shared", _BASIC,
         flags=_SPECIFY),
    Seed("DefaultIsolatedNetworkOfferingWithSourceNatService",
         "Offering for Isolated networks with Source Nat service enabled", "Isolated",
         _SOURCE_NAT, availability="Required",
         flags={"public_lb": True, "supports_vm_autoscaling": True}),
    Seed("DefaultIsolatedNetworkOffering",
         "Offering for Isolated networks with no Source Nat service", "Isolated", _BASIC,
         flags=_SPECIFY),
    Seed("DefaultIsolatedNetworkOfferingForVpcNetworks",
         "Offering for Isolated VPC networks with Source Nat service enabled", "Isolated",
         _VPC, flags={"for_vpc": True, "public_lb": True}),
    Seed("DefaultIsolatedNetworkOfferingForVpcNetworksNoLB",
         "Offering for Isolated VPC networks with Source Nat service enabled and LB service "
         "disabled", "Isolated", tuple(pair for pair in _VPC if pair[0] is not S.Lb),
         flags={"for_vpc": True}),
    Seed("DefaultL2NetworkOffering", "Offering for L2 networks", "L2"),
    Seed("DefaultL2NetworkOfferingVlan", "Offering for L2 networks VLAN", "L2",
         flags={"specify_vlan": True}),
    Seed("DefaultL2NetworkOfferingConfigDrive",
         "Offering for L2 networks with config drive user data", "L2",
         ((S.UserData, P.ConfigDrive),)),
    Seed("DefaultL2NetworkOfferingConfigDriveVlan",
         "Offering for L2 networks with config drive user data VLAN", "L2",
         ((S.UserData, P.ConfigDrive),), flags={"specify_vlan": True}),
    Seed("QuickCloudNoServices", "Offering for Shared networks with no services", "Shared",
         flags=_SPECIFY),
)  # fmt: skip


def ensure(session: Session) -> None:
    """Insert the seeded offerings that are missing (by unique name); the caller commits."""
    present = set(
        session.scalars(
            sa.select(models.NetworkOffering.unique_name).where(
                models.NetworkOffering.unique_name.in_([seed.name for seed in SEEDS])
            )
        )
    )
    for sort_key, seed in enumerate(SEEDS):
        if seed.name not in present:
            _insert(session, seed, sort_key)
    session.flush()


def _insert(session: Session, seed: Seed, sort_key: int) -> None:
    offering = models.NetworkOffering(
        name=seed.name,
        unique_name=seed.name,
        display_text=seed.display_text,
        traffic_type=seed.traffic_type,
        guest_type=seed.guest_type,
        state="Enabled",
        availability=seed.availability,
        default=True,
        sort_key=sort_key,
        egress_default_policy=seed.guest_type == "Isolated",
        **seed.flags,
    )
    session.add(offering)
    session.flush()
    for service, provider in seed.services:
        session.add(
            models.NetworkOfferingService(
                network_offering_id=offering.id, service=service.value, provider=provider.value
            )
        )
