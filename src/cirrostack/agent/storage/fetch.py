"""DownloadCommand: a template or volume from a URL onto an image store, through the safe
ingest of ``agent.ingest`` (no redirects, no internal addresses unless allowed, size bound,
checksum, format validated by qemu-img).

Not wired yet: answered as unsupported until ``agent.ingest`` lands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cirrostack.agent import work
from cirrostack.agent.storage import errors
from cirrostack.protocol import messages, storage

if TYPE_CHECKING:
    from cirrostack.agent.storage.processor import Processor


def download(
    processor: Processor, command: storage.DownloadCommand, job: work.Work
) -> messages.Answer:
    """Download ``command.url`` into its template's install path."""
    raise errors.Unsupported("downloads are not available on this agent yet")
