"""DownloadCommand (a template or ISO) and DownloadVolumeCommand (uploadVolume) from a URL onto
an image store, one path for both, through the safe ingest
of ``agent.ingest``: the URL checked once (no redirects, no loopback, private or link-local
address unless ``allowed_internal`` holds it), the bytes bounded by ``max_size``, the checksum
verified (``{ALGO}hex``, bare hex is MD5) and the image validated by qemu-img as the format it
was declared (no backing file, no data file, no raw posing as another format).

On an NFS store the file lands at the install path (``template/tmpl/<acct>/<id>/<uuid>.<ext>``
unless the server chose one) with its ``template.properties``; on S3 it is staged on the
agent, validated there, then uploaded under its key. Progress: bytes of the Content-Length in
phase ``downloading``, then ``verifying``. Whatever fails, nothing is left on the store.
"""

from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from cirrostack.agent import ingest, ingest_errors, work
from cirrostack.agent.storage import drivers, errors, naming, outputs, paths
from cirrostack.protocol import messages, storage

if TYPE_CHECKING:
    from cirrostack.agent.storage.processor import Processor

DEFAULT_INACTIVITY = 60.0


def download(
    processor: Processor, command: storage.DownloadCommand, job: work.Work
) -> messages.Answer:
    """Download ``command.url`` into its template's install path; DownloadAnswer."""
    template = command.template
    name = naming.on_image_store(template, _source(template, command.url))
    wanted = _Wanted(
        command.url, template.checksum, command.allowed_internal, command.max_size, command.wait
    )
    got = _ingest(processor, template.image_data_store, name, template.format, wanted, job)
    if got.file is not None:
        text = naming.template_properties(template, got.file.name, got.physical, got.virtual)
        (got.file.parent / "template.properties").write_text(text)
    made = dataclasses.replace(template, path=name, size=got.virtual, physical_size=got.physical)
    return storage.DownloadAnswer(template=made, checksum=got.checksum)


def download_volume(
    processor: Processor, command: storage.DownloadVolumeCommand, job: work.Work
) -> messages.Answer:
    """uploadVolume: ``command.url`` into ``volumes/<account>/<id>/`` on the image store, with
    the same checks as a template; DownloadVolumeAnswer."""
    volume = command.volume
    image_format = volume.format or storage.ImageFormat.QCOW2
    if image_format is storage.ImageFormat.ISO:
        raise errors.Unsupported("a volume cannot be an ISO")
    name = naming.on_image_store(volume, volume)
    wanted = _Wanted(
        command.url, command.checksum, command.allowed_internal, command.max_size, command.wait
    )
    got = _ingest(processor, volume.data_store, name, image_format, wanted, job)
    made = dataclasses.replace(volume, path=name, size=got.virtual, format=image_format)
    return storage.DownloadVolumeAnswer(
        volume=made, physical_size=got.physical, checksum=got.checksum
    )


@dataclasses.dataclass(frozen=True)
class _Wanted:
    url: str
    checksum: str | None
    allowed_internal: tuple[str, ...]
    max_size: int
    #: The command's ``wait``: seconds of silence tolerated (0: the default).
    wait: int


@dataclasses.dataclass(frozen=True)
class _Got:
    """What an ingest stored: the file (None on an object store), sizes, checksum."""

    file: Path | None
    virtual: int
    physical: int
    checksum: str


def _ingest(
    processor: Processor,
    where: storage.DataStoreTO,
    name: str,
    image_format: storage.ImageFormat,
    wanted: _Wanted,
    job: work.Work,
) -> _Got:
    """The one download path of templates and volumes: fetched, verified and validated beside
    its final place (a file store) or in staging (an object store), then put at ``name``;
    nothing is left anywhere when any step fails."""
    store = processor.drivers.open(where, processor.site)
    with outputs.space(where):
        if isinstance(store, drivers.FileStore):
            dest = store.file(name)
            with outputs.partial(dest) as temp:
                fetched = _fetch(wanted, temp, job)
                virtual = _verify(processor, image_format, temp, job)
            return _Got(dest, virtual, dest.stat().st_size, fetched.checksum)
        assert isinstance(store, drivers.ObjectStore)
        processor.site.staging.mkdir(parents=True, exist_ok=True)
        staged = processor.site.staging / naming.random_name("download")
        try:
            fetched = _fetch(wanted, staged, job)
            virtual = _verify(processor, image_format, staged, job)
            physical = store.upload(staged, name, job)
        finally:
            staged.unlink(missing_ok=True)
    return _Got(None, virtual, physical, fetched.checksum)


def _source(template: storage.TemplateObjectTO, url: str) -> storage.TemplateObjectTO:
    """The template as "copied" from ``url``: its path is the URL's file name when that is a
    safe store path segment (S3 keys end with it, reference 5.2), else none."""
    base = url.split("?", 1)[0].split("#", 1)[0].rstrip("/").rpartition("/")[2]
    try:
        paths.relative(base)
    except errors.PathRefused:
        base = ""
    return dataclasses.replace(template, path=base or None)


def _fetch(wanted: _Wanted, dest: Path, job: work.Work) -> ingest.Downloaded:
    def report(done: int, total: int) -> None:
        with contextlib.suppress(work.Cancelled):
            job.progress(done, total, "downloading")

    try:
        return ingest.download(
            wanted.url,
            dest,
            allowed_internal=wanted.allowed_internal,
            max_size=wanted.max_size or None,
            progress=report,
            cancel=job.cancelled,
            inactivity=float(wanted.wait) if wanted.wait else DEFAULT_INACTIVITY,
            checksum=wanted.checksum,
        )
    except ingest_errors.DownloadCancelled:
        raise work.Cancelled(job.command_id) from None


def _verify(
    processor: Processor, image_format: storage.ImageFormat, file: Path, job: work.Work
) -> int:
    job.progress(0, 0, "verifying")
    found = ingest.validate(file, image_format.value, qemu=processor.qemu)
    return found.virtual_size
