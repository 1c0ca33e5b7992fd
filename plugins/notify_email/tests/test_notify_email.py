"""The notify_email plugin reads and checks the mail settings (and sends nothing yet)."""

from __future__ import annotations

import pytest

import aspirasi_notify_email as notify_email
from aspirasi_core.plugins import create_plugin_manager, list_plugins
from aspirasi_core.settings import Settings


def manager(**env: str):
    environ = {"ASPIRASI_PLUGINS": "notify_email", **env}
    return create_plugin_manager(Settings.from_env(environ))


def test_loaded_from_its_entry_point_and_implements_only_configure():
    [info] = [p for p in list_plugins(manager()) if p.name == "notify_email"]
    assert info.distribution == "aspirasi-notify-email"
    assert info.hooks == ("aspirasi_configure",)


def test_reads_the_mail_settings():
    manager(
        ASPIRASI_SMTP_HOST="mail.kaltimprov.go.id",
        ASPIRASI_SMTP_PORT="587",
        ASPIRASI_SMTP_STARTTLS="true",
        ASPIRASI_SMTP_USER="aspirasi",
        ASPIRASI_SMTP_PASSWORD="hunter2-very-secret",
        ASPIRASI_MAIL_FROM="ASPIRASI ETAM <noreply@kaltimprov.go.id>",
        ASPIRASI_BASE_URL="https://aspirasi.kaltimprov.go.id/",
    )
    config = notify_email.current_config()
    assert config is not None
    assert (config.smtp_host, config.smtp_port, config.smtp_starttls) == (
        "mail.kaltimprov.go.id",
        587,
        True,
    )
    assert config.uses_authentication
    assert config.mail_from == "ASPIRASI ETAM <noreply@kaltimprov.go.id>"
    assert config.base_url == "https://aspirasi.kaltimprov.go.id"
    assert "hunter2" not in repr(config)


def test_plain_smtp_without_authentication_by_default():
    manager()
    config = notify_email.current_config()
    assert config is not None
    assert (config.smtp_host, config.smtp_port, config.smtp_starttls) == (None, 25, False)
    assert not config.uses_authentication


@pytest.mark.parametrize("port", ["0", "70000", "-1"])
def test_an_impossible_port_refuses_to_start(port):
    with pytest.raises(ValueError, match="ASPIRASI_SMTP_PORT"):
        manager(ASPIRASI_SMTP_PORT=port)


def test_an_empty_sender_refuses_to_start():
    with pytest.raises(ValueError, match="ASPIRASI_MAIL_FROM"):
        manager(ASPIRASI_MAIL_FROM="  ")
