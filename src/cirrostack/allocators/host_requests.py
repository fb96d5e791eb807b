"""What a caller asks the host planner for: one VM's CPU and memory somewhere in a zone."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HostRequest:
    """A VM to place in ``zone_id``: ``cpus`` cores of ``speed`` MHz and ``memory`` bytes.

    ``hypervisor`` is the template's (None: any); ``host_tags`` the service offering's host
    tag(s), comma separated, every one needed. ``pod_id``/``cluster_id`` narrow the search,
    ``host_id`` (an admin's ``hostid``) allows that host only. ``last_host_id`` is tried first
    and, when its reservation covers the VM, claimed from the reservation. ``avoid`` holds
    host ids ruled out by the caller (retries). ``root_admin``: the owner may use disabled
    zones, pods and clusters when ``allow.admin.vm.on.disabled.resources`` says so.
    """

    zone_id: int
    cpus: int  # cores
    speed: int  # MHz per core
    memory: int  # bytes
    account_id: int
    domain_id: int
    hypervisor: str | None = None
    host_tags: str | None = None
    pod_id: int | None = None
    cluster_id: int | None = None
    host_id: int | None = None
    last_host_id: int | None = None
    avoid: frozenset[int] = frozenset()
    vm_id: int | None = None
    root_admin: bool = False

    @property
    def cpu_mhz(self) -> int:
        """What the VM counts on a host's CPU row: cores x MHz."""
        return self.cpus * self.speed

    @property
    def tags(self) -> frozenset[str]:
        """The offering's host tags, lower-cased (tags compare without case)."""
        text = self.host_tags or ""
        return frozenset(tag.strip().lower() for tag in text.split(",") if tag.strip())
