"""CopyCommand: an object from one store to another, in every direction CloudStack's KVM agent
copies (reference 1.1's table): template image store -> pool (the pool's template copy) or
straight into a volume, the pool's template copy -> volume (linked clone or full convert),
volume pool -> pool, pool <-> image store, and image store -> image store (copyTemplate).

When the format does not change and the source has no backing file, the bytes are copied as
they are (``copying.copy_file``, hole-aware, as fast as cp); otherwise qemu-img converts
(flattening a linked clone). S3 objects are streamed to or from files. A template read from an
image store is validated first as on ingest (``ingest.validate``: a backing file, an external
data file, encryption or a raw file posing as another format is refused). The result is
verified with qemu-img info (format and virtual size) before the copy is answered as made.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from cirrostack.agent import ingest, qemu_img, work
from cirrostack.agent.storage import catalogue, copying, drivers, errors, naming, outputs
from cirrostack.protocol import messages, storage

if TYPE_CHECKING:
    from cirrostack.agent.storage.processor import Processor


@dataclasses.dataclass(frozen=True)
class _Side:
    data: storage.DataTO
    where: storage.DataStoreTO
    store: drivers.Store
    image_format: storage.ImageFormat

    @property
    def qemu_format(self) -> str:
        return naming.QEMU_FORMATS[self.image_format]


def copy(processor: Processor, command: storage.CopyCommand, job: work.Work) -> messages.Answer:
    """Run ``command``; the CopyCmdAnswer carries the destination as made."""
    src, dest = command.src, command.dest
    if not src.path:
        raise errors.Missing(f"the source {src.uuid} has no path")
    if _is_clone(src, dest):
        assert isinstance(src, storage.TemplateObjectTO)
        assert isinstance(dest, storage.VolumeObjectTO)
        pool = processor.files(dest.data_store)
        made = processor.clone(
            pool, dest.data_store, src.path, naming.QEMU_FORMATS[src.format], dest, job
        )
        return storage.CopyCmdAnswer(new_data=made)
    source = _side(processor, src, None)
    target = _side(processor, dest, source.image_format)
    if isinstance(target.where, storage.PrimaryDataStoreTO):
        name = naming.on_pool(dest, src)
    else:
        name = naming.on_image_store(dest, src)
    with outputs.space(target.where):
        if isinstance(target.store, drivers.FileStore):
            virtual, physical = _to_file(processor, source, target, target.store, name, job)
        else:
            virtual, physical = _to_objects(processor, source, target, name, job)
    return storage.CopyCmdAnswer(new_data=_made(dest, name, virtual, physical, target))


def _is_clone(src: storage.DataTO, dest: storage.DataTO) -> bool:
    return (
        isinstance(src, storage.TemplateObjectTO)
        and isinstance(src.image_data_store, storage.PrimaryDataStoreTO)
        and isinstance(dest, storage.VolumeObjectTO)
        and isinstance(dest.data_store, storage.PrimaryDataStoreTO)
        and dest.data_store.uuid == src.image_data_store.uuid
    )


def _side(processor: Processor, data: storage.DataTO, default: storage.ImageFormat | None) -> _Side:
    where = naming.store_of(data)
    found = naming.format_of(data) or default or storage.ImageFormat.QCOW2
    return _Side(data, where, processor.drivers.open(where, processor.site), found)


def _guarded(side: _Side) -> bool:
    """Whether the source is a template on an image store (checked as on ingest)."""
    return isinstance(side.data, storage.TemplateObjectTO) and not isinstance(
        side.where, storage.PrimaryDataStoreTO
    )


def _inspect(processor: Processor, side: _Side, file: Path) -> qemu_img.ImageInfo | None:
    """What qemu-img says of the source file; a template from an image store is validated as
    on ingest first (``ingest.validate``: no backing or data file, no encryption, no raw posing
    as another format). None for an ISO from a pool (raw bytes, nothing to ask)."""
    if _guarded(side):
        return ingest.validate(file, side.image_format.value, qemu=processor.qemu)
    if side.image_format is storage.ImageFormat.ISO:
        return None
    return processor.info(file, side.qemu_format)


def _source_file(source: _Side, store: drivers.FileStore) -> Path:
    path = source.data.path or ""
    if not path.endswith("/"):
        return store.file(path)
    # CloudStack's template path may name the template's directory: its first qcow2 file.
    folder = store.file(path.rstrip("/"))
    found = sorted(folder.glob("*.qcow2"))
    if not found:
        raise errors.Missing(f"no qcow2 file in {path} on {outputs.what(source.where)}")
    return found[0]


def _to_file(
    processor: Processor,
    source: _Side,
    target: _Side,
    store: drivers.FileStore,
    name: str,
    job: work.Work,
) -> tuple[int, int]:
    dest = store.file(name)
    with outputs.partial(dest) as temp:
        if isinstance(source.store, drivers.FileStore):
            _file_to_file(processor, source, _source_file(source, source.store), target, temp, job)
        else:
            _object_to_file(processor, source, target, temp, job)
        virtual = _verify(processor, target, temp)
        volume = target.data if isinstance(target.data, storage.VolumeObjectTO) else None
        wanted = volume.size if volume is not None else 0
        if volume is not None and wanted > virtual:
            # A volume made straight from a template is as large as the volume asked, the
            # grown part laid out as the volume's provisioning says.
            mode = naming.preallocation(target.qemu_format, volume.provisioning_type)
            processor.qemu.resize(temp, target.qemu_format, wanted, preallocation=mode)
            virtual = _verify(processor, target, temp)
    physical = dest.stat().st_size
    _record(store, target, name, virtual, physical)
    return virtual, physical


def _file_to_file(
    processor: Processor, source: _Side, file: Path, target: _Side, temp: Path, job: work.Work
) -> None:
    if not file.is_file():
        raise errors.Missing(f"{source.data.path} is not on {outputs.what(source.where)}")
    info = _inspect(processor, source, file)
    plain = info is None or (info.backing_file is None and info.data_file is None)
    if plain and source.qemu_format == target.qemu_format:
        copying.copy_file(file, temp, job, pace=processor.pace)
        return
    processor.qemu.convert(
        file,
        source.qemu_format,
        temp,
        target.qemu_format,
        progress=outputs.reporter(job),
        cancel=job.cancelled,
    )


def _object_to_file(
    processor: Processor, source: _Side, target: _Side, temp: Path, job: work.Work
) -> None:
    assert isinstance(source.store, drivers.ObjectStore)
    path = source.data.path or ""
    if source.qemu_format == target.qemu_format:
        with temp.open("xb") as stream:
            source.store.download(path, stream, job)
        _inspect(processor, source, temp)
        return
    with _staged(temp.parent) as fetched:
        with fetched.open("xb") as stream:
            source.store.download(path, stream, job)
        _inspect(processor, source, fetched)
        processor.qemu.convert(
            fetched,
            source.qemu_format,
            temp,
            target.qemu_format,
            progress=outputs.reporter(job),
            cancel=job.cancelled,
        )


def _to_objects(
    processor: Processor, source: _Side, target: _Side, name: str, job: work.Work
) -> tuple[int, int]:
    assert isinstance(target.store, drivers.ObjectStore)
    processor.site.staging.mkdir(parents=True, exist_ok=True)
    with _staged(processor.site.staging) as staged:
        if isinstance(source.store, drivers.FileStore):
            file = _source_file(source, source.store)
            if not file.is_file():
                raise errors.Missing(f"{source.data.path} is not on {outputs.what(source.where)}")
            info = _inspect(processor, source, file)
            converted = info is not None and (
                info.backing_file is not None or source.qemu_format != target.qemu_format
            )
            if converted:
                processor.qemu.convert(
                    file,
                    source.qemu_format,
                    staged,
                    target.qemu_format,
                    progress=outputs.reporter(job),
                    cancel=job.cancelled,
                )
                file = staged
        else:
            _object_to_file(processor, source, target, staged, job)
            file = staged
        virtual = _verify(processor, target, file)
        physical = target.store.upload(file, name, job)
    return virtual, physical


@contextlib.contextmanager
def _staged(folder: Path) -> Iterator[Path]:
    staged = folder / (naming.random_name() + outputs.PART_SUFFIX)
    try:
        yield staged
    finally:
        staged.unlink(missing_ok=True)


def _verify(processor: Processor, target: _Side, file: Path) -> int:
    """The virtual size of the copy, read back with the destination's format (lesson 5: a
    copy is made only once the result reads as what was asked)."""
    if target.image_format is storage.ImageFormat.ISO:
        return file.stat().st_size
    return processor.info(file, target.qemu_format).virtual_size


def _record(
    store: drivers.FileStore, target: _Side, name: str, virtual: int, physical: int
) -> None:
    data = target.data
    if not isinstance(data, storage.TemplateObjectTO):
        return
    if isinstance(target.where, storage.PrimaryDataStoreTO):
        catalogue.record(store, data.uuid, name, virtual, target.qemu_format)
        return
    file = store.file(name)
    text = naming.template_properties(data, file.name, physical, virtual)
    (file.parent / "template.properties").write_text(text)


def _made(
    dest: storage.DataTO, name: str, virtual: int, physical: int, target: _Side
) -> storage.DataTO:
    if isinstance(dest, storage.VolumeObjectTO):
        return dataclasses.replace(dest, path=name, size=virtual, format=target.image_format)
    if isinstance(dest, storage.TemplateObjectTO):
        return dataclasses.replace(
            dest, path=name, size=virtual, physical_size=physical, format=target.image_format
        )
    return dataclasses.replace(dest, path=name, physical_size=physical)
