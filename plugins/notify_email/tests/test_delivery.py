"""Delivery through the outbox dispatcher: at least once, never twice, over a real
SMTP server that goes down and comes back, with two dispatchers at once, and with
the TLS and authentication settings passed on as configured."""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import smtplib
import ssl
import threading
import time
from pathlib import Path

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from aspirasi_core.bootstrap import bootstrap
from aspirasi_core.domain.events import VerificationRequested
from aspirasi_core.plugins import create_plugin_manager
from aspirasi_core.services import SubmitInput
from aspirasi_core.services.ports import OutboxItem
from aspirasi_core.settings import Settings
from aspirasi_core.storage import create_database, upgrade
from aspirasi_notify_email import (
    EMAIL_TOPIC,
    NotifyEmailPlugin,
    Recipient,
    SmtpUnavailable,
    message_id,
)

pytestmark = pytest.mark.anyio

T0 = dt.datetime(2026, 11, 2, 1, 0, tzinfo=dt.UTC)


def configured(tmp_path: Path, **settings) -> NotifyEmailPlugin:
    values = {
        "smtp_host": "127.0.0.1",
        "mail_from": "ASPIRASI ETAM <noreply@kaltimprov.go.id>",
        "base_url": "https://aspirasi.kaltimprov.go.id",
        "storage_path": str(tmp_path / "files"),
        **settings,
    }
    plugin = NotifyEmailPlugin()
    plugin.aspirasi_configure(settings=Settings(**values))
    return plugin


def email_item(plugin: NotifyEmailPlugin, item_id: int = 7, to: str = "ani@example.org"):
    event = VerificationRequested(
        account_id=1, email=to, language="id", token="tok", expires_at=T0, at=T0
    )

    class Lookup:
        def account(self, account_id):
            from aspirasi_core.domain.model import Account

            return Account(
                id=account_id,
                email=to,
                username="ani",
                full_name="Ani",
                role="user",
                agency_id=None,
                permissions=frozenset(),
                is_active=True,
                email_verified_at=None,
                language="id",
                created_at=T0,
                password_hash="-",
            )

    [queued] = plugin.aspirasi_outbox_items(event=event, lookup=Lookup())
    assert queued.topic == EMAIL_TOPIC
    return OutboxItem(
        id=item_id,
        topic=queued.topic,
        payload=dict(queued.payload),
        attempts=1,
        status="sending",
        created_at=T0,
        available_at=T0,
    )


# --------------------------------------------------------------------------- outages


async def test_mails_queued_while_the_server_is_down_arrive_once_when_it_is_back(
    sqlite_database, tmp_path, smtp, build_world_on
):
    # SQLite only, for speed: PostgreSQL's claiming is exercised by the two
    # dispatchers below and by test_mails.
    plugin = NotifyEmailPlugin()
    # The server is not started yet.
    world = await build_world_on(sqlite_database, tmp_path, plugin, smtp_port=smtp.port)
    plugin.transport.reconnect_after = 0  # try every mail (the pause is tested below)
    app = world.app
    authors = [world.ctx("ani"), world.ctx("budi")]
    for n in range(200):
        await app.messages.submit(authors[n % 2], SubmitInput(f"Aduan {n}", "…"))
    assert world.outbox_topics()[EMAIL_TOPIC] == 202  # 2 verifications + 200 new-message notices

    first = await world.deliver()
    assert (first.delivered, first.retried, first.dead) == (0, 202, 0)
    world.clock.advance(seconds=10)  # the first retry is due after 12-18 s
    assert (await world.deliver()).handled == 0
    assert smtp.received == []

    smtp.start()
    world.clock.advance(hours=1)
    second = await world.deliver()
    assert (second.delivered, second.retried, second.dead) == (202, 0, 0)
    world.clock.advance(days=1)
    assert (await world.deliver()).handled == 0

    counts = smtp.message_ids()
    assert len(counts) == 202 and set(counts.values()) == {1}
    assert len(smtp.to("admin@example.org")) == 200
    done = await app.outbox.list("done", limit=1000)
    config = plugin.config
    assert config is not None
    assert {message_id(item, config) for item in done} == set(counts)
    assert all(item.attempts == 2 for item in done)


