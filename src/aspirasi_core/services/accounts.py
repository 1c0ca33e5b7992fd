"""Account use cases: log-in, sessions and tokens, profile; with
:mod:`.account_registration` (registration, e-mail verification, the sweep of
unverified accounts) and :mod:`.account_passwords` (password reset and change)
they make :class:`AccountService`.

No-enumeration rules (REFERENCE.md): registering with an e-mail that already
has an account, or with a NIK a verified account holds, answers exactly like a
new registration (the outcome goes by mail); forgot-password always answers the
same; an unknown login burns the same argon2 time as a wrong password.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import attrs
import structlog

from ..domain.errors import Invalid, NotAllowed, Unauthenticated
from ..domain.model import Account
from ..domain.validation import (
    LIMITS,
    Collector,
    clean_text,
)
from ..security.devices import MAX_DEVICE_TOKENS, check_device_token, issue_device_token
from ..security.tokens import TokenPurpose, hash_token, new_token
from .account_base import LANGUAGES, LoginResult, RegisterInput, _new_login_id
from .account_passwords import PasswordsMixin
from .account_registration import SWEEP_BATCH, RegistrationMixin
from .context import Context
from .core import EventRecorder, run_write
from .ports import UnitOfWork

__all__ = [
    "LANGUAGES",
    "SWEEP_BATCH",
    "AccountService",
    "LoginResult",
    "RegisterInput",
]

log = structlog.get_logger("aspirasi.accounts")


class AccountService(RegistrationMixin, PasswordsMixin):
    """Use cases of people's own accounts."""

    # ------------------------------------------------------------------ log-in and tokens
    async def login(
        self,
        ctx: Context,
        login: str,
        password: str,
        *,
        purpose: str = TokenPurpose.SESSION,
        with_session: bool = False,
        devices: Sequence[str] = (),
    ) -> LoginResult:
        """Check the credentials and issue a new session or API token.

        With ``with_session`` (an API log-in from a browser) a session token is
        issued too, in the same transaction, as ``result.session``; logging out
        either ends both. ``devices`` are the device tokens the client sent: one
        signed here for this account makes the attempt count against that
        device's limit instead of the account's (``UseCaseCall.device``), and a
        successful log-in returns a fresh one (``result.device_token``). Unverified
        accounts may log in (and then only resend, verify, read themselves and log
        out). Wrong login and wrong password answer the same. The tokens are
        added only if the account is still active with the password that was
        checked, in the same statement: one deactivated while the password was
        being checked fails like any deactivated account, and one whose password
        changed meanwhile like a wrong password.
        """
        if not isinstance(login, str) or not isinstance(password, str):
            raise Invalid.field("login", "required", "This field is required.")
        login_key = login.strip().lower()
        collector = Collector()
        if not login_key:
            collector.add("login", "required", "This field is required.")
        if not password:
            collector.add("password", "required", "This field is required.")
        collector.raise_if_any()
        deps = self._d
        account = await deps.db.transaction(
            lambda uow: uow.accounts.find_by_login(login_key[: LIMITS["email"]]), write=False
        )
        # One budget per account whether it is named by username or by e-mail.
        subject = f"account:{account.id}" if account else login_key[: LIMITS["email"]]
        device = self._trusted_device(account, devices) if account else None
        await deps.before("login", ctx, subject=subject, device=device)
        ok = await deps.hasher.verify_async(account.password_hash if account else None, password)
        if not ok or account is None:
            log.info("login_failed")
            raise Unauthenticated(
                "The username/e-mail or the password is wrong.", code="invalid_credentials"
            )
        if not account.is_active:
            log.info("login_inactive", account_id=account.id)
            raise NotAllowed("This account has been deactivated.", code="account_inactive")
        new_hash = (
            await deps.hasher.hash_async(password)
            if deps.hasher.needs_rehash(account.password_hash)
            else None
        )
        now = deps.clock.now()
        purposes = (purpose, TokenPurpose.SESSION) if with_session else (purpose,)
        issued = [(p, new_token(), now + self._token_lifetime(p)) for p in purposes]
        rows = [(p, hash_token(token), expires) for p, token, expires in issued]
        login_id = _new_login_id()

        def add(uow: UnitOfWork) -> bool:
            return uow.tokens.add_for_active(
                account_id=account.id,
                auth_version=account.auth_version,
                created_at=now,
                tokens=rows,
                login_id=login_id,
            )

        if new_hash is None:
            # The usual case: one statement adds the tokens if the account is still
            # active with the password that was just checked.
            added = await deps.db.transaction(add, write=True)
        else:

            def rehash(uow: UnitOfWork, events: EventRecorder) -> bool:
                # The conditional update first: its row lock orders it after a
                # password change that has not committed yet, which it then leaves
                # alone (an unconditional one would put the old password back).
                return uow.accounts.rehash_password(
                    account.id,
                    old_hash=account.password_hash,
                    new_hash=new_hash,
                    auth_version=account.auth_version,
                ) and add(uow)

            added = await run_write(deps, rehash)
        if not added:
            # Deactivated, removed or given a new password while the password was
            # being checked: say which, as a log-in a moment later would.
            current = await deps.db.transaction(
                lambda uow: uow.accounts.get(account.id), write=False
            )
            if current is None or not current.is_active:
                log.info("login_inactive", account_id=account.id)
                raise NotAllowed("This account has been deactivated.", code="account_inactive")
            log.info("login_failed")
            raise Unauthenticated(
                "The username/e-mail or the password is wrong.", code="invalid_credentials"
            )
        signed_in = account if new_hash is None else attrs.evolve(account, password_hash=new_hash)
        results = [LoginResult(account=signed_in, token=t, expires_at=e) for _, t, e in issued]
        result = attrs.evolve(
            results[0], device_token=issue_device_token(deps.crypto, account.id, now)
        )
        if with_session:
            result = attrs.evolve(result, session=results[1])
        log.info("login_succeeded", account_id=account.id, trusted_device=device is not None)
        return result

    def _trusted_device(self, account: Account, devices: Sequence[str]) -> str | None:
        """The id of the first device token signed here for ``account`` and still
        young enough, or None (an untrusted client)."""
        now = self._d.clock.now()
        max_age = timedelta(days=self._d.settings.device_trust_days)
        for token in list(devices)[:MAX_DEVICE_TOKENS]:
            device = check_device_token(self._d.crypto, token, account.id, now, max_age)
            if device is not None:
                return device
        return None

    async def issue_token(self, account_id: int, purpose: str) -> LoginResult:
        """A further token for an already authenticated account (e.g. a session
        cookie next to the API token of the JSON log-in)."""
        deps = self._d

        def script(uow: UnitOfWork, events: EventRecorder) -> LoginResult:
            account = uow.accounts.get(account_id)
            if account is None or not account.is_active:
                raise Unauthenticated("Please log in.", code="login_required")
            return self._issue_login_token(uow, account, purpose, deps.clock.now())

        return await run_write(deps, script)

    def _check_token(
        self, uow: UnitOfWork, token: str, purpose: str
    ) -> tuple[Account | None, str | None]:
        """(account, follow-up) for a token: follow-up is ``touch`` (record use),
        ``delete`` (idle session) or None."""
        if not token or len(token) > 200:
            return None, None
        now = self._d.clock.now()
        found = uow.tokens.lookup_with_account(purpose, hash_token(token), now)
        if found is None:
            return None, None
        record, account = found
        last = record.last_used_at or record.created_at
        if purpose == TokenPurpose.SESSION:
            idle = timedelta(minutes=self._d.settings.session_idle_minutes)
            if now - last > idle:
                return None, "delete"
        if not account.is_active or account.auth_version != record.auth_version:
            return None, None
        return account, ("touch" if now - last > timedelta(seconds=60) else None)

    async def authenticate(self, token: str, purpose: str) -> Account | None:
        """The account behind a session or API token, or None.

        Refuses expired, idle (sessions), revoked and pre-password-change tokens
        and inactive accounts. Reads in a read transaction; records use (sliding
        idle timeout) in a write at most once a minute per token.
        """
        deps = self._d
        account, follow_up = await deps.db.transaction(
            lambda uow: self._check_token(uow, token, purpose), write=False
        )
        if follow_up is not None:
            digest = hash_token(token)
            now = deps.clock.now()

            def record(uow: UnitOfWork) -> None:
                if follow_up == "delete":
                    uow.tokens.delete(purpose, digest)
                    return
                found = uow.tokens.lookup(purpose, digest, now)
                if found is not None:
                    uow.tokens.touch(purpose, digest, now, found.expires_at)

            await deps.db.transaction(record, write=True)
        return account

    async def logout(self, token: str, purpose: str) -> None:
        """End the log-in that issued this session or API token, on the server:
        the token and every other token of the same log-in (the session cookie
        and the bearer token of one JSON log-in)."""
        if not token or len(token) > 200:
            return
        await self._d.db.transaction(
            lambda uow: uow.tokens.delete_login(purpose, hash_token(token)), write=True
        )

    async def revoke(self, token: str, purpose: str) -> None:
        """Kill this one token (an old session replaced at log-in), nothing else."""
        if not token or len(token) > 200:
            return
        await self._d.db.transaction(
            lambda uow: uow.tokens.delete(purpose, hash_token(token)), write=True
        )

    # ------------------------------------------------------------------ profile
    async def me(self, ctx: Context) -> Account:
        """The signed-in account."""
        actor = ctx.actor
        if actor is None:
            raise Unauthenticated("Please log in.", code="login_required")
        account = await self._d.db.transaction(
            lambda uow: uow.accounts.get(actor.account_id), write=False
        )
        if account is None:
            raise Unauthenticated("Please log in.", code="login_required")
        return account

    async def update_profile(
        self, ctx: Context, *, full_name: str | None = None, language: str | None = None
    ) -> Account:
        """Change one's full name and language."""
        actor = ctx.actor
        if actor is None:
            raise Unauthenticated("Please log in.", code="login_required")
        collector = Collector()
        fields: dict[str, object] = {}
        if full_name is not None:
            name = collector.check(
                clean_text, full_name, "full_name", max_length=LIMITS["full_name"]
            )
            if name:
                fields["full_name"] = name
        if language is not None:
            if language not in LANGUAGES:
                collector.add("language", "language_unknown", "Choose Indonesian or English.")
            else:
                fields["language"] = language
        collector.raise_if_any()
        deps = self._d

        def script(uow: UnitOfWork, events: EventRecorder) -> Account:
            if not fields:
                current = uow.accounts.get(actor.account_id)
                assert current is not None
                return current
            return uow.accounts.update(actor.account_id, **fields)

        return await run_write(deps, script)

    async def nik_of(self, ctx: Context) -> str | None:
        """The signed-in account's own NIK, decrypted (shown only to its owner)."""
        actor = ctx.actor
        if actor is None:
            raise Unauthenticated("Please log in.", code="login_required")
        blob = await self._d.db.transaction(
            lambda uow: uow.accounts.nik_encrypted(actor.account_id), write=False
        )
        return self._d.crypto.decrypt_nik(blob) if blob else None
