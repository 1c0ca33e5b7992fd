"""Account use cases: forgotten-password reset and password change (part of
:class:`.accounts.AccountService`). Forgot-password always answers the same,
whatever the address (no enumeration)."""

from __future__ import annotations

from datetime import timedelta

import structlog

from ..domain.errors import Invalid, Unauthenticated
from ..domain.events import (
    PasswordChanged,
    PasswordResetRequested,
)
from ..domain.model import Account
from ..domain.validation import (
    Collector,
    check_password,
    normalize_email,
)
from ..security.tokens import TokenPurpose, hash_token
from .account_base import AccountBase, LoginResult
from .context import Context
from .core import EventRecorder, run_write
from .ports import UnitOfWork

log = structlog.get_logger("aspirasi.accounts")


class PasswordsMixin(AccountBase):
    """Resetting a forgotten password and changing one's password."""

    async def forgot_password(self, ctx: Context, email: str) -> None:
        """Send a reset link if the address belongs to an active account. Always
        returns None, whatever the address (no enumeration)."""
        address = normalize_email(email)
        deps = self._d
        await deps.before("forgot_password", ctx, subject=address)

        def script(uow: UnitOfWork, events: EventRecorder) -> None:
            account = uow.accounts.find_by_email(address)
            if account is None or not account.is_active:
                return
            now = deps.clock.now()
            token, expires = self._issue_link_token(
                uow,
                account,
                TokenPurpose.RESET_PASSWORD,
                timedelta(minutes=deps.settings.reset_ttl_minutes),
                now,
            )
            events.record(
                PasswordResetRequested(
                    account_id=account.id,
                    email=account.email,
                    language=account.language,
                    token=token,
                    expires_at=expires,
                    at=now,
                )
            )

        await run_write(deps, script)

    async def accept_invitation(
        self, ctx: Context, token: str, password: str, password_confirm: str
    ) -> Account:
        """Set the first password of an invited staff account with the token of
        its invitation mail (single-use, expiring; see ``AdminService.invite_staff``)."""
        return await self.reset_password(
            ctx, token, password, password_confirm, purpose=TokenPurpose.INVITATION
        )

    async def reset_password(
        self,
        ctx: Context,
        token: str,
        password: str,
        password_confirm: str,
        *,
        purpose: str = TokenPurpose.RESET_PASSWORD,
    ) -> Account:
        """Set a new password with a reset token (or, with ``purpose`` INVITATION,
        an invitation's); ends every session and token of the account. The token
        is consumed only when the new password is valid."""
        if purpose not in (TokenPurpose.RESET_PASSWORD, TokenPurpose.INVITATION):
            raise ValueError(f"not a password link purpose: {purpose}")
        bad_token = Invalid.field(
            "token", "token_invalid", "This link is not valid or has expired."
        )
        if not isinstance(token, str) or not token or len(token) > 200:
            raise bad_token
        deps = self._d
        await deps.before("reset_password", ctx)
        digest = hash_token(token)

        def peek(uow: UnitOfWork) -> Account | None:
            record = uow.tokens.lookup(purpose, digest, deps.clock.now())
            return uow.accounts.get(record.account_id) if record else None

        account = await deps.db.transaction(peek, write=False)
        if account is None:
            raise bad_token
        check_password(
            password,
            password_confirm,
            personal=(account.username, account.email, account.email.split("@")[0]),
        )
        password_hash = await deps.hasher.hash_async(password)

        def script(uow: UnitOfWork, events: EventRecorder) -> Account:
            now = deps.clock.now()
            record = uow.tokens.consume(purpose, digest, now)
            current = uow.accounts.get(record.account_id) if record else None
            if record is None or current is None or record.auth_version != current.auth_version:
                raise bad_token
            if not current.is_active:
                raise bad_token
            fields: dict[str, object] = {
                "password_hash": password_hash,
                "must_change_password": False,
            }
            if current.email_verified_at is None and not self._reserved_elsewhere(
                uow, current, current.username
            ):
                # The link proved the mailbox; it verifies too, unless that would
                # take a username or NIK a verified account holds.
                fields["email_verified_at"] = now
            uow.accounts.update(current.id, **fields)
            uow.accounts.bump_auth_version(current.id)
            uow.tokens.delete_for_account(current.id, None)
            reason = "reset" if purpose == TokenPurpose.RESET_PASSWORD else "invitation"
            events.record(PasswordChanged(account_id=current.id, reason=reason, at=now))
            updated = uow.accounts.get(current.id)
            assert updated is not None
            return updated

        account = await run_write(deps, script)
        log.info("password_reset", account_id=account.id, purpose=purpose)
        return account

    async def change_password(
        self,
        ctx: Context,
        current_password: str,
        password: str,
        password_confirm: str,
        *,
        purpose: str = TokenPurpose.SESSION,
    ) -> LoginResult:
        """Change the signed-in account's password. Every other session and token
        dies; the caller gets a fresh token of ``purpose`` to stay signed in."""
        actor = ctx.actor
        if actor is None:
            raise Unauthenticated("Please log in.", code="login_required")
        deps = self._d
        await deps.before("change_password", ctx, subject=str(actor.account_id))
        account = await deps.db.transaction(
            lambda uow: uow.accounts.get(actor.account_id), write=False
        )
        if account is None:
            raise Unauthenticated("Please log in.", code="login_required")
        collector = Collector()
        if not isinstance(current_password, str) or not await deps.hasher.verify_async(
            account.password_hash, current_password
        ):
            collector.add("current_password", "password_wrong", "The current password is wrong.")
        collector.check(
            check_password,
            password,
            password_confirm,
            personal=(account.username, account.email, account.email.split("@")[0]),
        )
        if isinstance(password, str) and password and password == current_password:
            collector.add(
                "password", "password_same", "Choose a password different from the current one."
            )
        collector.raise_if_any()
        password_hash = await deps.hasher.hash_async(password)

        def script(uow: UnitOfWork, events: EventRecorder) -> LoginResult:
            now = deps.clock.now()
            uow.accounts.update(account.id, password_hash=password_hash, must_change_password=False)
            uow.accounts.bump_auth_version(account.id)
            uow.tokens.delete_for_account(account.id, None)
            events.record(PasswordChanged(account_id=account.id, reason="change", at=now))
            updated = uow.accounts.get(account.id)
            assert updated is not None
            return self._issue_login_token(uow, updated, purpose, now)

        return await run_write(deps, script)
