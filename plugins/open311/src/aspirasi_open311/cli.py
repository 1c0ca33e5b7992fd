"""``aspirasi-open311 keys list|issue|revoke``: the keys page on the command line,
for the super admin (the core's CLI has no place for a plugin's commands).

Settings come from the ``ASPIRASI_*`` environment, as for ``aspirasi``. Issuing and
revoking name the super admin who does it (``--as``), as the page records the
signed-in one; a new key is printed once, on standard output, and never again.
"""

from __future__ import annotations

from typing import Any

import anyio
import click

from aspirasi_core.domain.errors import DomainError, Invalid
from aspirasi_core.domain.model import Account, Role
from aspirasi_core.plugin_api import PluginContext
from aspirasi_core.services import Context
from aspirasi_core.settings import Settings

from . import MANAGE_KEYS
from .keys import KeyService


def _core() -> Any:
    from aspirasi_core.bootstrap import bootstrap

    try:
        settings = Settings.from_env()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    return bootstrap(settings)


async def _find(core: Any, ctx: Context, role: str, username: str) -> Account | None:
    name = username.strip().lower()
    if not name:
        return None
    page = await core.admin.list_accounts(ctx, role=role, text=name, limit=100)
    return next((a for a in page.items if a.username == name), None)


async def _super_admin(core: Any, username: str) -> Account:
    """The active super admin named ``username``."""
    name = username.strip().lower()
    admins = await PluginContext.of(core).read(lambda tx: tx.lookup.with_role(Role.SUPER_ADMIN))
    found = next((a for a in admins if a.username == name), None)
    if found is None or not PluginContext.of(core).policy.allows(found.actor(), MANAGE_KEYS):
        raise click.ClickException(f"{username!r} is not an active super admin.")
    return found


def _fail(exc: DomainError) -> click.ClickException:
    if isinstance(exc, Invalid) and exc.errors:
        return click.ClickException("; ".join(f"{e.field}: {e.render()}" for e in exc.errors))
    return click.ClickException(exc.render())


@click.group()
def main() -> None:
    """Open311 API keys."""


@main.group()
def keys() -> None:
    """Issue, list and revoke the keys of Open311 clients."""


@keys.command("list")
def keys_list() -> None:
    """Every key: id, client, beginning, account, limit, state (never the key)."""
    core = _core()
    found = anyio.run(KeyService(PluginContext.of(core)).list)
    for k in found:
        state = "active" if k.active else f"revoked {k.revoked_at:%Y-%m-%d}"
        click.echo(
            f"{k.id}\t{k.client_name}\t{k.prefix}…\t{k.account_name}\t{k.rate_limit}\t{state}"
        )


@keys.command("issue")
@click.option("--client", "client_name", required=True, help="The client's name.")
@click.option("--account", required=True, help="Username of the citizen account it files as.")
@click.option("--rate-limit", default="", help="limits notation; empty: 60/minute;2000/day.")
@click.option("--as", "issuer", required=True, help="Username of the super admin issuing it.")
def keys_issue(client_name: str, account: str, rate_limit: str, issuer: str) -> None:
    """Issue a key; it is printed once."""
    core = _core()

    async def go() -> str:
        admin = await _super_admin(core, issuer)
        ctx = Context(actor=admin.actor(), request_id="cli")
        citizen = await _find(core, ctx, Role.USER, account)
        _, raw = await KeyService(PluginContext.of(core)).issue(
            admin.actor(), client_name, citizen, rate_limit
        )
        return raw

    try:
        raw = anyio.run(go)
    except DomainError as exc:
        raise _fail(exc) from None
    click.echo(raw)


@keys.command("revoke")
@click.argument("key_id", type=click.IntRange(1, 2**62))
@click.option("--as", "revoker", required=True, help="Username of the super admin revoking it.")
def keys_revoke(key_id: int, revoker: str) -> None:
    """Revoke a key at once."""
    core = _core()

    async def go() -> None:
        admin = await _super_admin(core, revoker)
        await KeyService(PluginContext.of(core)).revoke(admin.actor(), key_id)

    try:
        anyio.run(go)
    except DomainError as exc:
        raise _fail(exc) from None
    click.echo(f"revoked {key_id}")
