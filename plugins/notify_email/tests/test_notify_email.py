"""The plugin as the core sees it: loaded from its entry point as a fresh object
per plugin manager, its settings checked at start-up (aspirasi_configure), the
block-list honoured, and mail kinds other plugins add."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import attrs
import pytest

from aspirasi_core import hookimpl
from aspirasi_core.domain.events import Event
from aspirasi_core.domain.model import Account
from aspirasi_core.domain.pii import mask_pii
from aspirasi_core.plugins import create_plugin_manager, list_plugins
from aspirasi_core.security.crypto import Crypto
from aspirasi_core.settings import Settings
from aspirasi_notify_email import (
    EMAIL_TOPIC,
    MailKind,
    MailRenderError,
    NotifyEmailPlugin,
    Recipient,
)
from aspirasi_notify_email.render import QUEUED_FORMAT

HOOKS = (
    "aspirasi_addhooks",
    "aspirasi_configure",
    "aspirasi_deliver_outbox_item",
    "aspirasi_outbox_items",
)
T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


def manager(**env: str):
    environ = {"ASPIRASI_PLUGINS": "notify_email", **env}
    return create_plugin_manager(Settings.from_env(environ))


def plugin_of(pm) -> NotifyEmailPlugin:
    plugin = pm.get_plugin("notify_email")
    assert isinstance(plugin, NotifyEmailPlugin)
    return plugin


def configured(**env: str) -> NotifyEmailPlugin:
    """A plugin object configured by a plugin manager built from ``env``."""
    plugin = NotifyEmailPlugin()
    create_plugin_manager(Settings.from_env(env), load_entry_points=False, extra_plugins=[plugin])
    return plugin


def test_each_manager_gets_its_own_plugin_object_from_the_entry_point():
    [info] = [p for p in list_plugins(manager()) if p.name == "notify_email"]
    assert info.distribution == "aspirasi-notify-email"
    assert info.module == "aspirasi_notify_email.NotifyEmailPlugin"
    assert info.hooks == HOOKS
    first = plugin_of(manager(ASPIRASI_SMTP_HOST="mail-a.example"))
    second = plugin_of(manager(ASPIRASI_SMTP_HOST="mail-b.example"))
    assert first is not second
    assert first.config is not None and first.config.smtp_host == "mail-a.example"
    assert second.config is not None and second.config.smtp_host == "mail-b.example"


def test_the_block_list_keeps_it_out():
    pm = create_plugin_manager(Settings.from_env({"ASPIRASI_DISABLED_PLUGINS": "notify_email"}))
    assert pm.get_plugin("notify_email") is None
    assert "notify_email" not in [p.name for p in list_plugins(pm)]
    owners = {impl.plugin_name for impl in pm.hook.aspirasi_outbox_items.get_hookimpls()}
    assert not any(isinstance(pm.get_plugin(name), NotifyEmailPlugin) for name in owners)


def test_reads_the_mail_settings():
    plugin = configured(
        ASPIRASI_SMTP_HOST="mail.kaltimprov.go.id",
        ASPIRASI_SMTP_PORT="587",
        ASPIRASI_SMTP_STARTTLS="true",
        ASPIRASI_SMTP_USER="aspirasi",
        ASPIRASI_SMTP_PASSWORD="hunter2-very-secret",
        ASPIRASI_MAIL_FROM="ASPIRASI ETAM <noreply@kaltimprov.go.id>",
        ASPIRASI_BASE_URL="https://aspirasi.kaltimprov.go.id/",
        ASPIRASI_NOTIFY_EMAIL_TIMEOUT="4",
    )
    config = plugin.config
    assert config is not None
    assert (config.mode, config.smtp_host, config.smtp_port, config.smtp_starttls) == (
        "smtp",
        "mail.kaltimprov.go.id",
        587,
        True,
    )
    assert config.uses_authentication and config.timeout == 4
    assert config.sender == "noreply@kaltimprov.go.id" and config.domain == "kaltimprov.go.id"
    assert config.base_url == "https://aspirasi.kaltimprov.go.id"
    assert "hunter2" not in repr(config)
    assert plugin.mailbox is None


def test_plain_smtp_without_authentication_by_default():
    config = configured(ASPIRASI_SMTP_HOST="127.0.0.1").config
    assert config is not None
    assert (config.smtp_port, config.smtp_starttls, config.uses_authentication) == (
        25,
        False,
        False,
    )
    assert config.timeout == 10


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"ASPIRASI_SMTP_PORT": "0"}, "ASPIRASI_SMTP_PORT"),
        ({"ASPIRASI_SMTP_PORT": "70000"}, "ASPIRASI_SMTP_PORT"),
        ({"ASPIRASI_MAIL_FROM": "  "}, "ASPIRASI_MAIL_FROM"),
        ({"ASPIRASI_MAIL_FROM": "ASPIRASI ETAM"}, "ASPIRASI_MAIL_FROM"),
        ({"ASPIRASI_BASE_URL": "aspirasi.example"}, "ASPIRASI_BASE_URL"),
        ({"ASPIRASI_NOTIFY_EMAIL_TIMEOUT": "soon"}, "ASPIRASI_NOTIFY_EMAIL_TIMEOUT"),
        ({"ASPIRASI_NOTIFY_EMAIL_TIMEOUT": "0"}, "ASPIRASI_NOTIFY_EMAIL_TIMEOUT"),
        ({"ASPIRASI_NOTIFY_EMAIL_CA_FILE": "/nonexistent/ca.pem"}, "ASPIRASI_NOTIFY_EMAIL_CA_FILE"),
        ({"ASPIRASI_ENV": "production"}, "ASPIRASI_SMTP_HOST"),
    ],
)
def test_a_bad_setting_refuses_to_start(env, variable):
    with pytest.raises(ValueError, match=variable):
        configured(**env)


def test_production_with_an_smtp_host_starts():
    config = configured(
        ASPIRASI_ENV="production", ASPIRASI_SMTP_HOST="mail.kaltimprov.go.id"
    ).config
    assert config is not None and config.mode == "smtp"


def test_the_plugin_is_not_usable_before_it_is_configured():
    with pytest.raises(RuntimeError, match="not configured"):
        NotifyEmailPlugin().aspirasi_outbox_items(event=Event(), lookup=None)


def test_mails_mask_personal_data_with_the_cores_masker(tmp_path):
    # One masker for the public pages and the mails (aspirasi_core.domain.pii).
    text = "NIK 6472-0455-0491-0001, WA 0812-3456-7890, budi.santoso@gmail.com, 2611-AB12"
    plugin = queued_plugin(tmp_path, lambda e, links: {"text": e.text, "link": links.url("/r")})
    event = ReprimandIssued(agency_id=3, text=text, at=T0)
    [item] = plugin.aspirasi_outbox_items(event=event, lookup=Lookup(operator(1, "id")))
    mail = plugin.mail_of(item.payload)
    for shown in (str(item.payload), mail.text, mail.html):
        for raw in ("6472-0455-0491-0001", "0812-3456-7890", "budi.santoso@gmail.com"):
            assert raw not in shown
    assert f"Teguran: {mask_pii(text)}" in mail.text
    assert "6472********0001, WA 0812*****890, b***@***.com, 2611-AB12" in mail.text
    # the contact address of the footer is no personal data of anyone
    assert "Pertanyaan: support@aspirasi.example.go.id" in mail.text


# --------------------------------------------------------------------------- other plugins' kinds


@attrs.frozen
class ReprimandIssued(Event):
    """An event another plugin (the evaluator, later) would record."""

    agency_id: int
    text: str
    at: datetime


class Lookup:
    def __init__(self, *accounts: Account) -> None:
        self.accounts = accounts

    def account(self, account_id):
        return next((a for a in self.accounts if a.id == account_id), None)

    def with_role(self, role):
        return [a for a in self.accounts if a.role == role]

    def operators_of(self, agency_id):
        return [a for a in self.accounts if a.role == "operator" and a.agency_id == agency_id]

    def with_permission(self, permission):
        return []


def operator(account_id: int, language: str) -> Account:
    return Account(
        id=account_id,
        email=f"op{account_id}@example.org",
        username=f"op{account_id}",
        full_name=f"Operator {account_id}",
        role="operator",
        agency_id=3,
        permissions=frozenset(),
        is_active=True,
        email_verified_at=T0,
        language=language,
        created_at=T0,
        password_hash="-",
    )


def reprimand_kind(template_dir: Path) -> MailKind:
    (template_dir / "id").mkdir(parents=True, exist_ok=True)
    (template_dir / "id" / "sample_reprimand.subject.txt").write_text(
        "Teguran untuk instansi Anda – {{ app_name }}\n"
    )
    (template_dir / "id" / "sample_reprimand.txt").write_text(
        '{% extends "_layout.txt" %}{% block body %}Teguran: {{ text }}\n{{ link }}\n{% endblock %}'
    )
    (template_dir / "id" / "sample_reprimand.html").write_text(
        '{% extends "_layout.html" %}{% block body %}<p>Teguran: {{ text }}</p>{% endblock %}'
    )
    return MailKind(
        name="sample_reprimand",
        events=(ReprimandIssued,),
        recipients=lambda e, lookup: [Recipient.of(a) for a in lookup.operators_of(e.agency_id)],
        context=lambda e, links: {"text": e.text, "link": links.url("/reprimands")},
        template_dir=str(template_dir),
    )


class Declares:
    """Another plugin, adding mail kinds through notify_email's hook."""

    def __init__(self, *kinds: object) -> None:
        self.kinds = list(kinds)

    @hookimpl(optionalhook=True)
    def aspirasi_mail_kinds(self):
        return self.kinds


