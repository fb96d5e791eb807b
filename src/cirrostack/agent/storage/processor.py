"""The storage command processor: every backend hands its storage commands here.

It runs each command of ``protocol.storage`` on real files and objects through the drivers
(``drivers``) and the one qemu-img wrapper (``agent.qemu_img``), and answers with the object
as made: its path, the size qemu-img reports and its format, never what the command guessed.
A command that fails answers ``result=False`` with a clear reason ("insufficient space on pool
<uuid>: ..." for a full disk) and leaves no partial output; a cancelled one stops, removes
what it wrote and lets ``work.Agent.handle`` answer Cancelled.

Copies are in ``transfer``, downloads in ``fetch``; this module has the dispatch and the
commands that change one object in place or ask about a store.
"""

from __future__ import annotations

import base64
import dataclasses
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TypeVar

from cirrostack.agent import ingest_errors, qemu_img, work
from cirrostack.agent.storage import catalogue, drivers, errors, naming, outputs
from cirrostack.protocol import messages, storage

_log = logging.getLogger(__name__)
_C = TypeVar("_C", bound=messages.Command)
Handler = Callable[[messages.Command, work.Work], messages.Answer]
#: The most bytes one ReadObjectCommand returns (they cross the wire in base64 JSON).
READ_LIMIT = 4 * 1024 * 1024


class Attacher(Protocol):
    """The hypervisor's half of attaching a disk to a VM (the simulator records it)."""

    def attach(self, vm_name: str, disk: storage.DiskTO, file: Path) -> None:
        """Give ``vm_name`` the disk at ``file``."""
        ...

    def detach(self, vm_name: str, disk: storage.DiskTO) -> None:
        """Take the disk away from ``vm_name`` (nothing happens if it was not attached)."""
        ...


