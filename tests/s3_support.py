"""A real S3-compatible server for tests: moto's server mode on a free port of
127.0.0.1, in a thread of the test process, reached over HTTP by boto3 in this
process and in the processes a test starts.

``s3_server`` (session) starts it and sets fake credentials in this process's
environment (boto3's usual chain), so nothing is read from ``~/.aws``;
``s3_bucket`` makes a new bucket per test. :func:`s3_env` is the ``ASPIRASI_*``
and ``AWS_*`` variables of a deployment using the bucket.
"""

from __future__ import annotations

import secrets
import socket
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "aspirasi-test",
    "AWS_SECRET_ACCESS_KEY": "aspirasi-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": str(Path("/nonexistent/aspirasi-aws-config")),
    "AWS_SHARED_CREDENTIALS_FILE": str(Path("/nonexistent/aspirasi-aws-credentials")),
}


class S3Server:
    def __init__(self, url: str) -> None:
        self.url = url

    def client(self) -> object:
        return boto3.session.Session().client("s3", endpoint_url=self.url, region_name="us-east-1")

    def new_bucket(self) -> str:
        name = "aspirasi-" + secrets.token_hex(6)
        self.client().create_bucket(Bucket=name)  # type: ignore[attr-defined]
        return name


def s3_env(server: S3Server, bucket: str, **extra: str) -> dict[str, str]:
    """The variables of a deployment keeping its files in ``bucket``."""
    return {
        **CREDENTIALS,
        "ASPIRASI_FILE_STORAGE": "s3",
        "ASPIRASI_S3_BUCKET": bucket,
        "ASPIRASI_S3_ENDPOINT_URL": server.url,
        "ASPIRASI_S3_REGION": "us-east-1",
        "ASPIRASI_S3_ADDRESSING_STYLE": "path",
        **extra,
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    with pytest.MonkeyPatch.context() as mp:
        for name, value in CREDENTIALS.items():
            mp.setenv(name, value)
        port = _free_port()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        try:
            yield S3Server(f"http://127.0.0.1:{port}")
        finally:
            server.stop()


@pytest.fixture
def s3_bucket(s3_server: S3Server) -> str:
    return s3_server.new_bucket()
