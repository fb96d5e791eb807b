"""In which order suitable hosts are tried (reference 2.2-2.3).

Clusters first (FirstFitPlanner): by aggregate free capacity of the kind
``host.capacityType.to.order.clusters`` names (CPU MHz or RAM bytes: sum of totals minus used
and reserved of the cluster's Enabled rows), most free first. ``vm.allocation.algorithm`` then
orders within a cluster and may re-rank the clusters:

    random, userconcentratedpod_random     shuffled (a secure generator; ``seed`` for tests)
    firstfit, userconcentratedpod_firstfit database order (host id)
    firstfitleastconsumed                  most free capacity (same kind) first
    userdispersing                         clusters and hosts by the owner's VM count, fewest
                                           first (UserDispersingPlanner, weight 1)
    userconcentratedpod_*                  clusters in pods where the owner has VMs first

The VM's last host goes first when it passes every filter (``hosts.decide``).
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence

from cirrostack.allocators import host_candidates

Host = host_candidates.HostCandidate
Loaded = host_candidates.Loaded


def ordered(loaded: Loaded, seed: int | None = None) -> list[Host]:
    """``loaded.hosts`` in the order they are tried."""
    algorithm = loaded.settings.algorithm
    shuffle = random.Random(seed) if seed is not None else secrets.SystemRandom()
    by_cluster: dict[int | None, list[Host]] = {}
    for host in loaded.hosts:
        by_cluster.setdefault(host.cluster_id, []).append(host)
    result: list[Host] = []
    for cluster_id in _clusters(loaded, list(by_cluster)):
        mine = sorted(by_cluster[cluster_id], key=lambda host: host.id)
        if algorithm in ("random", "userconcentratedpod_random"):
            shuffle.shuffle(mine)
        elif algorithm == "firstfitleastconsumed":
            mine.sort(key=lambda host: -free_of(loaded, host))
        elif algorithm == "userdispersing":
            mine.sort(key=lambda host: loaded.vms_by_host.get(host.id, 0))
        result.extend(mine)
    return result


def free_of(loaded: Loaded, host: Host) -> int:
    """The host's free capacity of the ordering kind (CPU MHz or RAM bytes)."""
    return host.memory.free if loaded.settings.order_clusters_by == "RAM" else host.cpu.free


def cluster_free(loaded: Loaded, cluster_id: int | None) -> int:
    """The cluster's aggregate free capacity of the ordering kind."""
    load = loaded.clusters.get(cluster_id) if cluster_id is not None else None
    if load is None:
        return 0
    if loaded.settings.order_clusters_by == "RAM":
        return load.memory_total - load.memory_committed
    return load.cpu_total - load.cpu_committed


def _clusters(loaded: Loaded, cluster_ids: Sequence[int | None]) -> list[int | None]:
    algorithm = loaded.settings.algorithm
    pods = {host.cluster_id: host.pod_id for host in loaded.hosts}
    counts: dict[int | None, int] = {}
    for host in loaded.hosts:
        counts[host.cluster_id] = counts.get(host.cluster_id, 0) + loaded.vms_by_host.get(
            host.id, 0
        )

    def key(cluster_id: int | None) -> tuple[int, int, int, int]:
        unclustered = 1 if cluster_id is None else 0
        first = 0
        if algorithm == "userdispersing":
            first = counts.get(cluster_id, 0)
        elif algorithm.startswith("userconcentratedpod"):
            pod = pods.get(cluster_id)
            first = 0 if pod is not None and loaded.vms_by_pod.get(pod, 0) > 0 else 1
        return (unclustered, first, -cluster_free(loaded, cluster_id), cluster_id or 0)

    return sorted(cluster_ids, key=key)
