"""Hosts that come Up connect the pools of their scope, and local storage becomes a pool.

Called by the host monitor after each round (``connect``), outside any transaction: a short
read finds, for every Up routing host, the live pools of its scope it has no connection to
(and all of them for the hosts whose agent (re)started this round: a restarted agent lost its
mounts), the pairs are connected in parallel (ModifyStoragePoolCommand, no database), then each
pool's refs are written in a short transaction. A pool Initialized this way goes Up.

Local storage, as CloudStack does at host connect: a host that reports local storage
(``host.total_size`` > 0 from StartupRoutingAnswer.local_storage) in a zone with local storage
enabled (``data_center.is_local_storage_enabled``) gets one HOST-scope Filesystem pool named
``<host name> Local Storage`` at the host detail ``local.storage.path`` (default
``/var/lib/libvirt/images``, KVM's), created Initialized with its ref and connected like any
other pool.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from cirrostack.db import transactions
from cirrostack.db.models import infrastructure as infra
from cirrostack.db.models import storage as models
from cirrostack.infrastructure import agents as agents_module
from cirrostack.infrastructure import details
from cirrostack.protocol import storage as st
from cirrostack.states import machines
from cirrostack.storage import pool_hosts, pools

log = logging.getLogger(__name__)

LOCAL_PATH_DETAIL = "local.storage.path"
DEFAULT_LOCAL_PATH = "/var/lib/libvirt/images"
_CONNECTABLE = ("Initialized", "Up", "Disabled", "Maintenance", "ErrorInMaintenance")


@dataclass(frozen=True)
class _Pair:
    pool_id: int
    pool: st.PrimaryDataStoreTO
    target: agents_module.Target


def _in_scope(pool: models.StoragePool, host: infra.Host, refs: set[tuple[int, int]]) -> bool:
    scope = (pool.scope or "").upper()
    if scope == "HOST":
        return (pool.id, host.id) in refs
    if scope == "ZONE":
        same_hv = (pool.hypervisor or "").lower() == (host.hypervisor_type or "").lower()
        return pool.data_center_id == host.data_center_id and same_hv
    return pool.cluster_id is not None and pool.cluster_id == host.cluster_id


def ensure_local_pool(session: Session, host: infra.Host) -> models.StoragePool | None:
    """The host's local pool, created (Initialized, with its ref) when the host reports local
    storage in a zone that enables it; None otherwise."""
    zone = session.get(infra.DataCenter, host.data_center_id)
    if zone is None or not zone.is_local_storage_enabled or not (host.total_size or 0) > 0:
        return None
    existing = session.scalars(
        sa.select(models.StoragePool)
        .join(models.StoragePoolHostRef, models.StoragePoolHostRef.pool_id == models.StoragePool.id)
        .where(
            models.StoragePoolHostRef.host_id == host.id,
            models.StoragePool.scope == "HOST",
            models.StoragePool.removed.is_(None),
        )
    ).first()
    if existing is not None:
        return existing
    path = details.of_host(session, host.id).get(LOCAL_PATH_DETAIL) or DEFAULT_LOCAL_PATH
    pool = models.StoragePool(
        name=f"{host.name} Local Storage",
        pool_type=st.StoragePoolType.FILESYSTEM.value,
        host_address=host.private_ip_address or "localhost",
        path=path,
        data_center_id=host.data_center_id,
        pod_id=host.pod_id,
        cluster_id=host.cluster_id,
        scope="HOST",
        hypervisor=host.hypervisor_type,
        used_bytes=0,
        status=machines.StoragePoolStatus.Initialized.value,
        storage_provider_name=pools.PROVIDER,
    )
    session.add(pool)
    session.flush()
    session.add(models.StoragePoolHostRef(host_id=host.id, pool_id=pool.id, local_path=path))
    session.flush()
    return pool


def _pairs(session: Session, started: set[int]) -> list[_Pair]:
    hosts = list(
        session.scalars(
            sa.select(infra.Host).where(
                infra.Host.type == "Routing",
                infra.Host.status == "Up",
                infra.Host.removed.is_(None),
                infra.Host.guid.is_not(None),
            )
        )
    )
    for host in hosts:
        if host.id in started:
            ensure_local_pool(session, host)
    found = list(
        session.scalars(
            sa.select(models.StoragePool).where(
                models.StoragePool.removed.is_(None),
                models.StoragePool.status.in_(_CONNECTABLE),
            )
        )
    )
    refs = {
        (pool_id, host_id)
        for pool_id, host_id in session.execute(
            sa.select(models.StoragePoolHostRef.pool_id, models.StoragePoolHostRef.host_id)
        )
    }
    pairs: list[_Pair] = []
    objects: dict[int, st.PrimaryDataStoreTO] = {}
    for host in hosts:
        target: agents_module.Target | None = None
        for pool in found:
            if not _in_scope(pool, host, refs):
                continue
            fresh = pool.status == "Initialized" or host.id in started
            if (pool.id, host.id) in refs and not fresh:
                continue
            if pool.id not in objects:
                objects[pool.id] = pool_hosts.transfer_object(session, pool)
            target = target or agents_module.target_of(session, host)
            pairs.append(_Pair(pool.id, objects[pool.id], target))
    return pairs


def connect(
    sessions: sessionmaker[Session], agents: agents_module.Agents, started: Iterable[int] = ()
) -> int:
    """Connect every Up host to the pools of its scope it lacks (all of them for ``started``
    hosts); the number of connections written. Never raises (failures are logged)."""
    try:
        pairs = transactions.run(sessions, lambda s: _pairs(s, set(started)), name="host pools")
    except Exception:
        log.exception("cannot read the pools hosts should connect")
        return 0
    written = 0
    for pool_id in sorted({pair.pool_id for pair in pairs}):
        mine = [pair for pair in pairs if pair.pool_id == pool_id]
        answers = pool_hosts.exchange(agents, mine[0].pool, [pair.target for pair in mine])

        def write(
            session: Session,
            pool_id: int = pool_id,
            answers: list[pool_hosts.Connection] = answers,
        ) -> int:
            pool = session.get(models.StoragePool, pool_id)
            if pool is None or pool.removed is not None:
                return 0
            count = pool_hosts.record(session, pool, answers)
            if count and pool.status == "Initialized":
                pools.attached(session, pool)
            return count

        try:
            written += transactions.run(sessions, write, name=f"pool {pool_id} hosts")
        except Exception:
            log.exception("pool %s: cannot record its host connections", pool_id)
    return written
