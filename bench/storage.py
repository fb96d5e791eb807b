"""Agent storage throughput: a template copy image store -> pool beside plain cp, and a root
volume by linked clone from a small and a large template (issue 8, item 11).

    .venv/bin/python bench/storage.py [--mib 1024] [--rounds 3] [--dir /var/tmp]

Copy: a raw template of ``--mib`` MiB of random bytes on a stand-in NFS image store, copied to
a Filesystem pool by a simulated host's storage processor (CopyCommand, through
``Agent.handle``, the simulator's copy pacing off) and by ``cp --sparse=auto`` between the same
directories, each followed by ``sync``; the page cache is dropped before each round when the
process may (root). Goal: the processor at >= 80% of cp's throughput.

Linked clone: CreateObjectCommand with ``template_path`` (qemu-img create -b) from a 100 MiB and
a 10 GiB qcow2 template copy on the pool. Goal: the 10 GiB one within 1.5x of the 100 MiB one.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path

from cirrostack.agent import qemu_img
from cirrostack.agent.backends import simulator
from cirrostack.agent.storage import mounts
from cirrostack.protocol import storage as st

MIB = 1024**2


def _drop_caches() -> None:
    os.sync()
    with contextlib.suppress(OSError):  # not root (or a read-only /proc): the rounds run warm
        Path("/proc/sys/vm/drop_caches").write_text("3\n")


def _timed(run: object) -> float:
    _drop_caches()
    start = time.perf_counter()
    run()  # type: ignore[operator]
    os.sync()
    return time.perf_counter() - start


def _host(base: Path) -> simulator.SimulatedHost:
    fleet = simulator.Fleet(base)
    return fleet.boot(simulator.Spec("bench", "bench", "10.0.0.1", simulator.Knobs(copy_step_ms=0)))


def _pool(host: simulator.SimulatedHost) -> tuple[st.PrimaryDataStoreTO, Path]:
    pool = st.PrimaryDataStoreTO(
        uuid=str(uuid.uuid4()),
        id=1,
        name="bench",
        pool_type=st.StoragePoolType.FILESYSTEM,
        host="localhost",
        path="/var/lib/libvirt/images",
    )
    answer = host.handle(st.ModifyStoragePoolCommand(add=True, pool=pool))
    assert isinstance(answer, st.ModifyStoragePoolAnswer), answer
    return pool, Path(answer.local_path)


def copy_bench(base: Path, mib: int, rounds: int) -> None:
    host = _host(base)
    pool, root = _pool(host)
    store = st.NfsTO(uuid=str(uuid.uuid4()), url="nfs://bench.test/export/images")
    served = mounts.StandInMounter(base / simulator.EXPORTS_DIRECTORY).directory(
        mounts.parse_url(store.url)
    )
    path = "template/tmpl/2/201/bench.raw"
    source = served / path
    source.parent.mkdir(parents=True, exist_ok=True)
    with source.open("wb") as out:
        for _ in range(mib):
            out.write(os.urandom(MIB))
    template = st.TemplateObjectTO(
        uuid=str(uuid.uuid4()),
        id=201,
        name="bench",
        format=st.ImageFormat.RAW,
        image_data_store=store,
        path=path,
        account_id=2,
    )
    mine, plain = [], []
    for _ in range(rounds):
        dest = replace(template, image_data_store=pool, path=None)
        command = st.CopyCommand(src=template, dest=dest)
        mine.append(_timed(lambda c=command: _ok(host.handle(c))))
        (root / template.uuid).unlink()
        target = root / "cp.raw"
        plain.append(
            _timed(
                lambda t=target: subprocess.run(
                    ["cp", "--sparse=auto", str(source), str(t)], check=True
                )
            )
        )
        target.unlink()
    ours, theirs = statistics.median(mine), statistics.median(plain)
    print(
        f"copy {mib} MiB raw: processor {mib / ours:.0f} MiB/s ({ours:.2f} s), "
        f"cp {mib / theirs:.0f} MiB/s ({theirs:.2f} s): {theirs / ours:.0%} of cp"
    )


def clone_bench(base: Path, rounds: int) -> None:
    host = _host(base)
    pool, root = _pool(host)
    wrapper = qemu_img.QemuImg()
    results = {}
    for label, size in (("100 MiB", 100 * MIB), ("10 GiB", 10 * 1024 * MIB)):
        name = str(uuid.uuid4())
        wrapper.create(root / name, "qcow2", size)
        times = []
        for _ in range(rounds * 3):
            volume = st.VolumeObjectTO(
                uuid=str(uuid.uuid4()),
                id=1,
                name="root",
                volume_type=st.VolumeType.ROOT,
                data_store=pool,
                size=size,
            )
            command = st.CreateObjectCommand(data=volume, template_path=name)
            start = time.perf_counter()
            _ok(host.handle(command))
            times.append(time.perf_counter() - start)
        results[label] = statistics.median(times)
    small, large = results["100 MiB"], results["10 GiB"]
    print(
        f"linked clone: 100 MiB template {small * 1000:.1f} ms, 10 GiB {large * 1000:.1f} ms: "
        f"{large / small:.2f}x"
    )


def _ok(answer: object) -> None:
    assert getattr(answer, "result", False), answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=Path("/var/tmp"))
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=arguments.dir, prefix="cirrostack-bench-") as base:
        copy_bench(Path(base) / "copy", arguments.mib, arguments.rounds)
        clone_bench(Path(base) / "clone", arguments.rounds)


if __name__ == "__main__":
    main()