async def test_an_unreachable_server_is_not_tried_again_for_a_moment(tmp_path, smtp, monkeypatch):
    plugin = configured(tmp_path, smtp_port=smtp.port)
    clock = {"now": 1000.0}
    monkeypatch.setattr("aspirasi_notify_email.transport.time.monotonic", lambda: clock["now"])
    with pytest.raises(ConnectionRefusedError):
        plugin.aspirasi_deliver_outbox_item(item=email_item(plugin, 1))
    smtp.start()
    clock["now"] += plugin.transport.reconnect_after - 1
    with pytest.raises(SmtpUnavailable, match="not tried again yet"):
        plugin.aspirasi_deliver_outbox_item(item=email_item(plugin, 2))
    assert smtp.received == []
    clock["now"] += 2
    assert plugin.aspirasi_deliver_outbox_item(item=email_item(plugin, 3)) is True
    assert len(smtp.received) == 1


async def test_a_retry_of_the_same_item_carries_the_same_message_id(tmp_path, smtp):
    smtp.start()
    plugin = configured(tmp_path, smtp_port=smtp.port)
    item = email_item(plugin, 41)
    # A worker that crashed after sending but before marking the item done: the
    # item is delivered again, and is recognisable as the same mail.
    assert plugin.aspirasi_deliver_outbox_item(item=item) is True
    assert plugin.aspirasi_deliver_outbox_item(item=item) is True
    assert plugin.aspirasi_deliver_outbox_item(item=email_item(plugin, 42)) is True
    ids = [str(r.message["Message-ID"]) for r in smtp.received]
    assert ids[0] == ids[1] != ids[2]
    assert re.fullmatch(r"<41\.[0-9a-f]{20}\.aspirasi@kaltimprov\.go\.id>", ids[0])
    # Another site (another secret key) sending item 41 from the same domain makes
    # another Message-ID: a receiver can tell a resend from another site's mail.
    other = configured(tmp_path, smtp_port=smtp.port, secret_key="another-site-secret-" * 3)
    other_config, config = other.config, plugin.config
    assert other_config is not None and config is not None
    assert message_id(item, other_config) != message_id(item, config) == ids[0]


async def test_other_topics_are_left_to_other_plugins(tmp_path):
    plugin = configured(tmp_path)
    item = OutboxItem(
        id=1, topic="log", payload={}, attempts=1, status="sending", created_at=T0, available_at=T0
    )
    assert plugin.aspirasi_deliver_outbox_item(item=item) is None


async def test_a_broken_payload_fails_the_delivery(tmp_path):
    plugin = configured(tmp_path)
    item = OutboxItem(
        id=1,
        topic=EMAIL_TOPIC,
        payload={"format": 1, "to": "x@example.org"},
        attempts=1,
        status="sending",
        created_at=T0,
        available_at=T0,
    )
    with pytest.raises(ValueError, match=r"subject|kind"):
        plugin.aspirasi_deliver_outbox_item(item=item)


# --------------------------------------------------------------------------- two dispatchers


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("pg", id="pg", marks=pytest.mark.postgres),
    ]
)
def shared_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.db'}"
    return request.getfixturevalue("pg_url")


