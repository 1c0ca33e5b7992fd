"""The plugin under test, with its URL, in the world of ``aspirasi_core.testing``."""

import pytest

import aspirasi_webhook
from aspirasi_core.testing import make_settings

URL = "http://127.0.0.1:9/aspirasi-hook"


@pytest.fixture
def aspirasi_plugins():
    return [aspirasi_webhook]


@pytest.fixture
def aspirasi_settings(tmp_path):
    return make_settings(tmp_path, extra={"webhook_url": URL})
