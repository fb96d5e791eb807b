"""Network service and provider names, as CloudStack spells them.

``PROVIDER_SERVICES`` is what each provider seeded on a physical network can provide (its
``*_service_provided`` columns and listNetworkServiceProviders' ``servicelist``).
"""

from __future__ import annotations

import enum


class Service(enum.StrEnum):
    """Network.Service."""

    Vpn = "Vpn"
    Dhcp = "Dhcp"
    Dns = "Dns"
    Gateway = "Gateway"
    Firewall = "Firewall"
    SourceNat = "SourceNat"
    Lb = "Lb"
    StaticNat = "StaticNat"
    PortForwarding = "PortForwarding"
    UserData = "UserData"
    SecurityGroup = "SecurityGroup"
    NetworkACL = "NetworkACL"


class Provider(enum.StrEnum):
    """Network.Provider (the ones a physical network is seeded with)."""

    VirtualRouter = "VirtualRouter"
    VpcVirtualRouter = "VpcVirtualRouter"
    InternalLbVm = "InternalLbVm"
    ConfigDrive = "ConfigDrive"
    SecurityGroupProvider = "SecurityGroupProvider"


_S = Service
_ROUTER = (
    _S.Vpn, _S.Dhcp, _S.Dns, _S.Gateway, _S.Firewall, _S.SourceNat, _S.Lb, _S.StaticNat,
    _S.PortForwarding, _S.UserData,
)  # fmt: skip

#: The services each seeded provider can give, in CloudStack's order.
PROVIDER_SERVICES: dict[Provider, tuple[Service, ...]] = {
    Provider.VirtualRouter: _ROUTER,
    Provider.VpcVirtualRouter: (*_ROUTER, _S.NetworkACL),
    Provider.InternalLbVm: (_S.Lb,),
    Provider.ConfigDrive: (_S.UserData,),
    Provider.SecurityGroupProvider: (_S.SecurityGroup,),
}

#: Seeded provider states: CloudStack enables the router providers once configured; the
#: others start Enabled (ConfigDrive, SecurityGroupProvider) or Disabled (InternalLbVm).
INITIAL_STATE: dict[Provider, str] = {
    Provider.VirtualRouter: "Disabled",
    Provider.VpcVirtualRouter: "Disabled",
    Provider.InternalLbVm: "Disabled",
    Provider.ConfigDrive: "Enabled",
    Provider.SecurityGroupProvider: "Enabled",
}

#: The column of ``physical_network_service_providers`` saying a service is provided.
COLUMN: dict[Service, str] = {
    _S.Vpn: "vpn_service_provided",
    _S.Dhcp: "dhcp_service_provided",
    _S.Dns: "dns_service_provided",
    _S.Gateway: "gateway_service_provided",
    _S.Firewall: "firewall_service_provided",
    _S.SourceNat: "source_nat_service_provided",
    _S.Lb: "load_balance_service_provided",
    _S.StaticNat: "static_nat_service_provided",
    _S.PortForwarding: "port_forwarding_service_provided",
    _S.UserData: "user_data_service_provided",
    _S.SecurityGroup: "security_group_service_provided",
    _S.NetworkACL: "networkacl_service_provided",
}

#: Services cirrostack really provides without routers: UserData through ConfigDrive only.
HONEST = frozenset({(Service.UserData, Provider.ConfigDrive)})


def service(text: str) -> Service | None:
    """The service ``text`` names, ignoring case; None if unknown."""
    for known in Service:
        if known.value.lower() == text.strip().lower():
            return known
    return None


def provider(text: str) -> Provider | None:
    """The provider ``text`` names, ignoring case; None if unknown."""
    for known in Provider:
        if known.value.lower() == text.strip().lower():
            return known
    return None