def with_kinds(plugin: NotifyEmailPlugin, *others: object, **settings) -> NotifyEmailPlugin:
    settings.setdefault("smtp_host", "127.0.0.1")
    create_plugin_manager(
        Settings(**settings), load_entry_points=False, extra_plugins=[plugin, *others]
    )
    return plugin


def test_another_plugin_adds_a_mail_kind_through_the_hook(tmp_path):
    kind = reprimand_kind(tmp_path / "evaluator-mail")
    plugin = with_kinds(NotifyEmailPlugin(), Declares(kind), base_url="https://aspirasi.example")
    assert "sample_reprimand" in plugin.kinds
    event = ReprimandIssued(agency_id=3, text="Pesan 6472045504910001 belum ditindaklanjuti", at=T0)
    items = plugin.aspirasi_outbox_items(
        event=event, lookup=Lookup(operator(1, "en"), operator(2, "id"))
    )
    assert [i.topic for i in items] == [EMAIL_TOPIC, EMAIL_TOPIC]
    # Queued with their variables, rendered at delivery.
    assert {i.payload["format"] for i in items} == {QUEUED_FORMAT}
    first, second = (plugin.mail_of(i.payload).to_payload() for i in items)
    assert (first["to"], second["to"]) == ("op1@example.org", "op2@example.org")
    # Only Indonesian templates: the English reader gets those (the default language).
    assert first["language"] == second["language"] == "id"
    assert first["subject"] == "Teguran untuk instansi Anda – ASPIRASI ETAM"
    assert "Teguran: Pesan 6472********0001 belum" in first["text"]
    assert "https://aspirasi.example/reprimands" in first["text"]
    assert "ASPIRASI ETAM · Provinsi Kalimantan Timur" in first["text"]  # the shared layout
    assert "<p>Teguran: Pesan 6472********0001" in first["html"]


