"""The ``aspirasi`` command line (click).

``aspirasi db upgrade`` · ``aspirasi users create-superadmin|sweep-unverified`` ·
``aspirasi demo`` · ``aspirasi plugins list`` · ``aspirasi outbox run|list|retry`` ·
``aspirasi sop sweep|recompute`` · ``aspirasi retention sweep`` · ``aspirasi serve`` ·
``aspirasi audit verify|seal`` (:mod:`.cli_audit`). Settings: ``ASPIRASI_*`` variables
(docs/configuration.md).
"""

from __future__ import annotations

import contextlib
import importlib.util
import sys
import threading
import time
from typing import Any

import anyio
import click

from .cli_audit import audit
from .settings import Settings


def _settings() -> Settings:
    try:
        settings = Settings.from_env()
        settings.check_production()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    return settings


def _app(settings: Settings, *, ensure_categories: bool = True):  # type: ignore[no-untyped-def]
    from .bootstrap import bootstrap
    from .logging import configure_logging

    configure_logging(settings)
    return bootstrap(settings, ensure_categories=ensure_categories)


@click.group(commands=[audit])  # cli_audit.py
@click.version_option(package_name="aspirasi-core", prog_name="aspirasi")
def main() -> None:
    """Aspirasi: public aspiration and complaint service."""


