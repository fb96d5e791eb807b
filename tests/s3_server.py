"""A real S3 endpoint for tests: moto in server mode on 127.0.0.1 (a free port), with a bucket.

``start()`` returns a running ``Endpoint`` (stop it with ``stop()``); the S3TO of a bucket on it
comes from ``store_to``. Moto speaks the S3 protocol over HTTP as AWS does (path-style
addressing, signature v4, multipart uploads), so the driver's boto3 client is the one a real
deployment uses.
"""

from __future__ import annotations

import socket
import uuid
from dataclasses import dataclass
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from cirrostack.protocol import storage

ACCESS_KEY = "cirrostack-test"
SECRET_KEY = "cirrostack-test-secret"


@dataclass
class Endpoint:
    server: ThreadedMotoServer
    port: int

    @property
    def end_point(self) -> str:
        return f"127.0.0.1:{self.port}"

    def client(self) -> Any:
        return boto3.session.Session().client(
            "s3",
            endpoint_url=f"http://{self.end_point}",
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name="us-east-1",
        )

    def bucket(self) -> str:
        """A fresh, empty bucket's name."""
        name = f"b-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def store_to(self, bucket: str, **fields: Any) -> storage.S3TO:
        return storage.S3TO(
            uuid=str(uuid.uuid4()),
            id=1,
            end_point=self.end_point,
            bucket_name=bucket,
            access_key=ACCESS_KEY,
            secret_key=SECRET_KEY,
            https=False,
            **fields,
        )

    def stop(self) -> None:
        self.server.stop()


def start() -> Endpoint:
    """A moto S3 server listening on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return Endpoint(server, port)
