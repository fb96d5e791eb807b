"""The demo cloud's storage: two primary pools, an NFS image store and a built-in template, so
a new user can create volumes at once.

Called by ``cirrostack serve --demo`` after ``demo.ensure``, at every start: what is missing
is made, what exists is left alone, and what was deleted is not made again (each part is made
only if no row of its name ever existed, removed ones included, as the demo zone). Everything
is made through the services the API uses:

- ``demo-primary-cluster``: a cluster-wide SharedMountPoint pool and ``demo-primary-zone``: a
  zone-wide NFS pool, recorded and connected by the demo's hosts as createStoragePool does
  (``storage.pool_create``), their capacity from what the hosts report;
- ``demo-secondary``: an NFS image store, added as addImageStore adds one;
- the built-in template CloudStack's simulator seeds, ``CentOS 5.3(64-bit) no GUI
  (Simulator)`` (type BUILTIN, public, featured, cross-zone, owned by the system account), a
  64 MiB qcow2 made with ``qemu-img`` (an empty disk: the simulator boots nothing). QCOW2,
  not CloudStack's VHD, because our hosts make volumes from it with qemu-img. Its file is put
  where the demo's simulated hosts find the store's export (``exports``, their stand-in NFS
  servers' directory), in CloudStack's layout, with its ``template.properties``; the copy is
  recorded Allocated → Creating before the file is made and Ready (path, sizes, MD5) after.

The files are all under the data directory (the simulated hosts' directory). Without
qemu-img the store is made and the report says why the pools (the simulated hosts run their
storage commands with qemu-img) and the template are missing, and nothing of the template is
recorded; the next start with qemu-img makes them. A copy a start left unfinished (or the
reaper failed, as no job holds it) is made again. Each part is checked and made under the
lock of the demo zone's row (the pools, the store) or the store's row (the template), so two
servers seeding one database make each part once.
"""

from __future__ import annotations

import os
import uuid as uuids
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from cirrostack import demo, errors
from cirrostack.accounts import bootstrap
from cirrostack.agent import checksum, qemu_img
from cirrostack.agent.storage import mounts, naming
from cirrostack.compute import guest_os
from cirrostack.db import query, transactions
from cirrostack.db.models import infrastructure as infra
from cirrostack.db.models import storage as storage_models
from cirrostack.db.models import templates as template_models
from cirrostack.infrastructure import agents
from cirrostack.protocol import storage as protocol
from cirrostack.states import errors as state_errors
from cirrostack.states import gate, machines
from cirrostack.storage import image_stores, pool_create, pools, template_paths, templates


@dataclass(frozen=True)
class DemoPool:
    """One of the demo's primary pools: its name, url and scope."""

    name: str
    url: str
    scope: str


POOLS = (
    DemoPool(
        "demo-primary-cluster", "SharedMountPoint://localhost/demo/primary-cluster", "CLUSTER"
    ),
    DemoPool("demo-primary-zone", "nfs://nfs.demo/export/demo-primary", "ZONE"),
)
STORE = ("demo-secondary", "nfs://nfs.demo/export/demo-secondary")
#: CloudStack's simulator built-in template (setup/db/templates.simulator.sql).
TEMPLATE = "CentOS 5.3(64-bit) no GUI (Simulator)"
TEMPLATE_UNIQUE_NAME = "simulator-Centos"
TEMPLATE_OS = "CentOS 5.3 (64-bit)"
TEMPLATE_SIZE = 64 * 1024**2
_OE = machines.ObjectInDataStoreEvent


@dataclass
class Report:
    """What a start made, and what it could not make and why."""

    made: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        done = [f"demo storage: made {', '.join(self.made)}"] if self.made else []
        return done + [f"demo storage: {why}" for why in self.missing]


def ensure(
    sessions: sessionmaker[Session],
    fleet: agents.Agents,
    exports: Path,
    qemu: Callable[[], qemu_img.QemuImg] = qemu_img.QemuImg,
) -> Report:
    """Make whatever part of the demo's storage never existed; commits its own transactions.

    ``exports``: the directory of the simulated hosts' stand-in NFS servers (where the image
    store's files are); ``qemu``: makes the qemu-img caller (raises Missing without one)."""
    report = Report()
    for wanted in POOLS:
        _pool(sessions, fleet, wanted, report)
    if transactions.run(sessions, _store, name="demo image store"):
        report.made.append(f"image store {STORE[0]}")
    _template(sessions, exports, qemu, report)
    return report


def _ever(session: Session, column: Any, name: str) -> bool:
    """Whether a row whose name ``column`` is ``name`` (any case) ever existed, removed ones
    too."""
    found = session.scalar(sa.select(sa.func.count()).where(query.same_name(column, name)))
    return bool(found)


def _locked_zone(session: Session) -> infra.DataCenter | None:
    """The live demo zone, its row locked until the transaction ends (None: it is gone)."""
    return session.scalars(
        sa.select(infra.DataCenter)
        .where(
            query.same_name(infra.DataCenter.name, demo.ZONE), infra.DataCenter.removed.is_(None)
        )
        .with_for_update()
    ).first()


