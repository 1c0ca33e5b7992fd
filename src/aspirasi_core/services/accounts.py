"""Account use cases: registration, e-mail verification, log-in, sessions and
tokens, password reset and change, profile.

No-enumeration rules (REFERENCE.md): registering with an e-mail that already
has an account, or with a NIK a verified account holds, answers exactly like a
new registration (the outcome goes by mail); forgot-password always answers the
same; an unknown login burns the same argon2 time as a wrong password.

A NIK and a username belong to whoever proves the e-mail first: an unverified
registration reserves neither (the database's unique indexes cover verified
accounts only), the first verification wins, and unverified accounts are swept
away after ``ASPIRASI_UNVERIFIED_ACCOUNT_DAYS``. Mails about registering are
capped per address per day (``ASPIRASI_VERIFICATION_MAILS_PER_DAY``).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import anyio.to_thread
import attrs
import structlog

from ..domain.errors import Conflict, Invalid, NotAllowed, Throttled, Unauthenticated
from ..domain.events import (
    AccountRegistered,
    DuplicateRegistrationAttempted,
    EmailVerified,
    PasswordChanged,
    PasswordResetRequested,
    RegistrationNikTaken,
    VerificationRequested,
)
from ..domain.model import Account, Role
from ..domain.nik import mask_nik, normalize_nik
from ..domain.validation import (
    LIMITS,
    Collector,
    check_password,
    clean_text,
    normalize_email,
    normalize_username,
)
from ..security.devices import MAX_DEVICE_TOKENS, check_device_token, issue_device_token
from ..security.tokens import TokenPurpose, hash_token, new_token
from .context import Context
from .core import CoreDeps, EventRecorder, run_write
from .ports import NewAccount, UnitOfWork

log = structlog.get_logger("aspirasi.accounts")

LANGUAGES = ("id", "en")
#: Unverified accounts removed per sweep transaction.
SWEEP_BATCH = 500


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


class AccountService:
    """Use cases of people's own accounts."""

    def __init__(self, deps: CoreDeps) -> None:
        self._d = deps

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
                    events.record(
                        DuplicateRegistrationAttempted(
                            account_id=existing.id,
                            email=existing.email,
                            language=existing.language,
                            at=now,
                            verified=existing.verified,
                        )
                    )
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
    def _local_day(self, now: datetime) -> tuple[datetime, datetime]:
        """(start of today, start of tomorrow) in the province's time zone."""
        zone = ZoneInfo(self._d.settings.timezone)
        local = now.astimezone(zone)
        start = datetime.combine(local.date(), time(0), tzinfo=zone)
        return start, datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=zone)

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
                email=account.email,
                language=account.language,
                token=token,
                expires_at=expires,
                at=now,
            )
        )

    @staticmethod
    def _issue_link_token(
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

    def _reserved_elsewhere(self, uow: UnitOfWork, account: Account, username: str) -> set[str]:
        """Which of ``username`` and the account's NIK a verified account holds."""
        blob = uow.accounts.nik_encrypted(account.id)
        crypto = self._d.crypto
        nik_index = crypto.nik_index(crypto.decrypt_nik(blob)) if blob else None
        return uow.accounts.clashes(username=username, nik_index=nik_index, exclude_id=account.id)

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
        actor = ctx.actor
        if actor is None:
            raise Unauthenticated("Please log in.", code="login_required")
        if actor.verified:
            raise Conflict("Your e-mail address is already verified.", code="already_verified")
        await deps.before("resend_verification", ctx, subject=str(actor.account_id))

        def script(uow: UnitOfWork, events: EventRecorder) -> None:
            account = uow.accounts.get(actor.account_id)
            if account is None or not account.is_active:
                raise Unauthenticated("Please log in.", code="login_required")
            if account.verified:
                raise Conflict("Your e-mail address is already verified.", code="already_verified")
            now = deps.clock.now()
            if not self._mail_allowed(uow, account.email, now):
                raise self._mail_cap_reached(now)
            self._issue_verification(uow, events, account, now)

        await run_write(deps, script)

    # ------------------------------------------------------------------ log-in and tokens
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

    # ------------------------------------------------------------------ passwords
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

    async def reset_password(
        self, ctx: Context, token: str, password: str, password_confirm: str
    ) -> Account:
        """Set a new password with a reset token; ends every session and token of
        the account. The token is consumed only when the new password is valid."""
        bad_token = Invalid.field(
            "token", "token_invalid", "This link is not valid or has expired."
        )
        if not isinstance(token, str) or not token or len(token) > 200:
            raise bad_token
        deps = self._d
        await deps.before("reset_password", ctx)
        digest = hash_token(token)

        def peek(uow: UnitOfWork) -> Account | None:
            record = uow.tokens.lookup(TokenPurpose.RESET_PASSWORD, digest, deps.clock.now())
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
            record = uow.tokens.consume(TokenPurpose.RESET_PASSWORD, digest, now)
            current = uow.accounts.get(record.account_id) if record else None
            if record is None or current is None or record.auth_version != current.auth_version:
                raise bad_token
            fields: dict[str, object] = {"password_hash": password_hash}
            if current.email_verified_at is None and not self._reserved_elsewhere(
                uow, current, current.username
            ):
                # The link proved the mailbox; it verifies too, unless that would
                # take a username or NIK a verified account holds.
                fields["email_verified_at"] = now
            uow.accounts.update(current.id, **fields)
            uow.accounts.bump_auth_version(current.id)
            uow.tokens.delete_for_account(current.id, None)
            events.record(PasswordChanged(account_id=current.id, reason="reset", at=now))
            updated = uow.accounts.get(current.id)
            assert updated is not None
            return updated

        account = await run_write(deps, script)
        log.info("password_reset", account_id=account.id)
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
            uow.accounts.update(account.id, password_hash=password_hash)
            uow.accounts.bump_auth_version(account.id)
            uow.tokens.delete_for_account(account.id, None)
            events.record(PasswordChanged(account_id=account.id, reason="change", at=now))
            updated = uow.accounts.get(account.id)
            assert updated is not None
            return self._issue_login_token(uow, updated, purpose, now)

        return await run_write(deps, script)

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