async def test_two_dispatchers_at_once_send_each_mail_once(
    shared_url, crypto, tmp_path, smtp, build_world_on
):
    upgrade(shared_url)
    first_db = create_database(shared_url, crypto)
    second_db = create_database(shared_url, crypto)
    try:
        world = await build_world_on(first_db, tmp_path, NotifyEmailPlugin(), smtp_port=smtp.port)
        author = world.ctx("ani")
        for n in range(80):
            await world.app.messages.submit(author, SubmitInput(f"Aduan {n}", "…"))
        settings = world.app.deps.settings
        # Another worker process: its own database connection, plugin manager and plugin.
        other_pm = create_plugin_manager(
            settings, load_entry_points=False, extra_plugins=[NotifyEmailPlugin()]
        )
        other = bootstrap(settings, plugin_manager=other_pm, database=second_db, clock=world.clock)
        smtp.start()
        dispatchers = [world.app.outbox, other.outbox]
        delivered = [0, 0]
        errors: list[BaseException] = []
        start = threading.Barrier(len(dispatchers))

        def work(index: int) -> None:
            dispatcher = dispatchers[index]
            dispatcher.batch = 4
            try:
                start.wait()
                while True:
                    stats = dispatcher.run_once_sync()
                    delivered[index] += stats.delivered
                    assert stats.retried == stats.dead == 0
                    if not stats.handled:
                        return
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(len(dispatchers))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not errors
        assert sum(delivered) == 82 and all(delivered), delivered
        counts = smtp.message_ids()
        assert len(counts) == 82 and set(counts.values()) == {1}
    finally:
        first_db.dispose()
        second_db.dispose()


# --------------------------------------------------------------------------- TLS and auth


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"smtp_port": 25}, {"implicit_tls": False, "starttls": False, "username": None}),
        (
            {"smtp_port": 587, "smtp_starttls": True},
            {"implicit_tls": False, "starttls": True, "username": None},
        ),
        (
            {"smtp_port": 587, "smtp_user": "aspirasi", "smtp_password": "s3cret"},
            {"implicit_tls": False, "starttls": None, "username": "aspirasi", "password": "s3cret"},
        ),
        (
            {
                "smtp_port": 587,
                "smtp_starttls": True,
                "smtp_user": "aspirasi",
                "smtp_password": "s3cret",
            },
            {"implicit_tls": False, "starttls": True, "username": "aspirasi", "password": "s3cret"},
        ),
        (
            {"smtp_port": 465, "smtp_starttls": True, "smtp_user": "a", "smtp_password": "p"},
            {"implicit_tls": True, "starttls": False, "username": "a", "password": "p"},
        ),
    ],
)
async def test_tls_and_authentication_settings_make_the_connection(tmp_path, settings, expected):
    # What the settings make of a connection; the real servers below show the
    # transport connects that way (plain, STARTTLS with a private CA, log-in).
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    plugin = configured(
        tmp_path,
        smtp_host="mail.kaltimprov.go.id",
        extra={"notify_email_timeout": "7.5", "notify_email_ca_file": str(ca)},
        **settings,
    )
    options = plugin.transport.options()
    assert options["hostname"] == "mail.kaltimprov.go.id"
    assert options["port"] == settings["smtp_port"]
    assert options["timeout"] == 7.5 and options["ca_file"] == str(ca)
    assert {key: options.get(key) for key in expected} == expected
    if expected["username"] is None:
        assert options["password"] is None


async def test_a_run_of_mails_goes_over_one_connection_then_says_goodbye(tmp_path, smtp):
    smtp.start()
    plugin = configured(tmp_path, smtp_port=smtp.port)
    plugin.transport.goodbye_delay = 3600  # no goodbye in the middle of the run
    for n in (1, 2, 3):
        assert plugin.aspirasi_deliver_outbox_item(item=email_item(plugin, n)) is True
    # After the next mail, the goodbye follows by itself (polled, generous deadline).
    plugin.transport.goodbye_delay = 0.01
    assert plugin.aspirasi_deliver_outbox_item(item=email_item(plugin, 4)) is True
    assert len({r.peer for r in smtp.received}) == 1  # one connection for the four
    deadline = time.monotonic() + 30
    while smtp.goodbyes < 1:
        assert time.monotonic() < deadline, "the transport never said goodbye"
        time.sleep(0.05)
    plugin.transport.goodbye_delay = 3600
    assert plugin.aspirasi_deliver_outbox_item(item=email_item(plugin, 5)) is True
    assert smtp.received[4].peer != smtp.received[0].peer  # a new connection
    plugin.transport.close()
    assert smtp.goodbyes == 2
    ids = [str(r.message["Message-ID"]).split(".")[0] for r in smtp.received]
    assert ids == ["<1", "<2", "<3", "<4", "<5"]


