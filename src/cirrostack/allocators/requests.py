"""What a caller asks the allocator for: one volume's placement."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class VolumeRequest:
    """A volume to place in ``zone_id``; narrower places (pod, cluster, host) when known.

    ``tags`` are the disk offering's storage tags; ``template_size`` (or, when 0, the
    template's virtual size) counts as asking on pools that do not hold the template yet
    (#14031). ``avoid`` holds pool ids the caller has ruled out.
    """

    zone_id: int
    size: int
    disk_offering_id: int | None
    tags: tuple[str, ...]
    use_local_storage: bool
    provisioning_type: str = "thin"
    hypervisor: str | None = None
    pod_id: int | None = None
    cluster_id: int | None = None
    host_id: int | None = None
    template_id: int | None = None
    template_size: int = 0
    account_id: int | None = None
    avoid: frozenset[int] = frozenset()
    volume_type: str = "DATADISK"
    min_iops: int | None = None
