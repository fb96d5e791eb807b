"""The host planner's filters: each answers why one host cannot take the VM, or None.

All run on every host (``pipeline.judge``) so a rejected host lists every reason, in
CloudStack's order (reference 2.1, 2.3): the avoid set and the requested host; the host's type,
status and resource state; disabled zone, pod or cluster (allowed for a root admin's VM when
``allow.admin.vm.on.disabled.resources``); hypervisor; host tags; CPU capability (cores and
MHz per core); free CPU and memory (the totals carry the cluster's over-commit); the cluster's
disable thresholds. Dedication is not checked: no dedication table exists yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cirrostack.allocators import host_candidates, host_requests, verdicts

Host = host_candidates.HostCandidate
Reason = verdicts.Reason
MIB = 1 << 20


@dataclass(frozen=True)
class Ask:
    """The request with what the filters read besides the host."""

    request: host_requests.HostRequest
    settings: host_candidates.PlannerSettings
    clusters: Mapping[int, host_candidates.ClusterLoad]

    def from_reservation(self, host: Host) -> bool:
        """The VM's last host still holds its reservation: memory and CPU both covered."""
        return (
            host.id == self.request.last_host_id
            and host.memory.reserved >= self.request.memory
            and host.cpu.reserved >= self.request.cpu_mhz
        )

    @property
    def thresholds_apply(self) -> bool:
        """``cluster.threshold.enabled``, or a first deploy (a VM that never ran has no last
        host), as CloudStack checks them for a VM still carrying its ``deployvm`` detail."""
        return self.settings.threshold_enabled or self.request.last_host_id is None


def avoided(host: Host, ask: Ask) -> Reason | None:
    if host.id in ask.request.avoid:
        return Reason("avoid", "in the avoid set of this request")
    return None


def scope(host: Host, ask: Ask) -> Reason | None:
    """Outside what the request names (only when an explanation judges the whole zone)."""
    request = ask.request
    if request.host_id is not None and host.id != request.host_id:
        return Reason("scope", "not the requested host")
    if request.cluster_id is not None and host.cluster_id != request.cluster_id:
        return Reason("scope", "not in the requested cluster")
    if request.pod_id is not None and host.pod_id != request.pod_id:
        return Reason("scope", "not in the requested pod")
    return None


def host_type(host: Host, ask: Ask) -> Reason | None:
    if host.type != host_candidates.ROUTING:
        return Reason("type", f"not a Routing host ({host.type})")
    return None


def state(host: Host, ask: Ask) -> Reason | None:
    if host.status != "Up":
        return Reason("state", f"not Up ({host.status})")
    if host.resource_state != "Enabled":
        return Reason("state", f"not Enabled ({host.resource_state})")
    return None


def allocation(host: Host, ask: Ask) -> Reason | None:
    """Disabled zone, pod or cluster: skipped unless a root admin's VM may use them."""
    if ask.request.root_admin and ask.settings.admin_on_disabled:
        return None
    for what, value in (
        ("zone", host.zone_state),
        ("pod", host.pod_state),
        ("cluster", host.cluster_state),
    ):
        if value is not None and value != "Enabled":
            return Reason("disabled", f"its {what} is {value}")
    return None


def hypervisor(host: Host, ask: Ask) -> Reason | None:
    wanted = ask.request.hypervisor
    if wanted is None or wanted.lower() in ("any", "none", ""):
        return None
    if (host.hypervisor or "").lower() != wanted.lower():
        return Reason("hypervisor", f"host runs {host.hypervisor}, the template needs {wanted}")
    return None


def tags(host: Host, ask: Ask) -> Reason | None:
    """Every offering host tag must be on the host (compared without case)."""
    missing = ask.request.tags - host.tags
    if missing:
        return Reason("host tags", f"host tags {sorted(host.tags)} lack {sorted(missing)}")
    return None


def cpu_capability(host: Host, ask: Ask) -> Reason | None:
    """CloudStack's checkIfHostHasCpuCapability: cores and MHz per core, not summed."""
    request = ask.request
    if request.cpus > host.cpus or request.speed > host.speed:
        return Reason(
            "cpu capability",
            f"{request.cpus}x{request.speed} MHz asked, the host has {host.cpus}x{host.speed} MHz",
        )
    return None


def cpu(host: Host, ask: Ask) -> Reason | None:
    if host.cpu.total == 0 and host.memory.total == 0:
        return Reason("capacity", "no capacity rows (the host has not connected yet)")
    if ask.from_reservation(host):
        return None
    request = ask.request
    if request.cpu_mhz > host.cpu.free:
        return Reason(
            "cpu",
            f"{request.cpus}x{request.speed} MHz asked, {max(host.cpu.free, 0)} MHz free of "
            f"{host.cpu.total}",
        )
    return None


def memory(host: Host, ask: Ask) -> Reason | None:
    if host.memory.total == 0 and host.cpu.total == 0:
        return None  # said once, by ``cpu``
    if ask.from_reservation(host):
        return None
    request = ask.request
    if request.memory > host.memory.free:
        return Reason(
            "memory",
            f"{_mib(request.memory)} asked, {_mib(max(host.memory.free, 0))} free of "
            f"{_mib(host.memory.total)}",
        )
    return None


def cluster_threshold(host: Host, ask: Ask) -> Reason | None:
    """(Sum of used + reserved + asked) / sum of totals of the cluster's Enabled rows above
    ``cluster.cpu/memory.allocated.capacity.disablethreshold``: the cluster is skipped."""
    if host.cluster_id is None or not ask.thresholds_apply or ask.from_reservation(host):
        return None
    load = ask.clusters.get(host.cluster_id)
    if load is None:
        return None
    request, found = ask.request, ask.settings
    for what, committed, total, asked, limit, key in (
        ("cpu", load.cpu_committed, load.cpu_total, request.cpu_mhz,
         found.cpu_threshold.get(host.cluster_id, 1.0),
         "cluster.cpu.allocated.capacity.disablethreshold"),
        ("memory", load.memory_committed, load.memory_total, request.memory,
         found.memory_threshold.get(host.cluster_id, 1.0),
         "cluster.memory.allocated.capacity.disablethreshold"),
    ):  # fmt: skip
        if total > 0 and (committed + asked) / total > limit:
            share = (committed + asked) / total
            return Reason(
                "cluster threshold",
                f"cluster {what} {share:.0%} allocated with this VM > {limit:.0%} ({key})",
            )
    return None


def _mib(amount: int) -> str:
    return f"{amount // MIB} MiB"


ORDER = (
    avoided,
    scope,
    host_type,
    state,
    allocation,
    hypervisor,
    tags,
    cpu_capability,
    cpu,
    memory,
    cluster_threshold,
)
