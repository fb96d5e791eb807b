"""The VM commands and their transfer objects, with CloudStack's names (reference §3.1).

StartCommand carries one ``VirtualMachineTO``: what the hypervisor needs to define and boot
the domain (CPU, RAM, the disks in device order, the NICs in device order). StopCommand and
RebootCommand name the VM by its instance name (``i-2-10-VM``), as the hypervisor knows it.
The power-state report travels in the ping's answer (``answers.PingAnswer.vm_states``).

Fields are snake_case forms of CloudStack's Java field names; speeds are MHz, RAM bytes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from cirrostack.protocol import messages
from cirrostack.protocol import storage as storage_protocol


class PowerState(enum.StrEnum):
    """``vm_instance.power_state`` values an agent reports (CloudStack's PowerState)."""

    POWER_ON = "PowerOn"
    POWER_OFF = "PowerOff"
    POWER_UNKNOWN = "PowerUnknown"
    POWER_REPORT_MISSING = "PowerReportMissing"


@dataclass(frozen=True, kw_only=True)
class NicTO(messages.TransferObject):
    """One guest NIC: ``broadcast_uri`` is ``vlan://100`` / ``vlan://untagged``; ``name`` the
    traffic label (the host's bridge)."""

    uuid: str
    device_id: int
    mac: str
    ip: str | None = None
    netmask: str | None = None
    gateway: str | None = None
    dns1: str | None = None
    dns2: str | None = None
    broadcast_type: str = "Vlan"
    broadcast_uri: str | None = None
    isolation_uri: str | None = None
    type: str = "Guest"
    name: str | None = None
    network_uuid: str | None = None
    default_nic: bool = False
    mtu: int | None = None


@dataclass(frozen=True, kw_only=True)
class VirtualMachineTO(messages.TransferObject):
    """A VM as a hypervisor defines it. ``min_speed``/``min_ram`` are the values divided by
    the cluster's overcommit ratios; ``max_*`` the offering's (reference §2.6)."""

    id: int
    name: str
    uuid: str
    type: str
    cpus: int
    speed: int
    min_speed: int
    max_speed: int
    min_ram: int
    max_ram: int
    host_name: str
    os: str
    vnc_password: str
    bootloader: str = "HVM"
    arch: str = "x86_64"
    boot_args: str = ""
    enable_ha: bool = False
    limit_cpu_use: bool = False
    disks: tuple[storage_protocol.DiskTO, ...] = ()
    nics: tuple[NicTO, ...] = ()
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class StartCommand(messages.Command):
    """Define and boot ``vm`` on the host (every disk must already exist on its pool)."""

    vm: VirtualMachineTO
    host_guid: str = ""
    execute_in_sequence: bool = False


@dataclass(frozen=True, kw_only=True)
class StopCommand(messages.Command):
    """Power off the domain ``vm_name`` (``forced``: destroy it without a guest shutdown)."""

    vm_name: str
    forced: bool = False
    execute_in_sequence: bool = False


@dataclass(frozen=True, kw_only=True)
class RebootCommand(messages.Command):
    """Reboot the running domain ``vm_name``."""

    vm_name: str
    execute_in_sequence: bool = False


@dataclass(frozen=True, kw_only=True)
class StartAnswer(messages.Answer):
    """The domain runs; ``vm`` is what was started (the agent may fill ``vnc`` details)."""

    vm: VirtualMachineTO


@dataclass(frozen=True, kw_only=True)
class StopAnswer(messages.Answer):
    """The domain is off (``platform``: the guest platform string, when known)."""

    vm_name: str
    platform: str = ""


@dataclass(frozen=True, kw_only=True)
class RebootAnswer(messages.Answer):
    """The domain rebooted."""

    vm_name: str


COMMANDS: tuple[type[messages.Command], ...] = (StartCommand, StopCommand, RebootCommand)
ANSWERS: tuple[type[messages.Answer], ...] = (StartAnswer, StopAnswer, RebootAnswer)
