"""One host placement among 1,000 hosts in 50 clusters, beside one pool placement.

    .venv/bin/python bench/bench_host_planner.py [--clusters 50] [--per-cluster 20]
                                                 [--backend sqlite] [--repeat 25]

The world is built with Core inserts (no API): one zone and pod, ``--clusters`` KVM clusters
of ``--per-cluster`` Up, Enabled routing hosts with their MEMORY, CPU and CPU_CORE capacity
rows (used varying per host), a host tag on every other host; and, for comparison in the same
run and database, the storage allocator's bench world (``bench/allocator.py``) with as many
pools in as many clusters. After WARM runs, the median over ``--repeat`` runs of:

- host place: ``hosts.place`` for a 2x1000 MHz, 2 GiB VM with the host tag, zone-wide (every
  host judged: the planner has no cluster to narrow to), in a new session; rolled back so
  every run sees the same world;
- host explain: ``hosts.decide(every_host=True)`` (explainHostPlacement's case);
- pool place: ``pools.place`` for a 10 GiB volume in one cluster, rolled back.

For each: wall time, this process's CPU time, and the SQL statements one run issues.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

import allocator as pool_bench
import world as bench_world

from cirrostack.allocators import hosts, pools
from cirrostack.db.models import capacity, infrastructure

GIB = 1 << 30
REPEAT = 25
WARM = 6


def build(engine: sa.Engine, clusters: int, per_cluster: int) -> int:
    """The zone's id: ``clusters`` x ``per_cluster`` hosts with their capacity rows."""
    with engine.begin() as connection:
        zone = connection.execute(
            sa.insert(infrastructure.DataCenter).values(
                name="hosts", uuid="00000000-0000-4000-8000-00000000000a"
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        pod = connection.execute(
            sa.insert(infrastructure.HostPod).values(
                name="hpod", data_center_id=zone, gateway="10.1.0.1", cidr_address="10.1.0.0",
                cidr_size=16, uuid="00000000-0000-4000-8000-00000000000b",
            )
        ).inserted_primary_key[0]  # type: ignore[index]  # fmt: skip
        connection.execute(
            sa.insert(infrastructure.Cluster),
            [
                {"name": f"hc{i}", "pod_id": pod, "data_center_id": zone,
                 "hypervisor_type": "KVM", "uuid": f"00000000-0000-4000-a000-{i:012d}"}
                for i in range(clusters)
            ],
        )  # fmt: skip
        cluster_ids = list(
            connection.scalars(
                sa.select(infrastructure.Cluster.id)
                .where(infrastructure.Cluster.data_center_id == zone)
                .order_by(infrastructure.Cluster.id)
            )
        )
        connection.execute(
            sa.insert(infrastructure.Host),
            [_host(zone, pod, cluster_id, c * per_cluster + s)
             for c, cluster_id in enumerate(cluster_ids) for s in range(per_cluster)],
        )  # fmt: skip
        found = list(
            connection.execute(
                sa.select(infrastructure.Host.id, infrastructure.Host.cluster_id).where(
                    infrastructure.Host.data_center_id == zone
                )
            )
        )
        rows = []
        for ident, cluster_id in found:
            share = ident % 7
            for kind, used, total in (
                (0, share * 8 * GIB, 64 * GIB),
                (1, share * 4000, 32 * 2000),
                (90, share * 2, 32),
            ):
                rows.append(
                    {"host_id": ident, "data_center_id": zone, "pod_id": pod,
                     "cluster_id": cluster_id, "used_capacity": used, "reserved_capacity": 0,
                     "total_capacity": total, "capacity_type": kind,
                     "capacity_state": "Enabled"}
                )  # fmt: skip
        connection.execute(sa.insert(capacity.HostCapacity), rows)
        connection.execute(
            sa.insert(infrastructure.HostTag),
            [{"host_id": ident, "tag": "fast"} for ident, _ in found if ident % 2],
        )
    return int(zone)


def _host(zone: int, pod: int, cluster: int, number: int) -> dict[str, Any]:
    return {
        "name": f"h{number}", "type": "Routing", "status": "Up", "resource_state": "Enabled",
        "data_center_id": zone, "pod_id": pod, "cluster_id": cluster,
        "hypervisor_type": "KVM", "cpus": 32, "speed": 2000, "ram": 64 * GIB,
        "private_ip_address": f"10.1.{number // 256}.{number % 256}", "version": "4.20",
        "uuid": f"00000000-0000-4000-b000-{number:012d}", "guid": f"host-{number}",
    }  # fmt: skip


@contextmanager
def counted(engine: sa.Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def measured(run: Callable[[], object], repeat: int, engine: sa.Engine) -> tuple[float, float, int]:
    """Median wall ms, median CPU ms, statements of one run."""
    for _ in range(WARM):
        run()
    with counted(engine) as statements:
        run()
    walls, cpus = [], []
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        run()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls) * 1000, statistics.median(cpus) * 1000, len(statements)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=50)
    parser.add_argument("--per-cluster", type=int, default=20)
    parser.add_argument("--backend", default="sqlite", choices=("sqlite", "postgresql", "mariadb"))
    parser.add_argument("--repeat", type=int, default=REPEAT)
    options = parser.parse_args()
    with bench_world.database(options.backend) as url:
        bench = bench_world.open_world(url)
        zone = build(bench.engine, options.clusters, options.per_cluster)
        pool_zone, pool_cluster = pool_bench.build(
            bench.engine, options.clusters, options.per_cluster
        )
        pool_bench.analyze(bench.engine)
        vm = hosts.HostRequest(
            zone_id=zone, cpus=2, speed=1000, memory=2 * GIB, account_id=2, domain_id=1,
            hypervisor="KVM", host_tags="fast",
        )  # fmt: skip
        volume = pools.VolumeRequest(
            zone_id=pool_zone, size=10 * GIB, disk_offering_id=None, tags=("ssd",),
            use_local_storage=False, hypervisor="KVM", cluster_id=pool_cluster, account_id=2,
        )  # fmt: skip
        seen: list[object] = []

        def host_place() -> None:
            with bench.sessions() as session:
                seen.append(hosts.place(session, vm).decision)
                session.rollback()

        def host_explain() -> None:
            with bench.sessions() as session:
                decision = hosts.decide(session, vm, every_host=True)
                decision.summary()

        def pool_place() -> None:
            with bench.sessions() as session:
                pools.place(session, volume, seed=1)
                session.rollback()

        total = options.clusters * options.per_cluster
        for label, run in (
            (f"host place ({total} hosts)", host_place),
            (f"host explain ({total} hosts)", host_explain),
            (f"pool place (one cluster of {options.per_cluster} pools)", pool_place),
        ):
            wall, cpu, statements = measured(run, options.repeat, bench.engine)
            print(
                f"{options.backend} {label}: median {wall:.2f} ms, CPU {cpu:.2f} ms, "
                f"{statements} statements"
            )
        bench.engine.dispose()


if __name__ == "__main__":
    main()
