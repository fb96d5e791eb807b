"""The S3 image store driver (boto3): objects by key in one bucket, streamed to and from files.

The client is built from the S3TO: ``end_point`` (``host[:port]``) with the scheme ``https``
chooses, path-style addressing (the bucket in the path, which every S3 implementation serves,
unlike virtual-host names), the signer (``S3SignerType`` is signature v2, anything else v4),
the timeouts and the retry count. Keys are the store-relative paths CloudStack lays out
(reference 5.2: ``template/tmpl/<acct>/<id>/<unique name>/<file>``), checked as file paths are.

An upload larger than ``max_single_upload_bytes`` goes as a multipart upload, one part after
the other so a cancel is seen between parts (and the upload is aborted: nothing is left); a
download streams the body in chunks with progress. The store's capacity is 0 (unbounded) and
its use the sum of the object sizes in the bucket.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Any, BinaryIO

import boto3
from botocore import config as botocore_config
from botocore import exceptions as botocore_exceptions

from cirrostack.agent import work
from cirrostack.agent.storage import drivers, errors, paths
from cirrostack.protocol import storage

MIN_PART = 5 * 1024**2
MAX_PART = 128 * 1024**2
MAX_PARTS = 10_000
CHUNK = 4 * 1024**2
_END_POINT = re.compile(
    r"[A-Za-z0-9]([A-Za-z0-9.-]{0,252})?(:[0-9]{1,5})?|\[[0-9A-Fa-f:]+\](:[0-9]{1,5})?"
)
_BOTO_ERRORS = (botocore_exceptions.BotoCoreError, botocore_exceptions.ClientError)


def client(store: storage.S3TO) -> Any:
    """A boto3 S3 client for ``store``; raises StorageError for an end point that is not
    ``host[:port]``."""
    if _END_POINT.fullmatch(store.end_point) is None:
        raise errors.StorageError(
            f"S3 store {store.uuid}: end point {store.end_point!r} is not host[:port]"
        )
    scheme = "https" if store.https else "http"
    settings = botocore_config.Config(
        s3={"addressing_style": "path"},
        signature_version="s3" if store.signer == "S3SignerType" else "s3v4",
        connect_timeout=store.connection_timeout,
        read_timeout=store.socket_timeout,
        retries={"max_attempts": max(1, store.max_error_retry), "mode": "standard"},
    )
    return boto3.session.Session().client(
        "s3",
        endpoint_url=f"{scheme}://{store.end_point}",
        aws_access_key_id=store.access_key,
        aws_secret_access_key=store.secret_key,
        region_name=store.region or "us-east-1",
        config=settings,
    )


def part_size(size: int, single_limit: int) -> int:
    """The part size of a multipart upload of ``size`` bytes: within S3's bounds, at most
    10,000 parts."""
    wanted = max(MIN_PART, min(single_limit, MAX_PART))
    return max(wanted, -(-size // MAX_PARTS))


def _missing(exc: botocore_exceptions.ClientError) -> bool:
    code = str(exc.response.get("Error", {}).get("Code", ""))
    return code in ("404", "NoSuchKey", "NotFound")


class S3Store:
    """One bucket reached through one client."""

    def __init__(self, store: storage.S3TO) -> None:
        self.uuid = store.uuid
        self.bucket = store.bucket_name
        self.single_limit = store.max_single_upload_bytes
        self._client = client(store)

    def key(self, path: str) -> str:
        """The object key of ``path``; raises PathRefused as for files."""
        return str(paths.relative(path))

    def stats(self) -> drivers.Stats:
        used = 0
        pages = self._client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
        for page in _calls(pages):
            used += sum(int(item["Size"]) for item in page.get("Contents", ()))
        return drivers.Stats(0, used)

    def size(self, path: str) -> int | None:
        try:
            head = self._call(self._client.head_object, Bucket=self.bucket, Key=self.key(path))
        except errors.Missing:
            return None
        return int(head["ContentLength"])

    def delete(self, path: str) -> bool:
        existed = self.size(path) is not None
        self._call(self._client.delete_object, Bucket=self.bucket, Key=self.key(path))
        return existed

    def download(self, key: str, dest: BinaryIO, job: work.Work) -> int:
        found = self._call(self._client.get_object, Bucket=self.bucket, Key=self.key(key))
        total = int(found["ContentLength"])
        body = found["Body"]
        done = 0
        try:
            while chunk := body.read(CHUNK):
                dest.write(chunk)
                done += len(chunk)
                job.progress(done, total, "copying")
        finally:
            body.close()
        return done

    def read(self, key: str, offset: int, length: int) -> tuple[bytes, int]:
        size = self.size(key)
        if size is None:
            raise errors.Missing(f"{key} is not on S3 store {self.uuid}")
        if offset >= size:
            return b"", size
        wanted = f"bytes={offset}-{min(size, offset + length) - 1}"
        found = self._call(
            self._client.get_object, Bucket=self.bucket, Key=self.key(key), Range=wanted
        )
        body = found["Body"]
        try:
            return bytes(body.read()), size
        finally:
            body.close()

    def upload(self, source: Path, key: str, job: work.Work) -> int:
        name = self.key(key)
        size = source.stat().st_size
        with source.open("rb") as stream:
            if size <= self.single_limit:
                job.check()
                self._call(self._client.put_object, Bucket=self.bucket, Key=name, Body=stream)
                job.progress(size, size, "copying")
            else:
                self._multipart(stream, name, size, job)
        return size

    def _multipart(self, stream: BinaryIO, key: str, size: int, job: work.Work) -> None:
        started = self._call(self._client.create_multipart_upload, Bucket=self.bucket, Key=key)
        upload_id = started["UploadId"]
        step = part_size(size, self.single_limit)
        parts: list[dict[str, object]] = []
        try:
            done = 0
            while chunk := stream.read(step):
                job.check()
                sent = self._call(
                    self._client.upload_part,
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload_id,
                    PartNumber=len(parts) + 1,
                    Body=chunk,
                )
                parts.append({"ETag": sent["ETag"], "PartNumber": len(parts) + 1})
                done += len(chunk)
                job.progress(done, size, "copying")
            self._call(
                self._client.complete_multipart_upload,
                Bucket=self.bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
            )
        except BaseException:
            self._abort(key, upload_id)
            raise

    def _abort(self, key: str, upload_id: str) -> None:
        # What an abort cannot remove, the bucket's lifecycle rules reap.
        with contextlib.suppress(*_BOTO_ERRORS):
            self._client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)

    def _call(self, method: Any, **arguments: Any) -> Any:
        try:
            return method(**arguments)
        except botocore_exceptions.ClientError as exc:
            if _missing(exc):
                raise errors.Missing(
                    f"{arguments.get('Key', '')} is not in bucket {self.bucket}"
                ) from exc
            raise errors.StorageError(f"S3 store {self.uuid}: {exc}") from exc
        except botocore_exceptions.BotoCoreError as exc:
            raise errors.StorageError(f"S3 store {self.uuid}: {exc}") from exc


def _calls(pages: Any) -> Any:
    """The pages of a paginator with botocore's errors as StorageError."""
    try:
        yield from pages
    except (botocore_exceptions.BotoCoreError, botocore_exceptions.ClientError) as exc:
        raise errors.StorageError(f"S3: {exc}") from exc


class S3ImageStore:
    """S3 secondary storage (provider ``S3``)."""

    name = "S3"
    capabilities = drivers.Capability.SHARED

    def connect(self, store: storage.DataStoreTO, site: drivers.Site) -> drivers.Store:
        return self.open(store, site)

    def open(self, store: storage.DataStoreTO, site: drivers.Site) -> drivers.Store:
        if not isinstance(store, storage.S3TO):
            raise errors.Unsupported(f"{type(store).__name__} is not an S3 image store")
        return S3Store(store)

    def disconnect(self, store: storage.DataStoreTO, site: drivers.Site) -> None:
        """Nothing to leave: an S3 store holds no connection."""


S3 = S3ImageStore()
