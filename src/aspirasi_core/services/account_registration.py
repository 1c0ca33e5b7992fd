"""Account use cases: registering, e-mail verification and the sweep of
unverified accounts (part of :class:`.accounts.AccountService`).

No-enumeration rule (REFERENCE.md): registering with an e-mail that already has
an account, or with a NIK a verified account holds, answers exactly like a new
registration (the outcome goes by mail).

A NIK and a username belong to whoever proves the e-mail first: an unverified
registration reserves neither (the database's unique indexes cover verified
accounts only), the first verification wins, and unverified accounts are swept
away after ``ASPIRASI_UNVERIFIED_ACCOUNT_DAYS``. Mails about registering are
capped per address per day (``ASPIRASI_VERIFICATION_MAILS_PER_DAY``).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import anyio.to_thread
import structlog

from ..domain.audit import AuditAction
from ..domain.errors import Conflict, Invalid, Throttled, Unauthenticated
from ..domain.events import (
    AccountRegistered,
    DuplicateRegistrationAttempted,
    EmailVerified,
    RegistrationNikTaken,
    VerificationRequested,
)
from ..domain.model import Account, Actor, Role
from ..domain.nik import mask_nik, normalize_nik
from ..domain.validation import (
    LIMITS,
    Collector,
    check_password,
    clean_text,
    normalize_email,
    normalize_username,
)
from ..security.tokens import TokenPurpose, hash_token
from .account_base import AccountBase, RegisterInput, _language
from .audit import record as record_audit
from .context import Context
from .core import EventRecorder, run_write
from .ports import NewAccount, UnitOfWork

log = structlog.get_logger("aspirasi.accounts")

#: Unverified accounts removed per sweep transaction.
SWEEP_BATCH = 500


class RegistrationMixin(AccountBase):
    """Registering, verifying the e-mail address, and sweeping the unverified."""

    # ------------------------------------------------------------------ registration
    async def register(self, ctx: Context, data: RegisterInput) -> Account | None:
        """Create a citizen account and send the verification link.

        Returns the new account, or None when the e-mail was already registered
        (the caller must answer both cases the same way). Raises :class:`Invalid`
        with every field problem at once, including a taken username or NIK.
        """
        deps = self._d
        collector = Collector()
        email = collector.check(normalize_email, data.email)
        username = collector.check(normalize_username, data.username)
        full_name = collector.check(
            clean_text, data.full_name, "full_name", max_length=LIMITS["full_name"]
        )
        nik = collector.check(normalize_nik, data.nik)
        personal = tuple(p for p in (username, email, (email or "").split("@")[0]) if p)
        collector.check(check_password, data.password, data.password_confirm, personal=personal)
        collector.raise_if_any()
        assert email and username and full_name and nik
        await deps.before("register", ctx, subject=email)
        language = _language(data.language, deps.settings.default_language)
        password_hash = await deps.hasher.hash_async(data.password)
        nik_index = deps.crypto.nik_index(nik)

        def script(uow: UnitOfWork, events: EventRecorder) -> Account | None:
            now = deps.clock.now()
            taken = uow.accounts.clashes(email=email, username=username, nik_index=nik_index)
            if "username" in taken:
                # Usernames are public handles: a verified one is refused at once,
                # whatever the e-mail and the NIK (so the answer tells nothing of them).
                raise Invalid.field("username", "username_taken", "This username is already taken.")
            if "email" in taken:
                existing = uow.accounts.find_by_email(email)
                if existing is not None and self._mail_allowed(uow, email, now):
                    _tell_owner(events, existing, now)
                return None
            if "nik" in taken:
                # A verified account holds the NIK: the address typed learns by mail
                # what its owner can do; the caller learns nothing.
                if self._mail_allowed(uow, email, now):
                    events.record(RegistrationNikTaken(email=email, language=language, at=now))
                return None
            account = uow.accounts.add(
                NewAccount(
                    email=email,
                    username=username,
                    full_name=full_name,
                    role=Role.USER,
                    password_hash=password_hash,
                    created_at=now,
                    language=language,
                    nik_encrypted=deps.crypto.encrypt_nik(nik),
                    nik_index=nik_index,
                    nik_masked=mask_nik(nik),
                )
            )
            events.record(
                AccountRegistered(account_id=account.id, email=email, language=language, at=now)
            )
            if self._mail_allowed(uow, email, now):
                self._issue_verification(uow, events, account, now)
            return account

        account = await run_write(deps, script, idempotency=ctx.idempotency)
        log.info("account_registered" if account else "registration_not_created")
        return account

    # ------------------------------------------------------------------ mail caps
    def _mail_allowed(self, uow: UnitOfWork, email: str, now: datetime) -> bool:
        """Count one more mail about registering to ``email`` today, unless the
        day's cap is reached (then nothing may be sent)."""
        today, _ = self._local_day(now)
        return uow.mail_quota.take(
            self._d.crypto.address_index(email),
            today.date(),
            self._d.settings.verification_mails_per_day,
        )

    def _mail_cap_reached(self, now: datetime) -> Throttled:
        _, tomorrow = self._local_day(now)
        return Throttled(
            "Too many verification e-mails were sent to this address today."
            " Please try again tomorrow.",
            retry_after=max(1, int((tomorrow - now).total_seconds())),
            code="verification_mail_cap",
        )

    def _issue_verification(
        self, uow: UnitOfWork, events: EventRecorder, account: Account, now: datetime
    ) -> None:
        """Mail a new link to the address the owner asked for (older links die)."""
        token, expires = self._issue_link_token(
            uow,
            account,
            TokenPurpose.VERIFY_EMAIL,
            timedelta(hours=self._d.settings.verification_ttl_hours),
            now,
        )
        events.record(
            VerificationRequested(
                account_id=account.id,
                email=account.requested_email,
                language=account.language,
                token=token,
                expires_at=expires,
                at=now,
            )
        )

    async def verify_email(
        self, ctx: Context, token: str, *, username: str | None = None
    ) -> Account:
        """Consume a verification token and mark the address verified.

        Verifying reserves the account's username and NIK; when a verified account
        took either first, it fails (``Invalid`` on ``username`` or ``nik``) and
        consumes nothing: the link works again once the clash is gone — a new
        ``username`` chosen here, or the NIK released by a super admin.
        """
        if not isinstance(token, str) or not token or len(token) > 200:
            raise Invalid.field("token", "token_invalid", "This link is not valid or has expired.")
        new_username = normalize_username(username) if username else None
        deps = self._d

        def script(uow: UnitOfWork, events: EventRecorder) -> Account:
            now = deps.clock.now()
            record = uow.tokens.consume(TokenPurpose.VERIFY_EMAIL, hash_token(token), now)
            account = uow.accounts.get(record.account_id) if record else None
            if record is None or account is None or record.auth_version != account.auth_version:
                raise Invalid.field(
                    "token", "token_invalid", "This link is not valid or has expired."
                )
            if account.email_verified_at is None:
                fields: dict[str, object] = {"email_verified_at": now}
                if new_username and new_username != account.username:
                    fields["username"] = new_username
                if account.pending_email:
                    # The link went to the address asked for on the waiting page:
                    # proven now, it becomes the account's.
                    if "email" in uow.accounts.clashes(
                        email=account.pending_email, exclude_id=account.id
                    ):  # taken since (or never free: no link went to it then)
                        raise Invalid.field(
                            "token", "token_invalid", "This link is not valid or has expired."
                        )
                    fields.update(email=account.pending_email, pending_email=None)
                    record_audit(
                        uow,
                        ctx,
                        AuditAction.ACCOUNT_EMAIL_CHANGE,
                        at=now,
                        subject_account_id=account.id,
                    )
                name = str(fields.get("username", account.username))
                self._check_reservations(uow, account, name)
                try:
                    account = uow.accounts.update(account.id, **fields)
                except Conflict:
                    # Another account was verified with them a moment ago.
                    self._check_reservations(uow, account, name)
                    raise
                events.record(EmailVerified(account_id=account.id, at=now))
            uow.tokens.delete_for_account(account.id, [TokenPurpose.VERIFY_EMAIL])
            return account

        account = await run_write(deps, script)
        log.info("email_verified", account_id=account.id)
        return account

    def _check_reservations(self, uow: UnitOfWork, account: Account, username: str) -> None:
        """Raise ``Invalid`` when verifying ``account`` as ``username`` would take a
        username or a NIK a verified account holds."""
        taken = self._reserved_elsewhere(uow, account, username)
        errors = Collector()
        if "username" in taken:
            errors.add(
                "username",
                "username_taken",
                "Another account confirmed the username %(username)s first: choose another one"
                " to finish.",
                username=username,
            )
        if "nik" in taken:
            errors.add(
                "nik",
                "nik_taken",
                "Another account confirmed this NIK first. If the NIK is yours, write to the"
                " administrator at %(contact)s from this e-mail address: after checking that"
                " it is yours, they can release it, and this link (or a new one) will then"
                " work.",
                contact=self._d.settings.contact_email,
            )
        errors.raise_if_any()

    async def resend_verification(self, ctx: Context) -> None:
        """Send a new verification link to the signed-in, unverified account."""
        deps = self._d
        actor = _unverified(ctx.actor)
        await deps.before("resend_verification", ctx, subject=str(actor.account_id))

        def script(uow: UnitOfWork, events: EventRecorder) -> None:
            account = _unverified_account(uow, actor)
            now = deps.clock.now()
            self._check_resend_pause(uow, account.id, now)
            self._send_link(uow, events, account, now)

        await run_write(deps, script)

    def _send_link(
        self, uow: UnitOfWork, events: EventRecorder, account: Account, now: datetime
    ) -> None:
        """Mail a verification link to the address the owner asked for — or, when
        that is a pending address another account has, tell that account's owner
        (as for a registration with it) and start the pause as a link would: the
        caller, the waiting page and ``/api/v1/me`` cannot tell the two apart."""
        address = account.requested_email
        if not self._mail_allowed(uow, address, now):
            raise self._mail_cap_reached(now)
        if account.pending_email and "email" in uow.accounts.clashes(
            email=address, exclude_id=account.id
        ):
            existing = uow.accounts.find_by_email(address)
            if existing is not None:
                _tell_owner(events, existing, now)
            self._mark_pause(uow, account, now)
            return
        self._issue_verification(uow, events, account, now)

    # ------------------------------------------------------------------ the waiting page
    def _resend_wait(self, uow: UnitOfWork, account_id: int, now: datetime) -> int:
        """Seconds until another verification link may be sent (0: now)."""
        last = uow.tokens.last_created(account_id, TokenPurpose.VERIFY_EMAIL)
        if last is None:
            return 0
        pause = timedelta(seconds=self._d.settings.verification_resend_seconds)
        left = (last + pause - now).total_seconds()
        return max(0, math.ceil(left))

    def _check_resend_pause(self, uow: UnitOfWork, account_id: int, now: datetime) -> None:
        wait = self._resend_wait(uow, account_id, now)
        if wait:
            raise Throttled(
                "A new link was sent a moment ago. You can ask for another one in"
                " %(seconds)s seconds.",
                retry_after=wait,
                code="resend_paused",
            )

    async def resend_wait(self, ctx: Context) -> int:
        """Seconds before the signed-in account may ask for a new verification link
        (``ASPIRASI_VERIFICATION_RESEND_SECONDS`` after the last one; 0: now)."""
        actor = ctx.actor
        if actor is None:
            raise Unauthenticated("Please log in.", code="login_required")
        deps = self._d
        return await deps.db.transaction(
            lambda uow: self._resend_wait(uow, actor.account_id, deps.clock.now()), write=False
        )

    async def link_valid(self, purpose: str, token: str) -> bool:
        """Whether a one-time link's ``token`` would still work, without consuming
        it (a link's page is shown on GET, which mail scanners prefetch): issued,
        unused, unexpired, for an active account whose password has not changed
        since."""
        if not isinstance(token, str) or not token or len(token) > 200:
            return False
        deps = self._d
        digest = hash_token(token)

        def peek(uow: UnitOfWork) -> bool:
            record = uow.tokens.lookup(purpose, digest, deps.clock.now())
            account = uow.accounts.get(record.account_id) if record else None
            return (
                record is not None
                and account is not None
                and account.is_active
                and record.auth_version == account.auth_version
            )

        return await deps.db.transaction(peek, write=False)

    async def change_pending_email(self, ctx: Context, email: str) -> None:
        """Correct the address of the signed-in, unverified account: it is kept as
        the account's ``pending_email`` and a new verification link goes to it;
        the older links stop working. The account's ``email`` (and the log-in with
        it) stays until a link to the new address is used.

        No enumeration: when another account has the address, it is kept all the
        same, no link goes anywhere and its owner is told by mail (as for a
        registration with it); the caller, the waiting page and ``/api/v1/me`` are
        answered exactly as when it is free. Paused like a resend (``Throttled``);
        the address is checked as at registration (``Invalid``).
        """
        deps = self._d
        actor = _unverified(ctx.actor)
        address = normalize_email(email)
        await deps.before("resend_verification", ctx, subject=str(actor.account_id))

        def script(uow: UnitOfWork, events: EventRecorder) -> None:
            account = _unverified_account(uow, actor)
            now = deps.clock.now()
            self._check_resend_pause(uow, account.id, now)
            pending = None if address == account.email else address
            if pending != account.pending_email:
                account = uow.accounts.update(account.id, pending_email=pending)
            self._send_link(uow, events, account, now)

        await run_write(deps, script)
        log.info("pending_email_changed", account_id=actor.account_id)

    def _mark_pause(self, uow: UnitOfWork, account: Account, now: datetime) -> None:
        """Start the resend pause as a sent link would (a token nobody receives:
        the older links die alike), so the answer and the page that follows are
        the same as after a change."""
        self._issue_link_token(
            uow,
            account,
            TokenPurpose.VERIFY_EMAIL,
            timedelta(hours=self._d.settings.verification_ttl_hours),
            now,
        )

    # ------------------------------------------------------------------ the sweep
    def sweep_unverified_sync(self) -> int:
        """Remove citizen accounts left unverified for
        ``ASPIRASI_UNVERIFIED_ACCOUNT_DAYS`` (in batches), and forget the mail
        counts of past days; returns how many accounts went."""
        deps = self._d
        cutoff = deps.clock.now() - timedelta(days=deps.settings.unverified_account_days)

        def batch(uow: UnitOfWork) -> int:
            return uow.accounts.delete_unverified(created_before=cutoff, limit=SWEEP_BATCH)

        total = 0
        while True:
            removed = deps.db.run_sync(batch, write=True)
            total += removed
            if removed < SWEEP_BATCH:
                break
        yesterday = (self._local_day(deps.clock.now())[0] - timedelta(days=1)).date()
        deps.db.run_sync(lambda uow: uow.mail_quota.forget_before(yesterday), write=True)
        if total:
            log.info("unverified_accounts_removed", count=total)
        return total

    async def sweep_unverified(self) -> int:
        """:meth:`sweep_unverified_sync` in a worker thread."""
        return await anyio.to_thread.run_sync(self.sweep_unverified_sync)


def _unverified(actor: Actor | None) -> Actor:
    """The signed-in actor whose address is not verified yet (resending or
    correcting the address): ``Unauthenticated`` without one, ``Conflict`` once verified."""
    if actor is None:
        raise Unauthenticated("Please log in.", code="login_required")
    if actor.verified:
        raise Conflict("Your e-mail address is already verified.", code="already_verified")
    return actor


def _unverified_account(uow: UnitOfWork, actor: Actor) -> Account:
    """The actor's account as stored, checked again inside the write transaction."""
    account = uow.accounts.get(actor.account_id)
    if account is None or not account.is_active:
        raise Unauthenticated("Please log in.", code="login_required")
    if account.verified:
        raise Conflict("Your e-mail address is already verified.", code="already_verified")
    return account


def _tell_owner(events: EventRecorder, owner: Account, now: datetime) -> None:
    """Tell the owner of an address that someone tried to take it (a registration
    or a waiting page's correction with it): a mail, never an answer to the caller."""
    events.record(
        DuplicateRegistrationAttempted(
            account_id=owner.id,
            email=owner.email,
            language=owner.language,
            at=now,
            verified=owner.verified,
        )
    )
