"""Infrastructure rows made directly, for tests whose subject sits below the API."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cirrostack.db.models import infrastructure


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
