"""Infrastructure rows made directly, for tests whose subject sits below the API."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cirrostack.db.models import infrastructure, storage


def zone_pod_cluster(
    session: Session, suffix: str = "1"
) -> tuple[infrastructure.DataCenter, infrastructure.HostPod, infrastructure.Cluster]:
    """A zone, a pod in it (10.0.0.0/24) and a cluster in the pod, flushed."""
    zone = infrastructure.DataCenter(name=f"zone{suffix}")
    session.add(zone)
    session.flush()
    pod = infrastructure.HostPod(
        name=f"pod{suffix}",
        data_center_id=zone.id,
        gateway="10.0.0.1",
        cidr_address="10.0.0.0",
        cidr_size=24,
    )
    session.add(pod)
    session.flush()
    cluster = infrastructure.Cluster(name=f"c{suffix}", pod_id=pod.id, data_center_id=zone.id)
    session.add(cluster)
    session.flush()
    return zone, pod, cluster


def nfs_pool(
    session: Session, zone: infrastructure.DataCenter, cluster: infrastructure.Cluster
) -> storage.StoragePool:
    """A cluster-scoped NFS primary storage pool row (no API creates pools yet); added, not
    committed."""
    pool = storage.StoragePool(
        name="pool",
        pool_type="NetworkFilesystem",
        host_address="10.0.0.2",
        path="/pool",
        data_center_id=zone.id,
        cluster_id=cluster.id,
    )
    session.add(pool)
    return pool
