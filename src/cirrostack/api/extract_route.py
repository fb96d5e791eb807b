"""The extract links: GET /client/extract/<token>/<file> streams an extracted volume's bytes.

CloudStack's SSVM serves extract URLs from its own web server; cirrostack's management server
serves them, reading the copy through an agent of the store's zone in ``ReadObjectCommand``
chunks (``CHUNK`` bytes each, one exchange at a time, no transaction open), so a plain HTTP
client downloads exactly the stored bytes (``Content-Length`` set, ``application/octet-stream``).

The token is the only credential (as CloudStack's link is): 32 random bytes, stored as its
SHA-256 only. An unknown, expired or deleted link answers 404 alike; only GET is served (405
with ``Allow: GET``). The file name in the path is for the client's benefit and is ignored.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass

import anyio.to_thread
from starlette.types import Scope, Send

from cirrostack import errors
from cirrostack.api import dispatch, edge
from cirrostack.db import base, engine
from cirrostack.protocol import storage as protocol
from cirrostack.storage import pool_targets, volume_extract, volume_store
from cirrostack.transport import errors as transport_errors

log = logging.getLogger(__name__)

PATH = volume_extract.ROUTE
CHUNK = 4 * 1024 * 1024
_SECURITY = [(name.lower().encode(), value.encode()) for name, value in edge.SECURITY_HEADERS]


@dataclass(frozen=True)
class _Chunk:
    data: bytes
    size: int


def is_extract(path: str) -> bool:
    """Whether ``path`` is an extract link's."""
    return path.startswith(PATH)


def _token(path: str) -> str:
    return path[len(PATH) :].split("/", 1)[0]


async def serve(dispatcher: dispatch.Dispatcher, scope: Scope, send: Send) -> None:
    """Answer one extract request on ``send``."""
    if scope["method"] != "GET":
        await _plain(send, 405, b"Only GET is served here", [(b"allow", b"GET")])
        return
    try:
        found = await anyio.to_thread.run_sync(_find, dispatcher, _token(scope["path"]))
    except errors.ResourceUnavailable:
        await _plain(send, 503, b"No Up host can read the extracted volume now")
        return
    if found is None:
        await _plain(send, 404, b"No such extract link (unknown or expired)")
        return
    try:
        first = await anyio.to_thread.run_sync(_read, dispatcher, found, 0)
    except errors.CloudError as exc:
        log.warning("extract link of copy %s could not be read: %s", found.ref_id, exc)
        await _plain(send, 503, b"The extracted volume cannot be read now")
        return
    name = f"{found.data.uuid}.{(found.data.format or protocol.ImageFormat.QCOW2).value.lower()}"
    headers = [
        (b"content-type", b"application/octet-stream"),
        (b"content-length", str(first.size).encode()),
        (b"content-disposition", f'attachment; filename="{name}"'.encode()),
        *_SECURITY,
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await _stream(dispatcher, found, first, send)


async def _stream(
    dispatcher: dispatch.Dispatcher, found: volume_store.StoreFile, first: _Chunk, send: Send
) -> None:
    done, chunk = 0, first
    while True:
        done += len(chunk.data)
        more = bool(chunk.data) and done < chunk.size
        await send({"type": "http.response.body", "body": chunk.data, "more_body": more})
        if not more:
            return
        try:
            chunk = await anyio.to_thread.run_sync(_read, dispatcher, found, done)
        except errors.CloudError as exc:
            # The status is sent: a short body is how the client learns (Content-Length).
            log.warning("extract copy %s failed at byte %d: %s", found.ref_id, done, exc)
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return


def _find(dispatcher: dispatch.Dispatcher, token: str) -> volume_store.StoreFile | None:
    if not token:
        return None
    with engine.reading(dispatcher.sessions) as session:
        return volume_extract.live_link(session, token, base.utcnow())


def _read(dispatcher: dispatch.Dispatcher, found: volume_store.StoreFile, offset: int) -> _Chunk:
    store = found.data.data_store
    command = protocol.ReadObjectCommand(
        store=store, path=found.data.path or "", offset=offset, length=CHUNK
    )
    try:
        answer = pool_targets.exchange(
            dispatcher.services.need_agents(), found.target, command, protocol.ReadObjectAnswer
        )
    except transport_errors.TransportError as exc:
        raise errors.ResourceUnavailable(str(exc)) from exc
    return _Chunk(base64.b64decode(answer.data), answer.size)


async def _plain(
    send: Send, status: int, text: bytes, more: list[tuple[bytes, bytes]] | None = None
) -> None:
    headers = [
        (b"content-type", b"text/plain; charset=UTF-8"),
        (b"content-length", str(len(text)).encode()),
        *_SECURITY,
        *(more or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": text})