def test_the_block_list_applies_to_mail_kinds_of_other_plugins():
    # One registry: a plugin that is not loaded declares no mail kind.
    def kinds(**settings):
        pm = create_plugin_manager(Settings(smtp_host="127.0.0.1", **settings))
        return pm.get_plugin("notify_email").kinds

    assert "evaluator_reprimand" in kinds()
    assert "evaluator_reprimand" not in kinds(disabled_plugins=("evaluator",))
    assert "evaluator_reprimand" not in kinds(plugins=("notify_email", "land_issue"))
    assert "land_issue_forwarded" in kinds(plugins=("notify_email", "land_issue"))


def test_mail_kinds_are_checked(tmp_path):
    kind = reprimand_kind(tmp_path / "evaluator-mail")
    with pytest.raises(ValueError, match="already registered"):
        NotifyEmailPlugin(kinds=[kind, attrs.evolve(kind, when=lambda e: True)])
    with pytest.raises(ValueError, match="lower_snake_case"):
        attrs.evolve(kind, name="Reprimand!")
    with pytest.raises(ValueError, match="must return MailKind values"):
        with_kinds(NotifyEmailPlugin(), Declares("x"))


def test_a_template_bug_names_the_kind(tmp_path):
    kind = reprimand_kind(tmp_path / "evaluator-mail")
    (tmp_path / "evaluator-mail" / "id" / "sample_reprimand.txt").write_text("{{ missing }}")
    event = ReprimandIssued(agency_id=3, text="x", at=T0)
    # A kind given in code is rendered when the mail is queued: the bug shows there.
    plugin = with_kinds(NotifyEmailPlugin(kinds=[kind]))
    with pytest.raises(MailRenderError, match="sample_reprimand"):
        plugin.aspirasi_outbox_items(event=event, lookup=Lookup(operator(1, "id")))
    # A declared kind is rendered at delivery: the bug shows then.
    plugin = with_kinds(NotifyEmailPlugin(), Declares(kind))
    [item] = plugin.aspirasi_outbox_items(event=event, lookup=Lookup(operator(1, "id")))
    with pytest.raises(MailRenderError, match="sample_reprimand"):
        plugin.mail_of(item.payload)


