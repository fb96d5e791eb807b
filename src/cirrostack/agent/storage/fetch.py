"""DownloadCommand: a template (or ISO) from a URL onto an image store, through the safe ingest
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
    where = template.image_data_store
    store = processor.drivers.open(where, processor.site)
    name = naming.on_image_store(template, _source(template, command.url))
    with outputs.space(where):
        if isinstance(store, drivers.FileStore):
            dest = store.file(name)
            with outputs.partial(dest) as temp:
                fetched = _fetch(command, temp, job)
                virtual = _verify(processor, template, temp, job)
            physical = dest.stat().st_size
            text = naming.template_properties(template, dest.name, physical, virtual)
            (dest.parent / "template.properties").write_text(text)
        else:
            assert isinstance(store, drivers.ObjectStore)
            processor.site.staging.mkdir(parents=True, exist_ok=True)
            staged = processor.site.staging / naming.random_name("download")
            try:
                fetched = _fetch(command, staged, job)
                virtual = _verify(processor, template, staged, job)
                physical = store.upload(staged, name, job)
            finally:
                staged.unlink(missing_ok=True)
    made = dataclasses.replace(template, path=name, size=virtual, physical_size=physical)
    return storage.DownloadAnswer(template=made, checksum=fetched.checksum)


def _source(template: storage.TemplateObjectTO, url: str) -> storage.TemplateObjectTO:
    """The template as "copied" from ``url``: its path is the URL's file name when that is a
    safe store path segment (S3 keys end with it, reference 5.2), else none."""
    base = url.split("?", 1)[0].split("#", 1)[0].rstrip("/").rpartition("/")[2]
    try:
        paths.relative(base)
    except errors.PathRefused:
        base = ""
    return dataclasses.replace(template, path=base or None)


def _fetch(command: storage.DownloadCommand, dest: Path, job: work.Work) -> ingest.Downloaded:
    def report(done: int, total: int) -> None:
        with contextlib.suppress(work.Cancelled):
            job.progress(done, total, "downloading")

    try:
        return ingest.download(
            command.url,
            dest,
            allowed_internal=command.allowed_internal,
            max_size=command.max_size or None,
            progress=report,
            cancel=job.cancelled,
            inactivity=float(command.wait) if command.wait else DEFAULT_INACTIVITY,
            checksum=command.template.checksum,
        )
    except ingest_errors.DownloadCancelled:
        raise work.Cancelled(job.command_id) from None


def _verify(
    processor: Processor, template: storage.TemplateObjectTO, file: Path, job: work.Work
) -> int:
    job.progress(0, 0, "verifying")
    found = ingest.validate(file, template.format.value, qemu=processor.qemu)
    return found.virtual_size