class _Seeded(Exception):
    """The part exists (or existed): nothing to make."""


def _pool(
    sessions: sessionmaker[Session], fleet: agents.Agents, wanted: DemoPool, report: Report
) -> None:
    def new_pool(session: Session) -> pools.NewPool:
        zone = _locked_zone(session)
        if zone is None or _ever(session, storage_models.StoragePool.name, wanted.name):
            raise _Seeded
        cluster = session.scalars(
            sa.select(infra.Cluster).where(
                query.same_name(infra.Cluster.name, demo.CLUSTER),
                infra.Cluster.data_center_id == zone.id,
                infra.Cluster.removed.is_(None),
            )
        ).first()
        if wanted.scope != "CLUSTER":
            cluster = None
        elif cluster is None:
            raise _Seeded  # the demo's cluster was deleted: no cluster pool then
        return pools.NewPool(
            name=wanted.name,
            url=wanted.url,
            zone=zone,
            pod=session.get(infra.HostPod, cluster.pod_id) if cluster else None,
            cluster=cluster,
            scope=wanted.scope,
            hypervisor="Simulator",
        )

    try:
        done = pool_create.connect(sessions, fleet, new_pool)
    except _Seeded:
        return
    except errors.CloudError as exc:
        report.missing.append(
            f"primary pool {wanted.name} is missing (tried again at the next start): {exc}"
        )
        return
    transactions.run(sessions, lambda s: pool_create.attach(s, done), name="demo pool")
    report.made.append(f"primary pool {wanted.name}")


def _store(session: Session) -> bool:
    """The demo's image store added, under the zone's lock; False when it ever existed."""
    zone = _locked_zone(session)
    name, url = STORE
    if zone is None or _ever(session, storage_models.ImageStore.name, name):
        return False
    image_stores.add_nfs(session, image_stores.NewNfsStore(name, url, zone.id))
    return True


@dataclass(frozen=True)
class _Planned:
    """The template's copy recorded Creating, and where its file goes."""

    ref_id: int
    #: The copy's ``update_count`` once this start made it Creating: Ready is written only if
    #: it is unchanged (no other start took the copy over meanwhile).
    update_count: int
    to: protocol.TemplateObjectTO
    file: Path


def _template(
    sessions: sessionmaker[Session],
    exports: Path,
    qemu: Callable[[], qemu_img.QemuImg],
    report: Report,
) -> None:
    why = f"the built-in template {TEMPLATE!r} is missing"
    try:
        runner = qemu()  # first: without qemu-img nothing is recorded
        planned = transactions.run(sessions, lambda s: _plan(s, exports), name="demo template")
    except (qemu_img.QemuImgError, errors.CloudError) as exc:
        report.missing.append(f"{why}: {exc}{_LATER}")
        return
    if planned is None:
        return
    try:
        made = _make(runner, planned)
    except (qemu_img.QemuImgError, OSError) as exc:
        transactions.run(sessions, lambda s: _undo(s, planned), name="demo template")
        report.missing.append(f"{why}: {exc}{_LATER}")
        return
    try:
        transactions.run(sessions, lambda s: _ready(s, planned, made), name="demo template")
    except state_errors.StateConflict:
        return  # another start took the copy over and finishes it
    report.made.append(f"built-in template {TEMPLATE!r}")


_LATER = (
    " (it is made at the next start of serve --demo once qemu-img works: "
    "Debian/Ubuntu: apt install qemu-utils)"
)
_MAKEABLE = ("Allocated", "Creating", "Failed")


def _plan(session: Session, exports: Path) -> _Planned | None:
    """Under the store's lock: the template and its copy recorded Creating (a copy a start
    before left Allocated, Creating or Failed is made again); None when there is nothing to
    make (no store, the template Ready or deleted)."""
    # The lock is the transaction's first read: on MariaDB (REPEATABLE READ) the reads after
    # it then see what a start that held it before committed (its template and copy).
    store = session.scalars(
        sa.select(storage_models.ImageStore)
        .where(
            query.same_name(storage_models.ImageStore.name, STORE[0]),
            storage_models.ImageStore.removed.is_(None),
        )
        .with_for_update()
    ).first()
    if store is None:
        return None
    template = session.scalars(
        sa.select(template_models.VmTemplate).where(
            template_models.VmTemplate.unique_name == TEMPLATE_UNIQUE_NAME,
            template_models.VmTemplate.type == "BUILTIN",
        )
    ).first()
    if template is not None and template.removed is not None:
        return None
    if template is None:
        template = _record(session)
    ref = session.scalars(
        sa.select(template_models.TemplateStoreRef).where(
            template_models.TemplateStoreRef.template_id == template.id,
            template_models.TemplateStoreRef.store_id == store.id,
            template_models.TemplateStoreRef.destroyed.is_(False),
        )
    ).first()
    if ref is not None and ref.state not in _MAKEABLE:
        return None  # Ready, or a state an admin is acting on
    if ref is not None and ref.state == "Failed":
        # e.g. the reaper failed a copy a start left unfinished: it goes, a new one is made
        gate.transition(session, ref, _OE.DestroyRequested)
        gate.transition(session, ref, _OE.OperationSuccessed)
        ref = None
    if ref is None:
        ref = templates.add_copy(session, template, store.id)
    if ref.state == "Creating":
        # Left by a start that stopped, or being made by another one right now (they cannot be
        # told apart): taken over, so that start's Ready no longer applies (update_count).
        gate.transition(session, ref, _OE.OperationFailed)
    gate.transition(
        session,
        ref,
        _OE.CreateOnlyRequested,
        values={"download_state": templates.DownloadState.DOWNLOAD_IN_PROGRESS.value},
    )
    session.flush()
    return _planned(template, store, ref, exports)