# ---------------------------------------------------------------- db
@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration of the core and the loaded plugins."""
    from .bootstrap import migrate

    settings = _settings()
    migrate(settings)
    app = _app(settings)  # creates the sub-categories plugins declare
    try:
        moved = app.sop.recompute_sync()  # deadlines of messages older than the SOP clock
    finally:
        app.deps.db.dispose()
    if moved:
        click.echo(f"SOP deadlines set for {moved} open messages")
    click.echo("database is up to date")


# ---------------------------------------------------------------- users
@main.group()
def users() -> None:
    """Accounts."""


@users.command("create-superadmin")
@click.option("--email", required=True)
@click.option("--username", required=True)
@click.option("--password", default=None, help="Prompted (hidden) when not given.")
@click.option("--full-name", default="Super Admin", show_default=True)
def create_superadmin(email: str, username: str, password: str | None, full_name: str) -> None:
    """Create a super admin account."""
    from .domain.errors import DomainError, Invalid

    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    app = _app(_settings())
    try:
        account = app.admin.create_superadmin(email, username, password, full_name)
    except Invalid as exc:
        lines = [f"{e.field}: {e.render()}" for e in exc.errors] or [exc.render()]
        raise click.ClickException("; ".join(lines)) from None
    except DomainError as exc:
        raise click.ClickException(exc.render()) from None
    finally:
        app.deps.db.dispose()
    click.echo(f"super admin {account.username} (id {account.id}) created")


@users.command("sweep-unverified")
def users_sweep_unverified() -> None:
    """Remove citizen accounts still unverified ASPIRASI_UNVERIFIED_ACCOUNT_DAYS after
    registering (the outbox worker does this every ASPIRASI_SOP_SWEEP_SECONDS)."""
    app = _app(_settings())
    try:
        click.echo(f"unverified accounts removed: {app.accounts.sweep_unverified_sync()}")
    finally:
        app.deps.db.dispose()


# ---------------------------------------------------------------- demo
@main.command()
def demo() -> None:
    """Load demo agencies, categories, accounts and messages (ASPIRASI_DEMO=1 only)."""
    from .demo import load_demo

    settings = _settings()
    if not settings.demo:
        raise click.ClickException(
            "refusing to load demo data: set ASPIRASI_DEMO=1 (never in production)"
        )
    app = _app(settings)
    try:
        accounts = anyio.run(load_demo, app)
    finally:
        app.deps.db.dispose()
    click.echo("Demo accounts (demo mode only):")
    width = max(len(a.username) for a in accounts)
    for account in accounts:
        click.echo(
            f"  {account.username.ljust(width)}  {account.password}  — {account.description}"
        )


# ---------------------------------------------------------------- plugins
@main.group()
def plugins() -> None:
    """Plugins."""


@plugins.command("list")
def plugins_list() -> None:
    """List the loaded plugins with their versions and hooks."""
    from .plugins import create_plugin_manager, list_plugins

    pm = create_plugin_manager(_settings())
    for info in list_plugins(pm):
        hooks = ", ".join(info.hooks) if info.hooks else "-"
        click.echo(f"{info.name} {info.version}  ({hooks})")


# ---------------------------------------------------------------- outbox
@main.group()
def outbox() -> None:
    """Side effects waiting for delivery (e-mail)."""


@outbox.command("run")
@click.option(
    "--once", is_flag=True, help="Deliver what is due and run the sweeps once, then stop."
)
@click.option("--poll", default=5.0, show_default=True, help="Seconds between looks at the queue.")
def outbox_run(once: bool, poll: float) -> None:
    """Deliver outbox items; several workers may run at once."""
    from .domain.errors import Unavailable

    app = _app(_settings())
    try:
        if once:
            total = 0
            while True:
                try:
                    stats = app.outbox.run_once_sync()
                except Unavailable as exc:
                    raise click.ClickException(f"{exc.code}: {exc.render()}") from None
                total += stats.delivered
                if stats.handled == 0:
                    break
            anyio.run(app.outbox.sweep_now)
            click.echo(f"delivered {total}")
        else:
            click.echo("outbox worker running (Ctrl-C stops it)")
            with contextlib.suppress(KeyboardInterrupt):
                anyio.run(lambda: app.outbox.run_forever(poll_seconds=poll))
    finally:
        app.deps.db.dispose()


# ---------------------------------------------------------------- sop
@main.group()
def sop() -> None:
    """SOP deadlines."""


@sop.command("sweep")
def sop_sweep() -> None:
    """Announce the messages that became overdue (the outbox worker does this every
    ASPIRASI_SOP_SWEEP_SECONDS)."""
    app = _app(_settings())
    try:
        click.echo(f"overdue messages announced: {app.sop.sweep_sync()}")
    finally:
        app.deps.db.dispose()


@sop.command("recompute")
def sop_recompute() -> None:
    """Re-time every open message (after changing ASPIRASI_SOP_* settings)."""
    app = _app(_settings())
    try:
        click.echo(f"deadlines moved: {app.sop.recompute_sync()}")
    finally:
        app.deps.db.dispose()


# ---------------------------------------------------------------- retention
@main.group()
def retention() -> None:
    """Retention of personal data."""


@retention.command("sweep")
def retention_sweep() -> None:
    """Delete the attachment files of messages closed more than
    ASPIRASI_ATTACHMENT_RETENTION_DAYS ago and the audit entries older than
    ASPIRASI_AUDIT_RETENTION_DAYS (the outbox worker does this every
    ASPIRASI_SOP_SWEEP_SECONDS)."""
    app = _app(_settings())
    try:
        click.echo(f"attachments removed: {app.data_rights.sweep_sync()}")
        click.echo(f"audit entries removed: {app.audit.sweep_sync()}")
    finally:
        app.deps.db.dispose()


# ---------------------------------------------------------------- privacy
@main.group()
def privacy() -> None:
    """Personal data in messages' texts."""


@privacy.command("recompute-public")
def privacy_recompute_public() -> None:
    """Compute the masked public copies of every message's subject and body again
    with the current masker (after upgrading: migration 0004 fills them with a
    stricter frozen one, and a new release may mask differently)."""
    app = _app(_settings())
    try:
        click.echo(f"messages changed: {app.privacy.recompute_public_sync()}")
    finally:
        app.deps.db.dispose()


_STATUSES = ["pending", "sending", "done", "dead"]


