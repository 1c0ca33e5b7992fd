"""What the account use cases share: their inputs and results, the languages,
and the helpers that issue link and log-in tokens (see :mod:`.accounts`)."""

from __future__ import annotations

import secrets
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import attrs

from ..domain.model import Account
from ..security.tokens import TokenPurpose, hash_token, new_token
from .core import CoreDeps
from .ports import UnitOfWork

LANGUAGES = ("id", "en")


@attrs.frozen
class RegisterInput:
    email: str
    username: str
    full_name: str
    nik: str
    password: str = attrs.field(repr=False)
    password_confirm: str = attrs.field(repr=False)
    language: str = "id"


@attrs.frozen
class LoginResult:
    account: Account
    token: str = attrs.field(repr=False)
    expires_at: datetime
    #: A session token issued with the log-in when asked for (``with_session``).
    session: LoginResult | None = attrs.field(default=None, repr=False)
    #: A fresh device token for the client (see :mod:`aspirasi_core.security.devices`).
    device_token: str | None = attrs.field(default=None, repr=False)


def _language(value: str | None, default: str) -> str:
    return value if value in LANGUAGES else default


def _new_login_id() -> str:
    """Shared by the tokens one log-in issues (see ``TokenRepository.delete_login``)."""
    return secrets.token_hex(16)


def issue_link_token(
    uow: UnitOfWork, account: Account, purpose: str, ttl: timedelta, now: datetime
) -> tuple[str, datetime]:
    """A new single-use link token; it voids the account's older ones of the
    same purpose (SPEC.md: a new link may void the older ones)."""
    uow.tokens.delete_for_account(account.id, [purpose])
    token = new_token()
    expires = now + ttl
    uow.tokens.add(
        account_id=account.id,
        purpose=purpose,
        token_hash=hash_token(token),
        created_at=now,
        expires_at=expires,
        auth_version=account.auth_version,
    )
    return token, expires


class AccountBase:
    """The dependencies and the token helpers of :class:`.accounts.AccountService`."""

    def __init__(self, deps: CoreDeps) -> None:
        self._d = deps

    def _local_day(self, now: datetime) -> tuple[datetime, datetime]:
        """(start of today, start of tomorrow) in the province's time zone."""
        zone = ZoneInfo(self._d.settings.timezone)
        local = now.astimezone(zone)
        start = datetime.combine(local.date(), time(0), tzinfo=zone)
        return start, datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=zone)

    #: See :func:`issue_link_token`.
    _issue_link_token = staticmethod(issue_link_token)

    def _reserved_elsewhere(self, uow: UnitOfWork, account: Account, username: str) -> set[str]:
        """Which of ``username`` and the account's NIK a verified account holds."""
        blob = uow.accounts.nik_encrypted(account.id)
        crypto = self._d.crypto
        nik_index = crypto.nik_index(crypto.decrypt_nik(blob)) if blob else None
        return uow.accounts.clashes(username=username, nik_index=nik_index, exclude_id=account.id)

    def _token_lifetime(self, purpose: str) -> timedelta:
        s = self._d.settings
        if purpose == TokenPurpose.SESSION:
            return timedelta(hours=s.session_absolute_hours)
        if purpose == TokenPurpose.API:
            return timedelta(days=s.api_token_days)
        raise ValueError(f"not a login token purpose: {purpose}")

    def _issue_login_token(
        self, uow: UnitOfWork, account: Account, purpose: str, now: datetime
    ) -> LoginResult:
        token = new_token()
        expires = now + self._token_lifetime(purpose)
        uow.tokens.add(
            account_id=account.id,
            purpose=purpose,
            token_hash=hash_token(token),
            created_at=now,
            expires_at=expires,
            auth_version=account.auth_version,
            login_id=_new_login_id(),
        )
        return LoginResult(account=account, token=token, expires_at=expires)