# --------------------------------------------------------------------------- rendered at delivery


def queued_plugin(tmp_path, context, *, declared: bool = True) -> NotifyEmailPlugin:
    """A plugin whose sample kind has the variables ``context(event, links)``, declared
    through the hook by another plugin (every process knows it) or, with
    ``declared=False``, given in code."""
    kind = attrs.evolve(reprimand_kind(tmp_path / "mail"), context=context)
    if declared:
        return with_kinds(NotifyEmailPlugin(), Declares(kind), base_url="https://aspirasi.example")
    return with_kinds(NotifyEmailPlugin(kinds=[kind]), base_url="https://aspirasi.example")


def sealed_round_trip(payload):
    """The payload as the outbox worker reads it back (encrypted JSON)."""
    crypto = Crypto("a-secret-key-of-the-test-suite")
    return crypto.decrypt_payload(crypto.encrypt_payload(payload))


def test_a_queued_mail_is_rendered_at_delivery_as_it_would_have_been_at_once(tmp_path):
    plugin = queued_plugin(
        tmp_path,
        lambda e, links: {
            "text": e.text,
            # A token that looks like a NIK: links are never masked.
            "link": links.url("/verify", token="6472045504910001"),
        },
    )
    event = ReprimandIssued(agency_id=3, text="NIK 6472045504910001 di catatan", at=T0)
    [item] = plugin.aspirasi_outbox_items(event=event, lookup=Lookup(operator(1, "id")))
    payload = sealed_round_trip(item.payload)
    assert payload["format"] == QUEUED_FORMAT
    assert not {"subject", "text", "html"} & set(payload)  # nothing rendered yet
    # The outbox holds no more than the mail will show: the NIK is masked already,
    # the link (not a NIK) is kept whole.
    assert "6472045504910001" not in str(payload["context"]["text"])
    assert payload["context"]["link"].endswith("token=6472045504910001")
    mail = plugin.mail_of(payload)
    context = {"text": event.text, "link": plugin._links.url("/verify", token="6472045504910001")}
    assert mail == plugin.render("sample_reprimand", Recipient.of(operator(1, "id")), context)
    assert "https://aspirasi.example/verify?token=6472045504910001" in mail.text
    assert "NIK 6472********0001 di catatan" in mail.text