async def test_a_connection_the_server_dropped_is_replaced_and_the_mail_sent_once(tmp_path, smtp):
    smtp.start()
    plugin = configured(tmp_path, smtp_port=smtp.port)
    plugin.transport.goodbye_delay = 3600  # the connection stays open meanwhile
    assert plugin.aspirasi_deliver_outbox_item(item=email_item(plugin, 1)) is True
    smtp.stop()  # drops the open connection
    smtp.start()
    assert plugin.aspirasi_deliver_outbox_item(item=email_item(plugin, 2)) is True
    assert len(smtp.received) == 2 and smtp.received[0].peer != smtp.received[1].peer
    assert len(smtp.message_ids()) == 2
    plugin.transport.close()


def authenticator(server, session, envelope, mechanism, auth_data):
    def text(value):
        return value.decode() if isinstance(value, bytes) else value

    ok = isinstance(auth_data, LoginPassword) and (
        text(auth_data.login),
        text(auth_data.password),
    ) == ("aspirasi", "s3cret-password")
    # handled=False: aiosmtpd answers the failure itself (535).
    return AuthResult(success=ok, handled=False, auth_data="aspirasi" if ok else None)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_authenticates_against_a_real_server(tmp_path, smtp):
    smtp.start(authenticator=authenticator, auth_required=True, auth_require_tls=False)
    plugin = configured(
        tmp_path, smtp_port=smtp.port, smtp_user="aspirasi", smtp_password="s3cret-password"
    )
    assert plugin.aspirasi_deliver_outbox_item(item=email_item(plugin)) is True
    [received] = smtp.received
    assert received.login == "aspirasi" and not received.tls

    wrong = configured(
        tmp_path, smtp_port=smtp.port, smtp_user="aspirasi", smtp_password="not-the-password"
    )
    with pytest.raises(smtplib.SMTPAuthenticationError):
        wrong.aspirasi_deliver_outbox_item(item=email_item(wrong))
    anonymous = configured(tmp_path, smtp_port=smtp.port)
    with pytest.raises(smtplib.SMTPException):
        anonymous.aspirasi_deliver_outbox_item(item=email_item(anonymous))
    assert len(smtp.received) == 1


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "smtp.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "smtp-cert.pem", tmp_path / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


async def test_starttls_with_a_private_ca_and_authentication(tmp_path, smtp):
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    smtp.start(
        tls_context=context,
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
    )
    plugin = configured(
        tmp_path,
        smtp_port=smtp.port,
        smtp_starttls=True,
        smtp_user="aspirasi",
        smtp_password="s3cret-password",
        extra={"notify_email_ca_file": str(cert)},
    )
    assert plugin.aspirasi_deliver_outbox_item(item=email_item(plugin)) is True
    [received] = smtp.received
    assert received.tls and received.login == "aspirasi"

    # Without the CA the certificate is refused: certificates are checked.
    untrusting = configured(
        tmp_path,
        smtp_port=smtp.port,
        smtp_starttls=True,
        smtp_user="aspirasi",
        smtp_password="s3cret-password",
    )
    with pytest.raises((ssl.SSLError, smtplib.SMTPException)):
        untrusting.aspirasi_deliver_outbox_item(item=email_item(untrusting))
    assert len(smtp.received) == 1


async def test_render_by_name_for_previews(tmp_path):
    plugin = configured(tmp_path)
    mail = plugin.render(
        "status_changed",
        Recipient("ani@example.org", "en", "Ani"),
        {
            "ticket": "2611-X",
            "action": "start",
            "from_status": "forwarded",
            "to_status": "in_progress",
            "note": "",
            "link": "https://aspirasi.kaltimprov.go.id/messages/1",
        },
    )
    assert mail.subject == "Message 2611-X is being handled – ASPIRASI ETAM"
    assert mail.language == "en" and mail.to == "ani@example.org"
