"""API keys of Open311 clients: issued and revoked by a super admin, each bound
to the verified citizen account the client files messages as, each with its
own rate limit. Only the SHA-256 of a key is stored; the key is shown once.

A key is 32 random bytes (``secrets.token_urlsafe``) behind the prefix
``o311_``: a plain hash suffices for a secret with 256 bits of entropy (nothing
to guess, unlike a password), and looking it up is one index read.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

import attrs
import structlog
from limits import RateLimitItem, parse_many
from sqlalchemy import insert, select, update

from aspirasi_core.domain.errors import Invalid, NotFound
from aspirasi_core.domain.model import Account, Actor, Role
from aspirasi_core.domain.validation import Collector, clean_text
from aspirasi_core.plugin_api import PluginContext, Transaction, WriteTransaction, schema

from .tables import api_keys

log = structlog.get_logger("aspirasi.open311")

#: Every key starts with this (so a leaked one is recognisable in a scan).
KEY_PREFIX = "o311_"
#: The limit a new key gets unless the super admin sets another.
DEFAULT_RATE_LIMIT = "60/minute;2000/day"
CLIENT_NAME_MAX = 120
RATE_LIMIT_MAX = 100
#: Longest key accepted for a look-up (a key is 48 characters).
KEY_MAX = 100


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


@attrs.frozen
class ApiKey:
    """A key as the admin page lists it (never the key itself)."""

    id: int
    client_name: str
    prefix: str
    account_id: int
    account_name: str
    rate_limit: str
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@attrs.frozen
class Client:
    """A request's valid key: who files, and under which limit."""

    key_id: int
    client_name: str
    limits: tuple[RateLimitItem, ...]
    actor: Actor


def parse_rate_limit(
    value: object, field: str = "rate_limit"
) -> tuple[str, tuple[RateLimitItem, ...]]:
    """``60/minute`` or several joined by ``;`` (all apply): the text and its items."""
    text = clean_text(value, field, max_length=RATE_LIMIT_MAX, required=False)
    text = text or DEFAULT_RATE_LIMIT
    try:
        items = tuple(parse_many(text))
    except ValueError:
        items = ()
    if not items:
        raise Invalid.field(
            field,
            "rate_limit_invalid",
            "Write a limit such as 60/minute, or several joined by ; (60/minute;2000/day).",
        )
    return text, items


def usable_account(account: Account | None) -> bool:
    """A verified, active citizen account that was not deleted."""
    return (
        account is not None
        and account.role == Role.USER
        and account.is_active
        and account.verified
        and account.deleted_at is None
    )


def _row_to_key(row: Any) -> ApiKey:
    return ApiKey(
        id=row.id,
        client_name=row.client_name,
        prefix=row.prefix,
        account_id=row.account_id,
        account_name=row.account_name,
        rate_limit=row.rate_limit,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


_LIST = (
    select(
        api_keys.c.id,
        api_keys.c.client_name,
        api_keys.c.prefix,
        api_keys.c.account_id,
        schema.accounts.c.full_name.label("account_name"),
        api_keys.c.rate_limit,
        api_keys.c.created_at,
        api_keys.c.revoked_at,
    )
    .join(schema.accounts, schema.accounts.c.id == api_keys.c.account_id)
    .order_by(api_keys.c.id.desc())
)


class KeyService:
    """Issue, revoke, list and check keys (the caller checks the super admin)."""

    def __init__(self, aspirasi: PluginContext) -> None:
        self.aspirasi = aspirasi

    async def list(self) -> list[ApiKey]:
        return await self.aspirasi.read(
            lambda tx: [_row_to_key(r) for r in tx.execute(_LIST).all()]
        )

    async def issue(
        self, issuer: Actor, client_name: object, account: Account | None, rate_limit: object
    ) -> tuple[ApiKey, str]:
        """A new key for ``client_name`` filing as ``account``; returns it and the
        key itself, which is not stored and cannot be shown again."""
        errors = Collector()
        name = errors.check(clean_text, client_name, "client_name", max_length=CLIENT_NAME_MAX)
        limit = errors.check(parse_rate_limit, rate_limit)
        if account is None:
            errors.add("account", "account_unknown", "Choose a verified citizen account.")
        errors.raise_if_any()
        assert name and limit and account is not None
        raw = KEY_PREFIX + secrets.token_urlsafe(32)
        aspirasi = self.aspirasi

        def script(tx: WriteTransaction) -> ApiKey:
            if not usable_account(tx.lookup.account(account.id)):
                raise Invalid.field(
                    "account", "account_unknown", "Choose a verified citizen account."
                )
            new_id = tx.execute(
                insert(api_keys)
                .values(
                    client_name=name,
                    key_hash=hash_key(raw),
                    prefix=raw[: len(KEY_PREFIX) + 4],
                    account_id=account.id,
                    rate_limit=limit[0],
                    created_by=issuer.account_id,
                    created_at=aspirasi.clock.now(),
                )
                .returning(api_keys.c.id)
            ).scalar_one()
            return _row_to_key(tx.execute(_LIST.where(api_keys.c.id == new_id)).one())

        key = await aspirasi.write(script)
        log.info("open311_key_issued", key_id=key.id, account_id=account.id)
        return key, raw

    async def revoke(self, revoker: Actor, key_id: int) -> ApiKey:
        """Revoke a key at once (a second revocation changes nothing)."""
        if not 0 < key_id < 2**63:
            raise NotFound("The key was not found.", code="not_found")
        aspirasi = self.aspirasi

        def script(tx: WriteTransaction) -> ApiKey:
            tx.execute(
                update(api_keys)
                .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=aspirasi.clock.now(), revoked_by=revoker.account_id)
            )
            row = tx.execute(_LIST.where(api_keys.c.id == key_id)).one_or_none()
            if row is None:
                raise NotFound("The key was not found.", code="not_found")
            return _row_to_key(row)

        key = await aspirasi.write(script)
        log.info("open311_key_revoked", key_id=key.id)
        return key

    async def client(self, raw: str) -> Client | None:
        """The client of a key, or None when the key is unknown, revoked, or its
        account can no longer file (deactivated, deleted)."""
        if not raw or len(raw) > KEY_MAX or not raw.startswith(KEY_PREFIX):
            return None
        digest = hash_key(raw)

        def script(tx: Transaction) -> Client | None:
            row = tx.execute(
                select(
                    api_keys.c.id,
                    api_keys.c.client_name,
                    api_keys.c.account_id,
                    api_keys.c.rate_limit,
                ).where(api_keys.c.key_hash == digest, api_keys.c.revoked_at.is_(None))
            ).one_or_none()
            if row is None:
                return None
            account = tx.lookup.account(row.account_id)
            if account is None or not usable_account(account):
                return None
            _, items = parse_rate_limit(row.rate_limit)
            return Client(row.id, row.client_name, items, account.actor())

        return await self.aspirasi.read(script)