def test_variables_that_are_not_plain_json_are_rendered_at_once(tmp_path):
    cases = [
        lambda e, links: {"text": e.text, "link": links.url("/r"), "at": e.at},  # a datetime
        lambda e, links: {"text": e.text, "link": links.url("/r"), "more": [links.url("/x")]},
        lambda e, links: {"text": e.text, "link": links.url("/r"), "d": {1: "int key"}},
    ]
    for context in cases:
        plugin = queued_plugin(tmp_path, context)
        event = ReprimandIssued(agency_id=3, text="halo", at=T0)
        [item] = plugin.aspirasi_outbox_items(event=event, lookup=Lookup(operator(1, "id")))
        assert item.payload["format"] == 1
        assert "Teguran: halo" in item.payload["text"]
        assert plugin.mail_of(sealed_round_trip(item.payload)).subject.startswith("Teguran")


def test_a_queued_mail_whose_kind_is_gone_or_whose_payload_is_broken_is_not_sent(tmp_path):
    plugin = queued_plugin(tmp_path, lambda e, links: {"text": e.text, "link": links.url("/r")})
    event = ReprimandIssued(agency_id=3, text="halo", at=T0)
    [item] = plugin.aspirasi_outbox_items(event=event, lookup=Lookup(operator(1, "id")))
    good = dict(item.payload)
    with pytest.raises(MailRenderError, match="not installed"):
        plugin.mail_of({**good, "kind": "removed_kind"})
    broken = [
        {**good, "to": "op1@example.org\r\nBcc: x@example.org"},
        {**good, "to": None},
        {**good, "context": "text"},
        {**good, "urls": ["text", "missing"]},
        {**good, "format": 7},
    ]
    for payload in broken:
        with pytest.raises(ValueError):
            plugin.mail_of(payload)
    # A mail rendered before this format existed is still delivered as it is.
    rendered = plugin.render(
        "sample_reprimand",
        Recipient.of(operator(1, "id")),
        {"text": "lama", "link": plugin._links.url("/r")},
    )
    assert plugin.mail_of(rendered.to_payload()) == rendered


def test_a_kind_given_in_code_is_rendered_at_once(tmp_path):
    # An `aspirasi outbox run` process builds its plugin from the entry points and
    # would not know this kind: its mails cannot wait for delivery to be rendered.
    plugin = queued_plugin(
        tmp_path, lambda e, links: {"text": e.text, "link": links.url("/r")}, declared=False
    )
    event = ReprimandIssued(agency_id=3, text="halo", at=T0)
    [item] = plugin.aspirasi_outbox_items(event=event, lookup=Lookup(operator(1, "id")))
    assert item.payload["format"] == 1
    assert "Teguran: halo" in item.payload["text"]


def test_a_confidential_subject_never_enters_the_outbox(tmp_path):
    from aspirasi_core.domain.events import MessageSubmitted

    plugin = NotifyEmailPlugin()
    plugin.aspirasi_configure(settings=Settings(smtp_host="127.0.0.1"))
    admin = attrs.evolve(operator(1, "id"), role="admin", agency_id=None)
    for confidential in (True, False):
        event = MessageSubmitted(
            message_id=7,
            ticket="ASP-7",
            author_id=9,
            subject="Rahasia dapur",
            confidential=confidential,
            anonymous=False,
            at=T0,
        )
        [item] = plugin.aspirasi_outbox_items(event=event, lookup=Lookup(admin))
        assert item.payload["format"] == QUEUED_FORMAT
        assert ("Rahasia dapur" in str(item.payload)) is not confidential
        mail = plugin.mail_of(item.payload)
        assert ("Rahasia dapur" in mail.text + mail.html) is not confidential


def test_a_nik_given_as_a_number_is_masked_too(tmp_path):
    plugin = queued_plugin(
        tmp_path, lambda e, links: {"text": 6472045504910001, "link": links.url("/r")}
    )
    event = ReprimandIssued(agency_id=3, text="", at=T0)
    [item] = plugin.aspirasi_outbox_items(event=event, lookup=Lookup(operator(1, "id")))
    assert "6472045504910001" not in str(item.payload)
    assert "Teguran: 6472********0001" in plugin.mail_of(item.payload).text
    rendered = plugin.render(
        "sample_reprimand",
        Recipient.of(operator(1, "id")),
        {"text": 6472045504910001, "link": plugin._links.url("/r")},
    )
    assert "6472045504910001" not in rendered.text + rendered.html
