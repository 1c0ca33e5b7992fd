"""The checks of :meth:`~aspirasi_core.settings.Settings.check_production`: values
out of range, and what a production deployment must not run with (demo secrets, a
weak key, plain HTTP).
"""

from __future__ import annotations

from typing import Protocol

from .domain.regions import RegionsFileError, load_regions
from .security.key_strength import KEY_RECIPE, MIN_SECRET_KEY_BITS, estimate_key_bits

DEMO_SECRET_KEY = "demo-secret-key-change-me-0123456789abcdef"  # noqa: S105 - refused in production


class CheckedSettings(Protocol):
    """The settings these checks read by name (:class:`~aspirasi_core.settings.Settings`
    has them); the other numbers are read with ``getattr``."""

    @property
    def env(self) -> str: ...
    @property
    def secret_key(self) -> str: ...
    @property
    def demo(self) -> bool: ...
    @property
    def base_url(self) -> str: ...
    @property
    def brand_color(self) -> str: ...
    @property
    def social_links(self) -> tuple[str, ...]: ...
    @property
    def file_storage(self) -> str: ...
    @property
    def default_language(self) -> str: ...
    @property
    def log_level(self) -> str: ...
    @property
    def smtp_port(self) -> int: ...
    @property
    def audit_retention_days(self) -> int: ...
    @property
    def verification_resend_seconds(self) -> int: ...
    @property
    def attachment_retention_days(self) -> int: ...
    @property
    def db_threads(self) -> int: ...
    @property
    def db_retries(self) -> int: ...
    @property
    def sqlite_cache_kib(self) -> int: ...
    @property
    def argon2_concurrency(self) -> int: ...
    @property
    def argon2_nice(self) -> int: ...
    @property
    def sop_holiday_country(self) -> str: ...
    @property
    def regions_file(self) -> str | None: ...


def settings_problems(settings: CheckedSettings) -> list[str]:
    """What is wrong with ``settings``, one sentence each naming the variable; none
    when they may run."""
    problems: list[str] = []
    if settings.env not in ("development", "production"):
        problems.append("ASPIRASI_ENV must be development or production")
    if len(settings.secret_key) < 32:
        problems.append("ASPIRASI_SECRET_KEY must have at least 32 characters")
    if settings.env == "production":
        if settings.secret_key == DEMO_SECRET_KEY:
            problems.append("ASPIRASI_SECRET_KEY is the demo key")
        else:
            bits = estimate_key_bits(settings.secret_key)
            if bits < MIN_SECRET_KEY_BITS:
                problems.append(
                    f"ASPIRASI_SECRET_KEY is too weak: about {bits:.0f} bits estimated,"
                    f" {MIN_SECRET_KEY_BITS} needed (it repeats itself, runs through"
                    " neighbouring characters or uses too few different ones); generate"
                    f" one with: {KEY_RECIPE}"
                )
        if settings.demo:
            problems.append("ASPIRASI_DEMO must be off")
        if not settings.base_url.startswith("https://"):
            problems.append("ASPIRASI_BASE_URL must use https")
    if not (
        len(settings.brand_color) == 7
        and settings.brand_color.startswith("#")
        and all(c in "0123456789abcdefABCDEF" for c in settings.brand_color[1:])
    ):
        problems.append("ASPIRASI_BRAND_COLOR must look like #0b5d3b")
    for link in settings.social_links:
        name, _, url = link.partition("=")
        if not name.strip() or not url.startswith(("https://", "http://")):
            problems.append("ASPIRASI_SOCIAL_LINKS entries must look like Name=https://…")
    if not (settings.file_storage.isidentifier() and settings.file_storage.islower()):
        problems.append("ASPIRASI_FILE_STORAGE must be local or a storage plugin's name (s3)")
    if settings.default_language not in ("id", "en"):
        problems.append("ASPIRASI_DEFAULT_LANGUAGE must be id or en")
    if settings.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        problems.append("ASPIRASI_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR")
    if not 0 < settings.smtp_port < 65536:
        problems.append("ASPIRASI_SMTP_PORT must be a port number (1-65535)")
    for name in (
        "argon2_time_cost",
        "argon2_memory_kib",
        "argon2_parallelism",
        "verification_ttl_hours",
        "reset_ttl_minutes",
        "session_idle_minutes",
        "session_absolute_hours",
        "api_token_days",
        "device_trust_days",
        "unverified_account_days",
        "verification_mails_per_day",
        "outbox_max_attempts",
        "outbox_lease_seconds",
        "serve_keep_alive_seconds",
        "max_upload_mb",
        "max_attachments",
        "image_decode_concurrency",
        "sop_sweep_seconds",
    ):
        if getattr(settings, name) < 1:
            problems.append(f"ASPIRASI_{name.upper()} must be at least 1")
    if not 0 <= settings.verification_resend_seconds <= 86400:
        problems.append(
            "ASPIRASI_VERIFICATION_RESEND_SECONDS must be 0 (no pause) or between 1 and 86400"
        )
    if not 0 <= settings.audit_retention_days <= 36500:
        problems.append("ASPIRASI_AUDIT_RETENTION_DAYS must be 0 (keep) or between 1 and 36500")
    if not 0 <= settings.attachment_retention_days <= 36500:
        problems.append(
            "ASPIRASI_ATTACHMENT_RETENTION_DAYS must be 0 (keep) or between 1 and 36500"
        )
    for name in (
        "db_statement_timeout_ms",
        "db_report_statement_timeout_ms",
        "db_lock_timeout_ms",
        "sqlite_busy_timeout_ms",
        "db_connect_timeout_seconds",
        "serve_body_timeout_seconds",
        "serve_limit_concurrency",
    ):
        if getattr(settings, name) < 0:
            problems.append(f"ASPIRASI_{name.upper()} must be 0 (none) or more")
    if not 0 <= settings.db_threads <= 256:
        problems.append("ASPIRASI_DB_THREADS must be 0 (automatic) or between 1 and 256")
    if not 0 <= settings.sqlite_cache_kib <= 1024 * 1024:
        problems.append("ASPIRASI_SQLITE_CACHE_KIB must be 0 (SQLite's default) or 1 to 1048576")
    if not 0 <= settings.db_retries <= 10:
        problems.append("ASPIRASI_DB_RETRIES must be between 0 and 10")
    if settings.argon2_concurrency < 0:
        problems.append("ASPIRASI_ARGON2_CONCURRENCY must be 0 (automatic) or more")
    if not 0 <= settings.argon2_nice <= 19:
        problems.append("ASPIRASI_ARGON2_NICE must be between 0 and 19")
    for name in ("sop_triage_days", "sop_confirm_days", "sop_reply_days"):
        if not 1 <= getattr(settings, name) <= 365:
            problems.append(f"ASPIRASI_{name.upper()} must be between 1 and 365")
    if settings.sop_holiday_country:
        import holidays

        if settings.sop_holiday_country.upper() not in holidays.list_supported_countries():
            problems.append(
                "ASPIRASI_SOP_HOLIDAY_COUNTRY is not a country the holidays package knows"
            )
    try:
        load_regions(settings.regions_file)
    except RegionsFileError as exc:
        problems.append(f"ASPIRASI_REGIONS_FILE is not a usable regions file: {exc}")
    return problems
