"""Linked clone: a root volume from a 10 GiB template costs what one from a 100 MiB one does.

    .venv/bin/python bench/linked_clone.py [--runs 15] [--dir /tmp]

Makes two qcow2 templates with qemu-img (virtual 100 MiB and 10 GiB, sparse, each with some
written data), puts each on a SharedMountPoint pool as the pool's template copy, then creates
THIN root volumes from them as the server does (CopyCommand template-on-pool → volume, run by
the agent's storage processor on real files: a qcow2 overlay naming the copy as its backing
file), deleting each volume after it is made. Prints the median per clone for both templates
and their ratio (goal: within 1.5x).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from cirrostack import plugins
from cirrostack.agent import qemu_img, work
from cirrostack.agent.storage import processor, sandbox
from cirrostack.protocol import storage

MIB, GIB = 1024**2, 1024**3


def _template(qemu: qemu_img.QemuImg, pool_dir: Path, size: int) -> storage.TemplateObjectTO:
    """A sparse qcow2 of virtual ``size`` with 8 MiB of data written at its start."""
    name = str(uuid.uuid4())
    raw = pool_dir / f"{name}.raw"
    with raw.open("wb") as out:
        out.write(b"cirrostack" * (8 * MIB // 10))
        out.truncate(size)
    qemu.convert(raw, "raw", pool_dir / name, "qcow2")
    raw.unlink()
    return storage.TemplateObjectTO(
        uuid=name,
        id=1,
        name=name,
        format=storage.ImageFormat.QCOW2,
        image_data_store=_POOL,
        path=name,
        size=size,
    )


_POOL = storage.PrimaryDataStoreTO(
    uuid=str(uuid.uuid4()),
    id=1,
    name="bench",
    pool_type=storage.StoragePoolType.SHARED_MOUNT_POINT,
    host="localhost",
    path="/bench",
)


def _clone_seconds(run: processor.Processor, template: storage.TemplateObjectTO) -> float:
    volume = storage.VolumeObjectTO(
        uuid=str(uuid.uuid4()),
        id=2,
        name="ROOT-2",
        volume_type=storage.VolumeType.ROOT,
        data_store=_POOL,
        size=template.size or 0,
        provisioning_type=storage.ProvisioningType.THIN,
    )
    started = time.perf_counter()
    answer = run.run(storage.CopyCommand(src=template, dest=volume), work.Work("bench", None))
    elapsed = time.perf_counter() - started
    if not answer.result or not isinstance(answer, storage.CopyCmdAnswer):
        raise SystemExit(f"the clone failed: {answer.details}")
    made = answer.new_data
    run.run(storage.DeleteCommand(data=made), work.Work("bench", None))
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--dir", type=Path, default=None)
    options = parser.parse_args()
    qemu = qemu_img.QemuImg()
    with tempfile.TemporaryDirectory(dir=options.dir, prefix="linked-clone-") as scratch:
        common = Path(scratch)
        site = sandbox.site(common / "host", common)
        run = processor.Processor(site, plugins.resolved_storage(), qemu, sandbox.Attachments())
        run.run(storage.ModifyStoragePoolCommand(add=True, pool=_POOL), work.Work("bench", None))
        pool_dir = common / sandbox.SHARED_DIRECTORY / "bench"
        small = _template(qemu, pool_dir, 100 * MIB)
        large = _template(qemu, pool_dir, 10 * GIB)
        _clone_seconds(run, small)  # warm-up: qemu-img's first start
        timings: dict[str, list[float]] = {"100 MiB": [], "10 GiB": []}
        for _ in range(options.runs):
            timings["100 MiB"].append(_clone_seconds(run, small))
            timings["10 GiB"].append(_clone_seconds(run, large))
    medians = {label: statistics.median(found) for label, found in timings.items()}
    for label, median in medians.items():
        print(f"template {label:>7}: median {median * 1000:7.1f} ms per linked clone")
    ratio = medians["10 GiB"] / medians["100 MiB"]
    verdict = "met" if ratio <= 1.5 else "NOT met"
    print(f"ratio 10 GiB / 100 MiB: {ratio:.2f}x (goal <= 1.5x: {verdict})")
    return 0 if ratio <= 1.5 else 1


if __name__ == "__main__":
    sys.exit(main())