def _record(session: Session) -> template_models.VmTemplate:
    os_type = guest_os.by_description(session, TEMPLATE_OS)
    if os_type is None:
        raise errors.ResourceUnavailable(f"the guest OS type {TEMPLATE_OS} is missing")
    template = template_models.VmTemplate(
        name=TEMPLATE,
        unique_name=TEMPLATE_UNIQUE_NAME,
        display_text=TEMPLATE,
        format=protocol.ImageFormat.QCOW2.value,
        type="BUILTIN",
        public=True,
        featured=True,
        cross_zones=True,
        extractable=False,
        hvm=False,
        bits=64,
        account_id=bootstrap.SYSTEM_ACCOUNT_ID,
        guest_os_id=os_type.id,
        hypervisor_type="Simulator",
        state="Active",
    )
    session.add(template)
    session.flush()
    return template


def _planned(
    template: template_models.VmTemplate,
    store: storage_models.ImageStore,
    ref: template_models.TemplateStoreRef,
    exports: Path,
) -> _Planned:
    fmt = protocol.ImageFormat(template.format)
    path = template_paths.nfs_install_path(template.account_id, template.id, fmt)
    export = mounts.StandInMounter(exports).directory(mounts.parse_url(store.url or ""))
    to = protocol.TemplateObjectTO(
        uuid=template.uuid,
        id=template.id,
        name=template.unique_name or template.name,
        format=fmt,
        image_data_store=protocol.NfsTO(uuid=store.uuid, url=store.url or ""),
        path=path,
        account_id=template.account_id,
        hypervisor_type=template.hypervisor_type,
    )
    return _Planned(ref.id, ref.update_count, to, export / path)


@dataclass(frozen=True)
class _Made:
    virtual: int
    physical: int
    checksum: str


def _make(qemu: qemu_img.QemuImg, planned: _Planned) -> _Made:
    """The empty qcow2 and its ``template.properties``, written under temporary names and
    renamed into place, so a crash leaves no half-made file under the template's name."""
    file = planned.file
    file.parent.mkdir(parents=True, exist_ok=True)
    partial = file.with_name(f".{file.name}.{uuids.uuid4().hex}.partial")
    try:
        qemu.create(partial, "qcow2", TEMPLATE_SIZE)
        info = qemu.info(partial, "qcow2")
        physical = partial.stat().st_size
        digest = checksum.hasher("MD5")
        with partial.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        os.replace(partial, file)
    finally:
        partial.unlink(missing_ok=True)
    text = naming.template_properties(planned.to, file.name, physical, info.virtual_size)
    properties = file.with_name("template.properties")
    staged = properties.with_name(f".{properties.name}.{uuids.uuid4().hex}.partial")
    staged.write_text(text)
    os.replace(staged, properties)
    return _Made(info.virtual_size, physical, str(checksum.Checksum("MD5", digest.hexdigest())))


def _undo(session: Session, planned: _Planned) -> None:
    """The file could not be made: the copy back to Allocated (made again at the next start),
    unless another start took it over."""
    ref = session.get_one(template_models.TemplateStoreRef, planned.ref_id)
    if ref.update_count != planned.update_count:
        return
    gate.transition(
        session,
        ref,
        _OE.OperationFailed,
        values={"download_state": templates.DownloadState.NOT_DOWNLOADED.value},
    )


def _ready(session: Session, planned: _Planned, made: _Made) -> None:
    ref = session.get_one(template_models.TemplateStoreRef, planned.ref_id)
    if ref.update_count != planned.update_count:
        raise state_errors.StateConflict(
            "TemplateStoreRef", str(ref.id), ref.state, ref.update_count
        )  # taken over by another start; the gate's compare-and-swap below settles the rest
    gate.transition(
        session,
        ref,
        _OE.OperationSuccessed,
        values={
            "download_state": templates.DownloadState.DOWNLOADED.value,
            "download_pct": 100,
            "install_path": planned.to.path,
            "size": made.virtual,
            "physical_size": made.physical,
            "error_str": None,
        },
    )
    template = session.get_one(template_models.VmTemplate, ref.template_id)
    template.size = made.virtual
    template.checksum = made.checksum
    session.flush()
