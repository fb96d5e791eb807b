"""One storage allocator decision in a zone of 10,000 pools across 1,000 clusters.

    .venv/bin/python bench/allocator.py [--clusters 1000] [--per-cluster 10] [--backend sqlite]

The world is built with Core inserts (no API): one zone and pod, ``--clusters`` KVM clusters
with ``--per-cluster`` NFS pools each (their tags and allocated capacity rows as the capacity
contract has them, a pool-scoped threshold on every tenth pool) and 10 zone-wide pools.
Then, after WARM runs, the median over ``--repeat`` (``--explain-repeat``) runs (wall time,
and this process's CPU time: it leaves out the database server and the machine's other
load), each in a new session and transaction, explanation included (a verdict for every
candidate, the summary text):

- placement: a volume for a VM of one cluster (the planner's case: the SQL narrows to the
  cluster's pools and the zone-wide ones), as ``pools.decide``;
- explain: every pool of the zone judged (``every_pool``, the explain command's case).

The tables' statistics are gathered after the load (``ANALYZE``), as autovacuum (PostgreSQL,
within a minute of a bulk load), InnoDB's persistent statistics (MariaDB) and a running
cloud's history would have them; ``--no-analyze`` measures the fresh load instead.

The goal is 10 ms median for the decision; the ratio printed is median / 10 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

import world as bench_world

from cirrostack.allocators import pools
from cirrostack.db.models import capacity, infrastructure, storage

GIB = 1 << 30
GOAL_MS = 10.0
REPEAT = 25
#: Runs before the timed ones (psycopg prepares a statement at its 5th execution).
WARM = 6


def build(engine: sa.Engine, clusters: int, per_cluster: int) -> tuple[int, int]:
    """The zone's id and the id of the cluster the placement asks for."""
    with engine.begin() as connection:
        zone = connection.execute(
            sa.insert(infrastructure.DataCenter).values(
                name="bench", uuid="00000000-0000-4000-8000-000000000001"
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        pod = connection.execute(
            sa.insert(infrastructure.HostPod).values(
                name="pod",
                data_center_id=zone,
                gateway="10.0.0.1",
                cidr_address="10.0.0.0",
                cidr_size=16,
                uuid="00000000-0000-4000-8000-000000000002",
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        connection.execute(
            sa.insert(infrastructure.Cluster),
            [
                {"name": f"c{i}", "pod_id": pod, "data_center_id": zone, "hypervisor_type": "KVM",
                 "uuid": f"00000000-0000-4000-9000-{i:012d}"}
                for i in range(clusters)
            ],
        )  # fmt: skip
        cluster_ids = list(
            connection.scalars(
                sa.select(infrastructure.Cluster.id).order_by(infrastructure.Cluster.id)
            )
        )
        rows = []
        for index, cluster_id in enumerate(cluster_ids):
            for slot in range(per_cluster):
                rows.append(_pool(zone, pod, cluster_id, f"p{index}-{slot}", "CLUSTER"))
        rows += [_pool(zone, None, None, f"zw{slot}", "ZONE") for slot in range(10)]
        connection.execute(sa.insert(storage.StoragePool), rows)
        found = list(
            connection.execute(
                sa.select(
                    storage.StoragePool.id,
                    storage.StoragePool.cluster_id,
                    storage.StoragePool.pod_id,
                )
            )
        )
        connection.execute(
            sa.insert(capacity.HostCapacity),
            [
                {"host_id": ident, "data_center_id": zone, "pod_id": pod_id,
                 "cluster_id": cluster_id, "used_capacity": (ident % 9) * 10 * GIB,
                 "reserved_capacity": 0, "total_capacity": 200 * GIB, "capacity_type": 3}
                for ident, cluster_id, pod_id in found
            ],
        )  # fmt: skip
        connection.execute(
            sa.insert(storage.StoragePoolTag),
            [{"pool_id": ident, "tag": "ssd" if ident % 2 else "hdd", "is_tag_a_rule": False}
             for ident, _, _ in found],
        )  # fmt: skip
        connection.execute(
            sa.insert(storage.StoragePoolDetail),
            [{"pool_id": ident, "name": "pool.storage.allocated.capacity.disablethreshold",
              "value": "0.95", "display": True}
             for ident, _, _ in found if ident % 10 == 0],
        )  # fmt: skip
    return int(zone), int(cluster_ids[len(cluster_ids) // 2])


def _pool(
    zone: int, pod: int | None, cluster: int | None, name: str, scope: str
) -> dict[str, object]:
    return {
        "name": name, "pool_type": "NetworkFilesystem", "host_address": "10.0.0.2",
        "path": f"/{name}", "data_center_id": zone, "pod_id": pod, "cluster_id": cluster,
        "scope": scope, "capacity_bytes": 100 * GIB, "used_bytes": 10 * GIB, "status": "Up",
        "uuid": f"pool-{name}",
    }  # fmt: skip


def analyze(engine: sa.Engine) -> None:
    """Gather the planner's statistics on the tables the allocator reads."""
    tables = ("storage_pool", "storage_pool_tags", "storage_pool_details", "op_host_capacity",
              "cluster", "cluster_details", "data_center_details", "configuration")  # fmt: skip
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql(f"ANALYZE {', '.join(tables)}")
        elif engine.dialect.name == "sqlite":
            connection.exec_driver_sql("ANALYZE")
        else:
            connection.exec_driver_sql(f"ANALYZE TABLE {', '.join(tables)}")


def _medians(run: Callable[[], object], repeat: int) -> tuple[float, float]:
    """The median wall time and the median CPU time of this process (ms) over ``repeat``
    runs."""
    for _ in range(WARM):  # statement compilation, the page cache, psycopg's prepare
        run()
    walls, cpus = [], []
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        run()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls) * 1000, statistics.median(cpus) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=1000)
    parser.add_argument("--per-cluster", type=int, default=10)
    parser.add_argument("--backend", default="sqlite", choices=("sqlite", "postgresql", "mariadb"))
    parser.add_argument(
        "--no-analyze", action="store_true", help="keep the fresh load's statistics"
    )
    parser.add_argument("--repeat", type=int, default=REPEAT, help="timed placements")
    parser.add_argument("--explain-repeat", type=int, default=REPEAT, help="timed explanations")
    parser.add_argument(
        "--cases", default="placement,explain", help="which of placement,explain to run"
    )
    options = parser.parse_args()
    with bench_world.database(options.backend) as url:
        bench = bench_world.open_world(url)
        zone, cluster = build(bench.engine, options.clusters, options.per_cluster)
        if not options.no_analyze:
            analyze(bench.engine)
        request = pools.VolumeRequest(
            zone_id=zone, size=10 * GIB, disk_offering_id=None, tags=("ssd",),
            use_local_storage=False, hypervisor="KVM", cluster_id=cluster, account_id=2,
        )  # fmt: skip
        cases = (
            ("placement", "placement (one cluster)", False),
            ("explain", "explain (every pool)", True),
        )
        for case, label, every in cases:
            if case not in options.cases.split(","):
                continue
            seen: list[pools.Decision] = []

            def run(every: bool = every, seen: list[pools.Decision] = seen) -> None:
                with bench.sessions() as session:
                    decision = pools.decide(session, request, seed=1, every_pool=every)
                    decision.summary()
                    seen.append(decision)

            median, cpu = _medians(run, options.explain_repeat if every else options.repeat)
            last = seen[-1]
            stats = "fresh load" if options.no_analyze else "analyzed"
            print(
                f"{options.backend} ({stats}) {label}: {len(last.verdicts)} verdicts "
                f"({len(last.accepted)} suitable), median {median:.2f} ms "
                f"({median / GOAL_MS:.2f}x the {GOAL_MS:.0f} ms goal), CPU {cpu:.2f} ms"
            )
        bench.engine.dispose()


if __name__ == "__main__":
    main()
