"""Settings, read from ``ASPIRASI_*`` environment variables.

Every field documents itself (``help``) and names its variable; ``docs/configuration.md``
lists them all and a test keeps the two in step. Defaults suit the embedded mode
(SQLite under ``var/``); :meth:`Settings.check_production` refuses to start a
production deployment with demo secrets.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import attrs

from . import settings_env
from .settings_checks import DEMO_SECRET_KEY, settings_problems
from .settings_env import PREFIX, env_values, plugin_settings, setting

__all__ = [
    "DEMO_SECRET_KEY",
    "PREFIX",
    "Settings",
    "documented_fields",
    "plugin_settings",
    "setting",
]


_setting = setting


@attrs.frozen
class Settings:
    """All settings of the core and the bundled web app."""

    env: str = _setting(
        "development",
        "`development` or `production`. Production refuses demo secrets, demo mode and"
        " an http base URL, and marks cookies Secure.",
    )
    database_url: str = _setting(
        "sqlite:///var/aspirasi.db",
        "SQLAlchemy URL of the database: `sqlite:///path.db` (embedded default) or"
        " `postgresql://user@host/db` (production; the driver is chosen for you).",
    )
    db_threads: int = _setting(
        0,
        "Database transactions a worker runs at once, each in a worker thread (and,"
        " on PostgreSQL, as many kept connections); 0: 8. Raise it when PostgreSQL is"
        " across a network (each statement waits a round trip) or slow reports run often.",
    )
    db_statement_timeout_ms: int = _setting(
        5000,
        "PostgreSQL: longest a statement of the service may run (statement_timeout, in"
        " ms; 0: no limit). A request whose statement runs out answers 503 with"
        " Retry-After instead of holding its worker. Migrations run without it.",
    )
    db_report_statement_timeout_ms: int = _setting(
        60000,
        "PostgreSQL: longest a statement of a long read-only report (the evaluator's"
        " report, exports) may run, in ms (SET LOCAL statement_timeout in the report's"
        " transaction; 0: ASPIRASI_DB_STATEMENT_TIMEOUT_MS applies to reports too).",
    )
    db_lock_timeout_ms: int = _setting(
        3000,
        "PostgreSQL: longest a statement waits for a row or table lock held by someone"
        " else (lock_timeout, in ms; 0: no limit). Past it the request answers 503 with"
        " Retry-After, so one held lock does not stall every request.",
    )
    sqlite_busy_timeout_ms: int = _setting(
        10000,
        "SQLite: longest a write waits for the other writes before it (SQLite runs one"
        " at a time, across every worker process), in ms; 0: 10000. Longer than the"
        " PostgreSQL timeouts, because it waits for every writer queued ahead of it, not"
        " for one row. Past it the request answers 503 with Retry-After.",
    )
    sqlite_cache_kib: int = _setting(
        512,
        "SQLite: page cache of each pooled connection, in KiB (PRAGMA cache_size); 0:"
        " SQLite's default of 2000. A worker keeps one connection per database thread"
        " (ASPIRASI_DB_THREADS), so this times 8 is its page cache; pages not in it are"
        " read from the operating system's file cache. Sorts larger than it spill to"
        " temporary files. See docs/performance.md, Worker memory on SQLite.",
    )
    db_connect_timeout_seconds: int = _setting(
        5,
        "PostgreSQL: seconds to wait for a new connection (libpq connect_timeout; 0:"
        " as long as the network takes). A database that cannot be reached answers"
        " 503 with Retry-After.",
    )
    db_retries: int = _setting(
        3,
        "New attempts of a transaction PostgreSQL aborted because of other transactions"
        " (deadlock, serialisation failure), each after a random pause of up to 50 ms,"
        " 100 ms, 200 ms…; when they fail too the request answers 503 with Retry-After."
        " A lock not granted within ASPIRASI_DB_LOCK_TIMEOUT_MS is not retried. 0: none.",
    )
    secret_key: str = _setting(
        DEMO_SECRET_KEY,
        "Secret for signing and for the keys that encrypt NIKs and outbox payloads"
        " (derived with HKDF). At least 32 characters, and in production at least 100 bits"
        " of estimated strength (see `estimate_key_bits`); keep it stable, or stored NIKs"
        " become unreadable.",
        secret=True,
    )
    base_url: str = _setting(
        "http://127.0.0.1:8000", "Public address of the service, used in links in e-mails."
    )
    smtp_host: str | None = _setting(
        None, "SMTP server for outgoing mail. Unset in demo mode keeps mail in the dev mailbox."
    )
    smtp_port: int = _setting(25, "SMTP port.")
    smtp_starttls: bool = _setting(False, "Upgrade the SMTP connection with STARTTLS.")
    smtp_user: str | None = _setting(None, "SMTP user name (authentication is used when set).")
    smtp_password: str | None = _setting(None, "SMTP password.", secret=True)
    mail_from: str = _setting(
        "ASPIRASI ETAM <support@aspirasi.example.go.id>", "Sender of outgoing mail."
    )
    redis_url: str | None = _setting(
        None,
        "Redis URL (`redis://127.0.0.1:6379/0`) for rate-limit counters and"
        " notifications shared by several workers. Unset: in-process memory.",
    )
    storage_path: str = _setting(
        "var/storage", "Folder for uploaded attachments (never inside a static folder)."
    )
    file_storage: str = _setting(
        "local",
        "Where uploaded attachments are stored: `local` (the folder ASPIRASI_STORAGE_PATH)"
        " or the name of a storage plugin, such as `s3` (the bundled `storage_s3`: an"
        " S3-compatible object store every app machine shares).",
    )
    demo: bool = _setting(
        False,
        "Demo mode: `aspirasi demo` may create demo accounts and mail is kept in a"
        " mailbox readable in the browser. Never in production.",
    )
    plugins: tuple[str, ...] = _setting(
        (),
        "Comma-separated allow-list of plugin names to load. Empty: every installed plugin.",
        kind="list",
    )
    disabled_plugins: tuple[str, ...] = _setting(
        (), "Comma-separated block-list of plugin names never to load.", kind="list"
    )
    trace_hooks: bool = _setting(
        False, "Log every hook call with its arguments' names and its duration (debugging)."
    )
    province_name: str = _setting("Provinsi Kalimantan Timur", "Name of the province.")
    regions_file: str | None = _setting(
        None,
        "Path of a CSV file of the province's regencies/cities and districts (columns"
        " `code,name`, Kemendagri codes: `64.72` a regency or city, `64.72.06` one of its"
        " districts) that a message's location is chosen from. Unset: the bundled file of"
        ' East Kalimantan (province 64). See docs/configuration.md, "Regions".',
    )
    app_name: str = _setting("ASPIRASI ETAM", "Name of the service shown to people.")
    default_language: str = _setting("id", "Default language: `id` (Indonesian) or `en`.")
    brand_logo: str | None = _setting(
        None, "Path of a PNG, JPG or SVG logo file shown in the header (default: the bundled one)."
    )
    brand_color: str = _setting("#0b5d3b", "Main colour of the pages, as `#rrggbb`.")
    home_image: str | None = _setting(
        None,
        "Path of a PNG, JPG, WebP or SVG picture shown on the home page (default: the bundled"
        " illustration of East Kalimantan: the Mahakam, forested hills, a lamin longhouse and"
        " a hornbill). Use a picture the province has the rights to; it is served by the app.",
    )
    home_image_alt: str = _setting(
        "",
        "Text alternative of `ASPIRASI_HOME_IMAGE` for screen readers (plain text). Empty:"
        " the bundled illustration's own description, or none for a picture of your own.",
    )
    home_intro: str = _setting(
        "Sampaikan aspirasi dan aduan Anda kepada Pemerintah Provinsi Kalimantan Timur.",
        "Introduction on the home page (plain text).",
    )
    social_links: tuple[str, ...] = _setting(
        (),
        "Comma-separated `Name=https://…` links shown on the home page"
        " (e.g. `Instagram=https://instagram.com/kaltimprov`).",
        kind="list",
    )
    open_data_licence: str = _setting(
        "CC BY 4.0",
        "Licence of the open data the transparency page publishes (`/transparansi.csv`,"
        " `/transparansi.json`, evaluator plugin): its name or URL, shown with the figures.",
    )
    contact_address: str = _setting(
        "Jl. Gajah Mada No. 2, Samarinda, Kalimantan Timur", "Postal address shown in the footer."
    )
    contact_email: str = _setting(
        "support@aspirasi.example.go.id", "Contact address in the footer."
    )
    trusted_proxies: tuple[str, ...] = _setting(
        (),
        "Comma-separated IP addresses or networks (10.0.0.0/24) of reverse proxies whose"
        " X-Forwarded-For is believed. Empty: the client address is the connection's.",
        kind="list",
    )
    timezone: str = _setting(
        "Asia/Makassar", "IANA time zone for showing times (East Kalimantan: WITA, UTC+8)."
    )
    argon2_time_cost: int = _setting(2, "argon2id iterations (ASVS: at least 2).")
    argon2_memory_kib: int = _setting(19456, "argon2id memory in KiB (ASVS: at least 19 MiB).")
    argon2_parallelism: int = _setting(1, "argon2id lanes.")
    argon2_concurrency: int = _setting(
        0,
        "Password hashes computed at once per process (each takes 19 MiB and a core for"
        " tens of milliseconds); 0: as many as the CPUs the process may use.",
    )
    argon2_nice: int = _setting(
        10,
        "Scheduling priority (Linux nice, 0-19) of the threads that hash passwords: above"
        " 0 the event loop goes first when both want the CPU, so a burst of log-ins does"
        " not slow every other page; log-ins take the CPU that is left.",
    )
    argon2_idle: bool = _setting(
        True,
        "Run the threads that hash passwords in Linux's SCHED_IDLE class (ASPIRASI_ARGON2_NICE"
        " is then not used): any other thread of the machine that wakes up takes the CPU"
        " from a hash at once, so a burst of log-ins barely delays other requests; on a"
        " core that stays fully busy, log-ins wait for it. false: only the nice value.",
    )
    verification_ttl_hours: int = _setting(24, "Lifetime of an e-mail verification link.")
    reset_ttl_minutes: int = _setting(60, "Lifetime of a password-reset link.")
    session_idle_minutes: int = _setting(60, "A session unused this long ends.")
    session_absolute_hours: int = _setting(12, "A session ends this long after login, used or not.")
    api_token_days: int = _setting(30, "Lifetime of an API bearer token.")
    device_trust_days: int = _setting(
        90,
        "A browser or app that logged in successfully carries a signed device token this"
        " long (renewed at each log-in); with it, log-in attempts count against that device's"
        " own limit instead of the account's, so an attacker elsewhere cannot lock its owner"
        " out.",
    )
    unverified_account_days: int = _setting(
        7,
        "Citizen accounts whose e-mail is still unverified this many days after registering"
        " are removed by the sweep, freeing their e-mail, username and NIK.",
    )
    verification_mails_per_day: int = _setting(
        5,
        "Mails about registering (verification links, 'someone tried to register', 'this NIK"
        " is taken') sent to one address per day at most; a further resend is refused until"
        " the next day (in ASPIRASI_TIMEZONE) and a further registration mails nothing.",
    )
    verification_resend_seconds: int = _setting(
        60,
        "A new verification link (asked for on the waiting page, or its address corrected)"
        " is sent at most once in this many seconds per account; the page counts down"
        " until then (0: no pause; the rate limit still applies).",
    )
    max_upload_mb: int = _setting(
        10,
        "Largest attachment accepted, in megabytes (JPG or PDF), each. A request may carry"
        " ASPIRASI_MAX_ATTACHMENTS such files plus 1 MB of form: size a proxy's body limit"
        " (nginx client_max_body_size) to that.",
    )
    max_attachments: int = _setting(
        5, "Files a citizen may attach to one message at most (photos and PDFs)."
    )
    image_decode_concurrency: int = _setting(
        2,
        "JPEG attachments decoded at once per worker process; more wait their turn. Each"
        " decode takes up to ~100 MB (a 40-megapixel photo ~30 MB: large photos are"
        " decoded at a reduced scale) and a core for a fraction of a second.",
    )
    attachment_retention_days: int = _setting(
        0,
        "Days the attachments of a closed message (done or rejected) are kept; then the"
        " periodic sweep deletes their files and the pages say they were removed. 0"
        " keeps them for good: set it from the province's records retention schedule.",
    )
    audit_retention_days: int = _setting(
        730,
        "Days the audit log keeps an entry (who read whose personal data, from which"
        " address); then the periodic sweep removes it. 0 keeps entries for good.",
    )
    log_level: str = _setting("INFO", "Log level: DEBUG, INFO, WARNING or ERROR.")
    log_json: bool = _setting(False, "Write logs as JSON lines (production) instead of text.")
    serve_keep_alive_seconds: int = _setting(
        5,
        "`aspirasi serve`: seconds an idle keep-alive connection stays open (uvicorn"
        " timeout_keep_alive). Keep it above the reverse proxy's upstream keep-alive, so"
        " the proxy drops an idle connection first.",
    )
    serve_body_timeout_seconds: int = _setting(
        20,
        "Seconds a request's body may stop arriving while the app waits for it; then"
        " the request is answered 408 and its connection closed. A slow but steady"
        " upload goes on. 0: no limit. (Slow headers are the reverse proxy's to bound.)",
    )
    serve_limit_concurrency: int = _setting(
        500,
        "`aspirasi serve`: connections and requests at once per worker; beyond, new"
        " requests are answered 503 at once (uvicorn limit_concurrency). 0: no limit.",
    )
    outbox_max_attempts: int = _setting(
        16,
        "Deliveries of an outbox item tried before it becomes a dead letter. Retries back"
        " off from 15 s to at most an hour: 16 tries span about nine hours, so a mail"
        " survives an evening without its SMTP server.",
    )
    outbox_lease_seconds: int = _setting(
        120,
        "Seconds an outbox worker holds the items it claimed. A worker that dies (or"
        " loses the database for longer) hands them over to another worker after this"
        " long; a mail it had just sent may then go out a second time.",
    )
    outbox_inline: bool = _setting(
        True,
        "Run the outbox dispatcher inside the web process (embedded mode). Set false when"
        " `aspirasi outbox run` workers deliver.",
    )
    sop_triage_days: int = _setting(
        3, "SOP: working days the admin has to forward (or reject) a new message."
    )
    sop_confirm_days: int = _setting(
        2,
        "SOP: working days an agency has to confirm a forwarded message (a sub-category may"
        " set its own).",
    )
    sop_reply_days: int = _setting(
        10,
        "SOP: working days an agency has to reply once it confirmed (a sub-category may set"
        " its own).",
    )
    sop_holiday_country: str = _setting(
        "ID",
        "Country whose public holidays are not working days (ISO code for the `holidays`"
        " package; empty: weekends and the super admin's days off only).",
    )
    sop_sweep_seconds: int = _setting(
        300,
        "How often the outbox worker looks for messages that have just become overdue.",
    )
    extra: Mapping[str, str] = attrs.field(
        factory=dict,
        hash=False,
        metadata={"help": "Every other `ASPIRASI_*` variable, for plugins.", "internal": True},
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read the settings from ``environ`` (default ``os.environ``); ``overrides`` win.

        Raises ``ValueError`` naming the variable when a value cannot be parsed.
        """
        environ = os.environ if environ is None else environ
        values = env_values(cls, environ)
        values.update(overrides)
        return cls(**values)

    def check_production(self) -> None:
        """Refuse values out of range, and unsafe settings when ``env`` is ``production``."""
        problems = settings_problems(self)
        if problems:
            raise ValueError("refusing to start: " + "; ".join(problems))

    @property
    def max_request_bytes(self) -> int:
        """The largest request body the web server reads: every attachment a message may
        carry at its largest, and 1 MB for the form's text."""
        return (self.max_upload_mb * self.max_attachments + 1) * 1024 * 1024

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def public_dict(self) -> dict[str, Any]:
        """The settings with secrets masked, for `aspirasi` diagnostics and logs."""
        out: dict[str, Any] = {}
        for field in attrs.fields(type(self)):
            value = getattr(self, field.name)
            if field.metadata.get("secret") and value:
                value = "***"
            out[field.name] = value
        return out


def documented_fields() -> list[tuple[str, str, Any]]:
    """(variable, help, default) of every public setting of the core, for the docs."""
    return settings_env.documented_fields(Settings)