class Processor:
    """Runs storage commands for one host (``site``) with its drivers and qemu-img."""

    def __init__(
        self,
        site: drivers.Site,
        loaded: drivers.Drivers,
        qemu: qemu_img.QemuImg,
        attacher: Attacher,
        pace: Callable[[work.Work], None] | None = None,
    ) -> None:
        """``pace``: called after each chunk of a plain copy (a simulated host's copy speed)."""
        from cirrostack.agent.storage import fetch, transfer

        self.site = site
        self.drivers = loaded
        self.qemu = qemu
        self.attacher = attacher
        self.pace = pace
        self._handlers: dict[type[messages.Command], Handler] = {
            storage.CreateObjectCommand: self._create,
            storage.CopyCommand: lambda c, w: transfer.copy(self, _is(c, storage.CopyCommand), w),
            storage.DeleteCommand: self._delete,
            storage.ModifyStoragePoolCommand: self._modify_pool,
            storage.DeleteStoragePoolCommand: self._delete_pool,
            storage.GetStorageStatsCommand: self._stats,
            storage.ResizeVolumeCommand: self._resize,
            storage.AttachCommand: self._attach,
            storage.DettachCommand: self._detach,
            storage.DownloadCommand: lambda c, w: fetch.download(
                self, _is(c, storage.DownloadCommand), w
            ),
            storage.DownloadVolumeCommand: lambda c, w: fetch.download_volume(
                self, _is(c, storage.DownloadVolumeCommand), w
            ),
            storage.ReadObjectCommand: self._read,
        }

    def handles(self, command: messages.Command) -> bool:
        """Whether ``command`` is a storage command this processor runs."""
        return type(command) in self._handlers

    def run(self, command: messages.Command, job: work.Work) -> messages.Answer:
        """The answer to the storage command ``command``; raises work.Cancelled when it was
        cancelled (after removing its partial output)."""
        try:
            return self._handlers[type(command)](command, job)
        except work.Cancelled:
            raise
        except qemu_img.Cancelled:
            raise work.Cancelled(job.command_id) from None
        except (errors.StorageError, qemu_img.QemuImgError, ingest_errors.IngestError) as exc:
            return messages.Answer(result=False, details=_reason(exc))
        except OSError as exc:
            return messages.Answer(result=False, details=f"{type(command).__name__}: {exc}")
        except Exception as exc:  # an agent answers every command, even one it did not foresee
            _log.exception("%s %s failed unexpectedly", type(command).__name__, command.id)
            return messages.Answer(
                result=False,
                details=f"{type(command).__name__} failed: {type(exc).__name__}: {exc}",
            )

    # --- helpers the command modules share ---------------------------------------------------

    def files(self, where: storage.DataStoreTO) -> drivers.FileStore:
        """The file store ``where`` names, verified usable now."""
        return outputs.file_store(self.drivers.open(where, self.site), where)

    def info(self, file: Path, image_format: str) -> qemu_img.ImageInfo:
        return self.qemu.info(file, image_format)

    def clone(
        self,
        pool: drivers.FileStore,
        where: storage.DataStoreTO,
        template_path: str,
        template_format: str,
        volume: storage.VolumeObjectTO,
        job: work.Work,
    ) -> storage.VolumeObjectTO:
        """Make ``volume`` from the template copy at ``template_path`` on the same pool: a
        linked clone (a qcow2 overlay naming the copy by a path relative to the overlay, so
        any host's mount of the pool reads it) for THIN, a full convert with preallocation
        for SPARSE and FAT. Its size is the larger of the volume's and the template's."""
        template = pool.file(template_path)
        found = self.info(template, template_format)
        size = max(volume.size, found.virtual_size)
        name = naming.on_pool(volume, None)
        dest = pool.file(name)
        with outputs.space(where), outputs.partial(dest) as temp:
            if volume.provisioning_type is storage.ProvisioningType.THIN:
                backing = Path(os.path.relpath(template, temp.parent))
                self.qemu.create(temp, "qcow2", size, backing=backing, backing_fmt=template_format)
            else:
                mode = naming.preallocation("qcow2", volume.provisioning_type)
                self.qemu.convert(
                    template,
                    template_format,
                    temp,
                    "qcow2",
                    preallocation=mode,
                    progress=outputs.reporter(job),
                    cancel=job.cancelled,
                )
                if size > found.virtual_size:
                    self.qemu.resize(temp, "qcow2", size, preallocation=mode)
        made = self.info(dest, "qcow2")
        return dataclasses.replace(
            volume, path=name, size=made.virtual_size, format=storage.ImageFormat.QCOW2
        )

    # --- commands ----------------------------------------------------------------------------

    def _create(self, command: messages.Command, job: work.Work) -> messages.Answer:
        command = _is(command, storage.CreateObjectCommand)
        data = command.data
        if isinstance(data, storage.TemplateObjectTO):
            raise errors.Unsupported("a template is copied or downloaded, not created")
        pool = self.files(data.data_store)
        if isinstance(data, storage.SnapshotObjectTO):
            return storage.CreateObjectAnswer(data=self._snapshot(pool, data, job))
        if command.template_path:
            template_format = catalogue.format_at(pool, command.template_path) or "qcow2"
            cloned = self.clone(
                pool, data.data_store, command.template_path, template_format, data, job
            )
            return storage.CreateObjectAnswer(data=cloned)
        image_format = data.format or storage.ImageFormat.QCOW2
        if image_format is storage.ImageFormat.ISO:
            raise errors.Unsupported("a volume cannot be an ISO")
        qemu_format = naming.QEMU_FORMATS[image_format]
        name = naming.on_pool(data, None)
        dest = pool.file(name)
        with outputs.space(data.data_store), outputs.partial(dest) as temp:
            mode = naming.preallocation(qemu_format, data.provisioning_type)
            self.qemu.create(temp, qemu_format, data.size, preallocation=mode)
        made = self.info(dest, qemu_format)
        return storage.CreateObjectAnswer(
            data=dataclasses.replace(data, path=name, size=made.virtual_size, format=image_format)
        )

    def _snapshot(
        self, pool: drivers.FileStore, data: storage.SnapshotObjectTO, job: work.Work
    ) -> storage.SnapshotObjectTO:
        volume = data.volume
        if not volume.path:
            raise errors.Missing(f"volume {volume.uuid} has no path on its pool")
        source_format = naming.QEMU_FORMATS[volume.format or storage.ImageFormat.QCOW2]
        source = self.files(volume.data_store).file(volume.path)
        name = naming.on_pool(data, volume)
        dest = pool.file(name)
        with outputs.space(data.data_store), outputs.partial(dest) as temp:
            self.qemu.convert(
                source,
                source_format,
                temp,
                "qcow2",
                progress=outputs.reporter(job),
                cancel=job.cancelled,
            )
        return dataclasses.replace(data, path=name, physical_size=dest.stat().st_size)

    def _delete(self, command: messages.Command, job: work.Work) -> messages.Answer:
        data = _is(command, storage.DeleteCommand).data
        where = naming.store_of(data)
        if not data.path:
            return messages.Answer(details=f"{data.uuid} has no path on {outputs.what(where)}")
        store = self.drivers.open(where, self.site)
        existed = store.delete(data.path)
        if isinstance(store, drivers.FileStore) and isinstance(data, storage.TemplateObjectTO):
            if isinstance(where, storage.PrimaryDataStoreTO):
                catalogue.forget(store, data.uuid)
            else:
                properties = str(Path(data.path).parent / "template.properties")
                store.delete(properties)
                store.prune(data.path)
        return messages.Answer(details="" if existed else f"{data.path} was already gone")

    def _modify_pool(self, command: messages.Command, job: work.Work) -> messages.Answer:
        command = _is(command, storage.ModifyStoragePoolCommand)
        pool = command.pool
        driver = self.drivers.of(pool)
        if not command.add:
            driver.disconnect(pool, self.site)
            return storage.ModifyStoragePoolAnswer(
                local_path="", capacity_bytes=0, available_bytes=0, pool_type=pool.pool_type
            )
        store = outputs.file_store(driver.connect(pool, self.site), pool)
        stats = store.stats()
        return storage.ModifyStoragePoolAnswer(
            local_path=str(store.root),
            capacity_bytes=stats.capacity,
            available_bytes=stats.available,
            pool_type=pool.pool_type,
            template_info=catalogue.found(store),
        )

    def _delete_pool(self, command: messages.Command, job: work.Work) -> messages.Answer:
        pool = _is(command, storage.DeleteStoragePoolCommand).pool
        self.drivers.of(pool).disconnect(pool, self.site)
        return messages.Answer()

    def _stats(self, command: messages.Command, job: work.Work) -> messages.Answer:
        where = _is(command, storage.GetStorageStatsCommand).store
        stats = self.drivers.open(where, self.site).stats()
        return storage.GetStorageStatsAnswer(capacity_bytes=stats.capacity, used_bytes=stats.used)

    def _resize(self, command: messages.Command, job: work.Work) -> messages.Answer:
        command = _is(command, storage.ResizeVolumeCommand)
        volume = command.volume
        if not volume.path:
            raise errors.Missing(f"volume {volume.uuid} has no path on its pool")
        qemu_format = naming.QEMU_FORMATS[volume.format or storage.ImageFormat.QCOW2]
        file = self.files(volume.data_store).file(volume.path)
        current = self.info(file, qemu_format).virtual_size
        if command.new_size < current:
            if qemu_format == "qcow2":
                raise errors.Unsupported(f"volume {volume.uuid}: shrinking a qcow2 is refused")
            if not command.shrink_ok:
                raise errors.Unsupported(
                    f"volume {volume.uuid}: {command.new_size} is smaller than {current} "
                    "and shrinking was not allowed"
                )
        grown = command.new_size > current
        mode = naming.preallocation(qemu_format, volume.provisioning_type) if grown else None
        with outputs.space(volume.data_store):
            self.qemu.resize(
                file,
                qemu_format,
                command.new_size,
                shrink=command.shrink_ok and not grown,
                preallocation=mode,
            )
        return storage.ResizeVolumeAnswer(new_size=self.info(file, qemu_format).virtual_size)

    def _read(self, command: messages.Command, job: work.Work) -> messages.Answer:
        command = _is(command, storage.ReadObjectCommand)
        if command.offset < 0 or not 0 < command.length <= READ_LIMIT:
            raise errors.Unsupported(f"a read is 1 to {READ_LIMIT} bytes from offset 0 or more")
        store = self.drivers.open(command.store, self.site)
        if isinstance(store, drivers.FileStore):
            with store.file(command.path).open("rb") as stream:
                size = os.fstat(stream.fileno()).st_size
                stream.seek(command.offset)
                data = stream.read(command.length)
        else:
            assert isinstance(store, drivers.ObjectStore)
            data, size = store.read(command.path, command.offset, command.length)
        return storage.ReadObjectAnswer(data=base64.b64encode(data).decode("ascii"), size=size)

    def _attach(self, command: messages.Command, job: work.Work) -> messages.Answer:
        command = _is(command, storage.AttachCommand)
        disk = command.disk
        data = disk.data
        if not data.path:
            raise errors.Missing(f"{data.uuid} has no path to attach")
        file = self.files(naming.store_of(data)).file(data.path)
        if not file.is_file():
            raise errors.Missing(f"{data.path} is not on {outputs.what(naming.store_of(data))}")
        self.attacher.attach(command.vm_name, disk, file)
        return storage.AttachAnswer(disk=dataclasses.replace(disk, path=data.path))

    def _detach(self, command: messages.Command, job: work.Work) -> messages.Answer:
        command = _is(command, storage.DettachCommand)
        self.attacher.detach(command.vm_name, command.disk)
        return storage.DettachAnswer(disk=command.disk)


def _reason(exc: Exception) -> str:
    if isinstance(exc, qemu_img.QemuImgError) and not isinstance(exc, errors.StorageError):
        return f"qemu-img: {exc}"
    return str(exc)


def _is(command: messages.Command, kind: type[_C]) -> _C:
    assert isinstance(command, kind)
    return command
