"""Answers an agent returns, one per command (plus UnsupportedAnswer for any it does not know)."""

from __future__ import annotations

from dataclasses import dataclass, field

from cirrostack.protocol import messages


@dataclass(frozen=True, kw_only=True)
class StartupRoutingAnswer(messages.Answer):
    """A hypervisor host's report of itself (CloudStack's StartupRoutingCommand content).

    ``guid`` is the agent's identity; the server refuses a report whose guid is not the host's.
    Sizes are bytes, ``speed`` is MHz per core.
    """

    guid: str
    name: str
    hypervisor_type: str
    hypervisor_version: str
    agent_version: str
    cpus: int
    cpu_sockets: int
    speed: int
    memory: int
    dom0_memory: int
    local_storage: int
    private_ip_address: str
    private_netmask: str | None = None
    private_mac_address: str | None = None
    arch: str = "x86_64"
    capabilities: str = "hvm"


@dataclass(frozen=True, kw_only=True)
class ReadyAnswer(messages.Answer):
    """The agent is ready to take work."""


@dataclass(frozen=True, kw_only=True)
class PingAnswer(messages.Answer):
    """Alive; ``guid`` lets the server notice a different agent answering at the address.

    ``vm_states`` is the host's power-state report (CloudStack's PingRoutingCommand
    ``hostVmStateReport``): the domains it runs, by instance name, with their power state
    (``compute.PowerState`` values). Only powered-on domains are listed, as KVM does.
    """

    guid: str
    vm_states: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class MaintainAnswer(messages.Answer):
    """Maintenance acknowledged; ``will_migrate`` says whether the host still runs VMs."""

    will_migrate: bool = False


@dataclass(frozen=True, kw_only=True)
class SimulatedCopyAnswer(messages.Answer):
    """The copy is complete: ``size`` bytes are at ``destination``."""

    destination: str
    size: int


@dataclass(frozen=True, kw_only=True)
class CancelAnswer(messages.Answer):
    """``found`` says whether the command to cancel was running (False: unknown or done)."""

    command_id: str
    found: bool


@dataclass(frozen=True, kw_only=True)
class CancelledAnswer(messages.Answer):
    """The command was cancelled and what it started was cleaned up (``result`` False)."""

    result: bool = False


@dataclass(frozen=True, kw_only=True)
class VersionRefused(messages.Answer):
    """The agent does not speak the command's protocol version; ``spoken`` lists those it
    does. A protocol error, not a failure of the work (``result`` False)."""

    result: bool = False
    spoken: tuple[int, ...] = ()


@dataclass(frozen=True, kw_only=True)
class UnsupportedAnswer(messages.Answer):
    """The agent has no handler for the command (``result`` is always False)."""

    result: bool = False


ALL: tuple[type[messages.Answer], ...] = (
    StartupRoutingAnswer,
    ReadyAnswer,
    PingAnswer,
    MaintainAnswer,
    SimulatedCopyAnswer,
    CancelAnswer,
    CancelledAnswer,
    VersionRefused,
    UnsupportedAnswer,
)