@outbox.command("list")
@click.option("--status", type=click.Choice(_STATUSES), default=None)
@click.option("--topic", default=None, help="Only items of this topic (email, …).")
@click.option("--error", default=None, help="Only items whose last error contains this text.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 100_000))
def outbox_list(status: str | None, topic: str | None, error: str | None, limit: int) -> None:
    """List outbox items (``--status dead`` for the dead letters), oldest first,
    then how many match and the totals per status."""
    app = _app(_settings())
    try:
        found = anyio.run(
            lambda: app.outbox.overview(status, limit, topic=topic or None, error=error or None)
        )
    finally:
        app.deps.db.dispose()
    for item in found.items:
        click.echo(
            f"{item.id}\t{item.status}\t{item.topic}\tattempts={item.attempts}\t{item.last_error or ''}"
        )
    shown = f"{len(found.items)} of {found.matching} matching"
    if found.cut_short:
        shown += " (cut short: raise --limit to see more)"
    click.echo(shown, err=True)
    click.echo("totals: " + ", ".join(f"{k} {v}" for k, v in found.totals.items()), err=True)


@outbox.command("retry")
@click.argument("item_ids", type=click.IntRange(1, 2**62), nargs=-1)
@click.option("--all-dead", is_flag=True, help="Every dead letter (narrowed by the filters).")
@click.option("--topic", default=None, help="With --all-dead: only this topic.")
@click.option(
    "--error", default=None, help="With --all-dead: only those whose error contains this."
)
def outbox_retry(
    item_ids: tuple[int, ...], all_dead: bool, topic: str | None, error: str | None
) -> None:
    """Put dead letters back in the queue, all in one transaction: the ITEM_IDS
    given, or with --all-dead every one (or those matching --topic/--error)."""
    if bool(item_ids) == all_dead:
        raise click.UsageError("give item ids or --all-dead (not both)")
    if (topic or error) and not all_dead:
        raise click.UsageError("--topic and --error go with --all-dead")
    app = _app(_settings())
    try:
        count = anyio.run(
            lambda: app.outbox.retry_dead(
                ids=list(item_ids) if item_ids else None,
                topic=topic or None,
                error=error or None,
            )
        )
    finally:
        app.deps.db.dispose()
    if item_ids and count < len(item_ids):
        if len(item_ids) == 1:
            raise click.ClickException(f"item {item_ids[0]} is not a dead letter")
        message = f"{count} queued again; the other ids given are not dead letters"
        if count == 0:
            raise click.ClickException(message)
        click.echo(message)
        return
    click.echo(f"{count} dead letter{'s' if count != 1 else ''} queued again")


# ---------------------------------------------------------------- serve
@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
def serve(host: str, port: int, workers: int) -> None:
    """Serve the web application (needs the aspirasi-web package)."""
    if (
        importlib.util.find_spec("aspirasi_web") is None
        or importlib.util.find_spec("aspirasi_web.app") is None
    ):
        raise click.ClickException(
            "the web application (package aspirasi-web, adapters/litestar_web) is not installed"
        )
    settings = _settings()
    import uvicorn

    banner = _ready_banner(settings, host, port)
    if workers > 1:
        click.echo(banner)
        sys.stdout.flush()
        uvicorn.run(
            "aspirasi_web.app:create_app",
            host=host,
            port=port,
            workers=workers,
            **uvicorn_options(settings),
        )
        return
    config = uvicorn.Config(
        "aspirasi_web.app:create_app", host=host, port=port, **uvicorn_options(settings)
    )
    server = uvicorn.Server(config)

    def announce() -> None:
        # Last on the screen once the server answers: where it is and how to log in.
        while not server.started and not server.should_exit:
            time.sleep(0.1)
        if server.started:
            click.echo(banner)
            sys.stdout.flush()

    threading.Thread(target=announce, name="ready-banner", daemon=True).start()
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises the Ctrl-C it handled
        server.run()


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The uvicorn options of ``aspirasi serve`` (and of the benchmark's server):
    the app factory and the server limits of the settings. The body read timeout
    is the app's own (:mod:`aspirasi_web.body_timeout`); the header read timeout
    the reverse proxy's (docs/deployment.md)."""
    return {
        "factory": True,
        "timeout_keep_alive": settings.serve_keep_alive_seconds,
        "limit_concurrency": settings.serve_limit_concurrency or None,
        "proxy_headers": False,
        "access_log": False,  # the app logs every request itself, with its request id
    }


def _ready_banner(settings: Settings, host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
    base = f"http://{shown}:{port}"
    lines = ["", f"Aspirasi is ready at {base}/  (Ctrl-C stops it)"]
    if settings.demo:
        from .demo import DEMO_ACCOUNTS

        width = max(len(a.username) for a in DEMO_ACCOUNTS)
        lines.append("Demo log-ins (demo mode only):")
        lines += [f"  {a.username.ljust(width)}  {a.password}" for a in DEMO_ACCOUNTS]
        lines.append(f"Mail sent by the demo: {base}/dev/mailbox")
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    main()
