"""Job throughput: the default worker pool beside a raw SKIP LOCKED claim loop, same database.

    .venv/bin/python bench/jobs.py [--backend sqlite|postgresql|mariadb] [--jobs 2000]
                                   [--rounds 3]

Each round inserts ``--jobs`` pending no-op jobs (bulk INSERT, not timed) and drains them twice:

- cirrostack: a ``WorkerPool`` configured as ``cirrostack serve`` configures it (``job.workers``
  threads, default 4; ``job.lease.seconds`` read at each claim; the default poll and claim-ahead)
  claims them through ``queue.claim`` and runs each with the no-op handler below,
  which finishes the job through ``queue.finish`` (fenced by the claim) in its own transaction,
  exactly as ``api.jobs.Runner`` does after a command's handler returned;
- raw: one thread, on one DBAPI connection of the same engine, loops over one transaction per
  job: ``SELECT id ... ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED`` and an ``UPDATE`` marking
  it claimed and finished (on SQLite, which has one writer, ``BEGIN IMMEDIATE`` instead of the
  row lock). It is the least any leased queue can do per job; it has no lease, no fence, no
  queue keys and no second transaction between claim and finish.

The figure is jobs per second to drain the queue (median of the rounds), and the ratio is raw
over cirrostack (goal: within 5x on every backend, and >= 1,000 jobs/s on PostgreSQL).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent))

import world as bench_world

from cirrostack import server
from cirrostack.accounts import bootstrap, vault
from cirrostack.db import engine as db_engine
from cirrostack.jobs import queue, worker

#: The command name of the benchmark's jobs (no handler is registered for it anywhere else).
NOOP = "cirrostack.bench.noop"

_NOW = {
    "sqlite": "CURRENT_TIMESTAMP",
    "postgresql": "(now() AT TIME ZONE 'utc')",
    "mariadb": "UTC_TIMESTAMP()",
}
_MARK = {"sqlite": "?", "postgresql": "%s", "mariadb": "%s"}


def insert_jobs(engine: sa.Engine, count: int) -> None:
    """``count`` pending no-op jobs of the admin (user 2, account 2), in one transaction."""
    row = {
        "user_id": 2,
        "account_id": 2,
        "job_cmd": NOOP,
        "job_cmd_info": "{}",
        "job_status": int(queue.Status.IN_PROGRESS),
        "attempt": 0,
    }
    with engine.begin() as connection:
        for start in range(0, count, bench_world.CHUNK):
            size = min(bench_world.CHUNK, count - start)
            connection.execute(sa.insert(queue.Job), [row] * size)


def drained(engine: sa.Engine) -> tuple[int, int]:
    """(jobs still unfinished, finished jobs not run exactly once)."""
    with engine.connect() as connection:
        pending = connection.execute(
            sa.select(sa.func.count()).where(queue.Job.job_status == int(queue.Status.IN_PROGRESS))
        ).scalar_one()
        odd = connection.execute(
            sa.select(sa.func.count()).where(
                queue.Job.job_status != int(queue.Status.IN_PROGRESS), queue.Job.attempt != 1
            )
        ).scalar_one()
    return int(pending), int(odd)


class Noop:
    """The benchmark's job handler: finishes its job, fenced by the claim, and counts it."""

    def __init__(self, sessions: sessionmaker[Session], count: int) -> None:
        self.sessions = sessions
        self.left = count
        self.lock = threading.Lock()
        self.done = threading.Event()

    def __call__(self, claim: queue.Claim) -> None:
        with self.sessions() as session:
            queue.finish(session, claim, queue.Status.SUCCEEDED, 0, {})
            session.commit()
        with self.lock:
            self.left -= 1
            if self.left == 0:
                self.done.set()


def run_pool(sessions: sessionmaker[Session], count: int) -> tuple[float, float]:
    """Jobs/s of the server's WorkerPool draining ``count`` pending jobs, and this process's
    CPU milliseconds per job (all threads)."""
    handler = Noop(sessions, count)
    configured = server.JobSettings.configured(sessions)
    settings = worker.PoolSettings(
        size=configured.workers, lease=configured.lease, lease_of=configured.lease_of
    )
    pool = worker.WorkerPool(sessions, handler, owner=worker.new_owner_id(), settings=settings)
    start, cpu = time.perf_counter(), time.process_time()
    pool.start()
    if not handler.done.wait(600):
        raise RuntimeError(f"the pool left {handler.left} job(s) after 600 s")
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    pool.stop()
    return count / elapsed, cpu * 1000 / count


def run_raw(engine: sa.Engine, backend: str, count: int) -> tuple[float, float]:
    """Jobs/s of one thread claiming and finishing jobs with hand-written SQL, and CPU ms/job."""
    mark, now = _MARK[backend], _NOW[backend]
    lock = "" if backend == "sqlite" else " FOR UPDATE SKIP LOCKED"
    select = (
        "SELECT id FROM async_job WHERE job_status = 0 AND job_executing_msid IS NULL"
        f" ORDER BY id LIMIT 1{lock}"
    )
    update = (
        f"UPDATE async_job SET job_executing_msid = {mark}, job_complete_msid = {mark},"
        f" attempt = attempt + 1, job_status = 1, job_result_code = 0, job_result = '{{}}',"
        f" last_updated = {now}, removed = {now} WHERE id = {mark}"
    )
    owner = worker.new_owner_id()
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        done = 0
        start, cpu = time.perf_counter(), time.process_time()
        while True:
            if backend == "sqlite":
                cursor.execute("BEGIN IMMEDIATE")
            cursor.execute(select)
            row = cursor.fetchone()
            if row is None:
                connection.commit() if backend != "sqlite" else cursor.execute("COMMIT")
                break
            cursor.execute(update, (owner, owner, row[0]))
            connection.commit() if backend != "sqlite" else cursor.execute("COMMIT")
            done += 1
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        cursor.close()
    finally:
        connection.close()
    if done != count:
        raise RuntimeError(f"the raw loop finished {done} job(s) of {count}")
    return count / elapsed, cpu * 1000 / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=sorted(_NOW), default="sqlite")
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with bench_world.database(args.backend) as url:
        engine = db_engine.make_engine(url)
        sessions = server.sessions_of(engine, vault.Vault(vault.new_key()))
        with sessions() as session:
            bootstrap.ensure_cloud(session)
            session.commit()
        ours, raw = [], []
        for _ in range(args.rounds):
            insert_jobs(engine, args.jobs)
            ours.append(run_pool(sessions, args.jobs))
            pending, odd = drained(engine)
            assert pending == 0 and odd == 0, (pending, odd)
            insert_jobs(engine, args.jobs)
            raw.append(run_raw(engine, args.backend, args.jobs))
            assert drained(engine) == (0, 0)
            print(
                f"  round: cirrostack {ours[-1][0]:8.0f} jobs/s ({ours[-1][1]:.2f} ms CPU/job)"
                f"   raw {raw[-1][0]:8.0f} jobs/s ({raw[-1][1]:.2f} ms CPU/job)"
            )
        engine.dispose()
    mine, theirs = statistics.median(r for r, _ in ours), statistics.median(r for r, _ in raw)
    print(
        f"{args.backend:10s} {args.jobs} jobs x {args.rounds}: cirrostack {mine:.0f} jobs/s"
        f" (the server's pool, {worker.PoolSettings().size} workers), raw loop {theirs:.0f} jobs/s,"
        f" ratio {theirs / mine:.2f}x"
    )


if __name__ == "__main__":
    main()
