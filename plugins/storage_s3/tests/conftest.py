"""Fixtures of the storage_s3 tests: a moto S3 server (``s3_server``, see
``tests/s3_support.py``), a new bucket per test (``s3_bucket``)."""

from __future__ import annotations

import pytest
from tests.s3_support import s3_bucket, s3_server

__all__ = ["s3_bucket", "s3_server"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
