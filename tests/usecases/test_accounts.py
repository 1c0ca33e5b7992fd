"""Account use cases on a real database."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from aspirasi_core.domain.errors import Conflict, Invalid, NotAllowed, Unauthenticated
from aspirasi_core.security.tokens import TokenPurpose
from aspirasi_core.services import Context, SubmitInput
from aspirasi_core.services.accounts import RegisterInput

from .world import NIKS, World

pytestmark = pytest.mark.anyio


def reg(username: str = "citra", nik: str = NIKS[2], **kw: str) -> RegisterInput:
    values = {
        "email": f"{username}@example.org",
        "username": username,
        "full_name": "Citra Lestari",
        "nik": nik,
        "password": "a-long-enough-secret",
        "password_confirm": "a-long-enough-secret",
    }
    values.update(kw)
    return RegisterInput(**values)  # type: ignore[arg-type]


def field_codes(exc: Invalid) -> dict[str, str]:
    return {e.field: e.code for e in exc.errors}


async def test_register_verify_login_round_trip(world: World) -> None:
    app = world.app
    account = await app.accounts.register(Context(), reg())
    assert account is not None and not account.verified
    assert account.nik_masked == "6472********0003"
    token = world.recorder.tokens("VerificationRequested")[-1]
    # The raw token is not stored anywhere in the database.
    assert world.count("auth_tokens") >= 1
    login = await app.accounts.login(Context(), "citra", "a-long-enough-secret")
    assert login.account.id == account.id and not login.account.verified
    with pytest.raises(NotAllowed) as exc:
        await app.messages.submit(Context(actor=login.account.actor()), SubmitInput("s", "b"))
    assert exc.value.code == "email_unverified"
    verified = await app.accounts.verify_email(Context(), token)
    assert verified.verified
    # single use
    with pytest.raises(Invalid) as again:
        await app.accounts.verify_email(Context(), token)
    assert field_codes(again.value) == {"token": "token_invalid"}
    # log in by e-mail, case-insensitively
    login2 = await app.accounts.login(Context(), "CITRA@example.org", "a-long-enough-secret")
    assert login2.account.verified
    authed = await app.accounts.authenticate(login2.token, TokenPurpose.SESSION)
    assert authed is not None and authed.id == account.id


async def test_api_login_with_session_issues_both_tokens(world: World) -> None:
    app = world.app
    account = await app.accounts.register(Context(), reg())
    assert account is not None
    tokens_before = world.count("auth_tokens")
    login = await app.accounts.login(
        Context(), "citra", "a-long-enough-secret", purpose=TokenPurpose.API, with_session=True
    )
    assert login.session is not None and login.session.token != login.token
    assert world.count("auth_tokens") == tokens_before + 2
    api = await app.accounts.authenticate(login.token, TokenPurpose.API)
    session = await app.accounts.authenticate(login.session.token, TokenPurpose.SESSION)
    assert api is not None and session is not None and api.id == session.id == account.id
    # each token is good for its own purpose only
    assert await app.accounts.authenticate(login.token, TokenPurpose.SESSION) is None
    assert await app.accounts.authenticate(login.session.token, TokenPurpose.API) is None
    # without with_session, one token
    plain = await app.accounts.login(Context(), "citra", "a-long-enough-secret")
    assert plain.session is None
    assert world.count("auth_tokens") == tokens_before + 3


async def test_verification_expires(world: World) -> None:
    await world.app.accounts.register(Context(), reg())
    token = world.recorder.tokens("VerificationRequested")[-1]
    world.clock.advance(hours=24, seconds=1)
    with pytest.raises(Invalid):
        await world.app.accounts.verify_email(Context(), token)


async def test_bad_registration_input_leaves_nothing(world: World) -> None:
    before = world.count("accounts"), world.count("outbox"), world.count("auth_tokens")
    cases = [
        (reg(nik="1234"), {"nik": "nik_format"}),
        (reg(nik="9972045504910001"), {"nik": "nik_invalid"}),
        (reg(nik="647204550491000١"), {"nik": "nik_format"}),
        (reg(password="short", password_confirm="short"), {"password": "password_too_short"}),
        (
            reg(password="password123", password_confirm="password123"),
            {"password": "password_common"},
        ),
        (
            reg(password_confirm="something-else-entirely"),
            {"password_confirm": "password_mismatch"},
        ),
        (reg(email="not-an-email"), {"email": "email_invalid"}),
        (reg(username="a"), {"username": "username_length"}),
        (reg(full_name="   "), {"full_name": "required"}),
        (reg(username="budi"), {"username": "username_taken"}),
        # A NIK a verified account holds is no error: see test_account_privacy.py.
    ]
    for data, expected in cases:
        with pytest.raises(Invalid) as exc:
            await world.app.accounts.register(Context(), data)
        codes = field_codes(exc.value)
        for field, code in expected.items():
            assert codes.get(field) == code, (data, codes)
    assert (world.count("accounts"), world.count("outbox"), world.count("auth_tokens")) == before


async def test_every_problem_is_reported_at_once(world: World) -> None:
    with pytest.raises(Invalid) as exc:
        await world.app.accounts.register(
            Context(), reg(email="x", username="!", nik="1", password="1", password_confirm="2")
        )
    assert set(field_codes(exc.value)) >= {
        "email",
        "username",
        "nik",
        "password",
        "password_confirm",
    }


async def test_duplicate_email_answers_like_success_and_tells_the_owner(world: World) -> None:
    before = world.count("accounts")
    result = await world.app.accounts.register(Context(), reg(email="ANI@example.org"))
    assert result is None
    assert world.count("accounts") == before
    names = [e.name for e in world.recorder.in_transaction]
    assert names == ["DuplicateRegistrationAttempted"]
    assert world.recorder.in_transaction[0].account_id == world.accounts["ani"].id


async def test_resend_voids_older_links(world: World) -> None:
    account = await world.app.accounts.register(Context(), reg())
    first = world.recorder.tokens("VerificationRequested")[-1]
    ctx = Context(actor=account.actor())
    await world.app.accounts.resend_verification(ctx)
    second = world.recorder.tokens("VerificationRequested")[-1]
    assert first != second
    with pytest.raises(Invalid):
        await world.app.accounts.verify_email(Context(), first)
    assert (await world.app.accounts.verify_email(Context(), second)).verified
    with pytest.raises(Conflict):
        await world.app.accounts.resend_verification(world.ctx("ani"))
    with pytest.raises(Unauthenticated):
        await world.app.accounts.resend_verification(Context())


async def test_login_failures_look_the_same(world: World) -> None:
    errors = []
    for login, password in (("ani", "wrong-password-here"), ("nobody", "whatever-password")):
        with pytest.raises(Unauthenticated) as exc:
            await world.app.accounts.login(Context(), login, password)
        errors.append((exc.value.code, exc.value.render()))
    assert errors[0] == errors[1]
    with pytest.raises(Invalid):
        await world.app.accounts.login(Context(), "", "")


async def test_deactivated_account_cannot_log_in_and_loses_sessions(world: World) -> None:
    from aspirasi_core.services.admin import AccountChanges

    session = await world.app.accounts.login(Context(), "budi", "budi-long-password")
    await world.app.admin.update_account(
        world.ctx("root"), world.accounts["budi"].id, AccountChanges(is_active=False)
    )
    assert await world.app.accounts.authenticate(session.token, TokenPurpose.SESSION) is None
    with pytest.raises(NotAllowed):
        await world.app.accounts.login(Context(), "budi", "budi-long-password")


def _while_the_password_is_checked(
    world: World, monkeypatch: pytest.MonkeyPatch, action: Callable[[], Awaitable[object]]
) -> None:
    """Run ``action`` once, right after the next log-in has checked its password
    and before it issues its tokens (as a concurrent request would)."""
    hasher = world.app.deps.hasher
    real_verify = hasher.verify_async

    async def verify_then_act(password_hash: str | None, password: str) -> bool:
        ok = await real_verify(password_hash, password)
        monkeypatch.setattr(hasher, "verify_async", real_verify)  # once only
        await action()
        return ok

    monkeypatch.setattr(hasher, "verify_async", verify_then_act)


async def _deactivate(world: World, account_id: int) -> None:
    from aspirasi_core.services.admin import AccountChanges

    await world.app.admin.update_account(
        world.ctx("root"), account_id, AccountChanges(is_active=False)
    )


def _old_cost_hash(password: str) -> str:
    """A hash of ``password`` made with cheaper parameters than the app's."""
    from argon2 import PasswordHasher as Argon2Cffi

    return Argon2Cffi(time_cost=1, memory_cost=512, parallelism=1).hash(password)


@pytest.mark.parametrize("with_session", [True, False])
async def test_an_account_deactivated_during_the_log_in_gets_no_token(
    world: World, monkeypatch: pytest.MonkeyPatch, with_session: bool
) -> None:
    """Deactivated between the read of the account and the transaction that issues
    the tokens (while the password is checked): the log-in fails like for any
    deactivated account, and no token is issued."""
    _while_the_password_is_checked(
        world, monkeypatch, lambda: _deactivate(world, world.accounts["budi"].id)
    )
    tokens_before = world.count("auth_tokens")
    with pytest.raises(NotAllowed) as exc:
        await world.app.accounts.login(
            Context(),
            "budi",
            "budi-long-password",
            purpose=TokenPurpose.API,
            with_session=with_session,
        )
    assert exc.value.code == "account_inactive"
    assert world.count("auth_tokens") == tokens_before


async def test_a_password_changed_during_the_log_in_refuses_the_old_one(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Changed between the read of the account and the issue of the tokens (while
    the old password is checked): the old password no longer logs in."""
    budi = world.accounts["budi"]
    _while_the_password_is_checked(
        world,
        monkeypatch,
        lambda: world.app.accounts.change_password(
            Context(actor=budi.actor()),
            "budi-long-password",
            "budi-newer-password",
            "budi-newer-password",
        ),
    )
    tokens_before = world.count("auth_tokens")
    with pytest.raises(Unauthenticated) as exc:
        await world.app.accounts.login(
            Context(), "budi", "budi-long-password", purpose=TokenPurpose.API, with_session=True
        )
    assert exc.value.code == "invalid_credentials"
    assert world.count("auth_tokens") == tokens_before + 1  # change_password's own
    assert (await world.app.accounts.login(Context(), "budi", "budi-newer-password")).token


def _store_hash(world: World, account_id: int, password_hash: str) -> None:
    from sqlalchemy import text

    with world.app.deps.db.engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(
            text("UPDATE accounts SET password_hash = :h WHERE id = :id"),
            {"h": password_hash, "id": account_id},
        )


def _stored_hash(world: World, account_id: int) -> str:
    from sqlalchemy import text

    with world.app.deps.db.engine.connect() as conn:  # type: ignore[attr-defined]
        return str(
            conn.execute(
                text("SELECT password_hash FROM accounts WHERE id = :id"), {"id": account_id}
            ).scalar_one()
        )


@pytest.mark.parametrize("with_session", [True, False])
async def test_a_log_in_with_an_old_cost_hash_re_hashes_it(
    world: World, with_session: bool
) -> None:
    hasher = world.app.deps.hasher
    budi = world.accounts["budi"]
    old = _old_cost_hash("budi-long-password")
    _store_hash(world, budi.id, old)
    assert hasher.needs_rehash(old)
    result = await world.app.accounts.login(
        Context(), "budi", "budi-long-password", purpose=TokenPurpose.API, with_session=with_session
    )
    stored = _stored_hash(world, budi.id)
    assert stored != old and not hasher.needs_rehash(stored)
    assert hasher.verify(stored, "budi-long-password")
    assert result.account.password_hash == stored
    assert await world.app.accounts.authenticate(result.token, TokenPurpose.API) is not None
    assert (result.session is not None) is with_session
    if result.session is not None:
        assert await world.app.accounts.authenticate(result.session.token, TokenPurpose.SESSION)


async def test_a_re_hash_of_an_account_deactivated_during_the_log_in_is_not_kept(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    budi = world.accounts["budi"]
    old = _old_cost_hash("budi-long-password")
    _store_hash(world, budi.id, old)
    _while_the_password_is_checked(world, monkeypatch, lambda: _deactivate(world, budi.id))
    tokens_before = world.count("auth_tokens")
    with pytest.raises(NotAllowed) as exc:
        await world.app.accounts.login(Context(), "budi", "budi-long-password")
    assert exc.value.code == "account_inactive"
    assert world.count("auth_tokens") == tokens_before
    assert _stored_hash(world, budi.id) == old


async def test_a_re_hash_never_overwrites_a_hash_set_during_the_log_in(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another hash stored while the old one was being checked (a password change
    committed just then) stays: the re-hash of the old password is not written."""
    budi = world.accounts["budi"]
    old = _old_cost_hash("budi-long-password")
    newer = world.app.deps.hasher.hash("budi-newer-password")
    _store_hash(world, budi.id, old)

    async def store_newer() -> None:
        _store_hash(world, budi.id, newer)  # auth_version unchanged: only the hash guards

    _while_the_password_is_checked(world, monkeypatch, store_newer)
    tokens_before = world.count("auth_tokens")
    with pytest.raises(Unauthenticated) as exc:
        await world.app.accounts.login(Context(), "budi", "budi-long-password")
    assert exc.value.code == "invalid_credentials"
    assert _stored_hash(world, budi.id) == newer
    assert world.count("auth_tokens") == tokens_before


async def test_session_idle_and_absolute_timeouts(world: World) -> None:
    app = world.app
    session = await app.accounts.login(Context(), "ani", "ani-long-password")
    world.clock.advance(minutes=59)
    assert await app.accounts.authenticate(session.token, TokenPurpose.SESSION) is not None
    world.clock.advance(minutes=61)
    assert await app.accounts.authenticate(session.token, TokenPurpose.SESSION) is None
    api = await app.accounts.login(Context(), "ani", "ani-long-password", purpose=TokenPurpose.API)
    assert (
        await app.accounts.authenticate(api.token, TokenPurpose.SESSION) is None
    )  # purposes do not mix
    assert await app.accounts.authenticate(api.token, TokenPurpose.API) is not None
    world.clock.advance(days=31)
    assert await app.accounts.authenticate(api.token, TokenPurpose.API) is None


async def test_logout_kills_the_token(world: World) -> None:
    session = await world.app.accounts.login(Context(), "ani", "ani-long-password")
    await world.app.accounts.logout(session.token, TokenPurpose.SESSION)
    assert await world.app.accounts.authenticate(session.token, TokenPurpose.SESSION) is None


async def test_forgot_and_reset_password(world: World) -> None:
    app = world.app
    session = await app.accounts.login(Context(), "ani", "ani-long-password")
    outbox_before = world.count("outbox")
    await app.accounts.forgot_password(Context(), "nobody@example.org")
    assert world.count("outbox") == outbox_before  # nothing for unknown addresses
    await app.accounts.forgot_password(Context(), "Ani@Example.org")
    assert world.count("outbox") == outbox_before + 1
    token = world.recorder.tokens("PasswordResetRequested")[-1]
    # a weak password is refused without consuming the token
    with pytest.raises(Invalid):
        await app.accounts.reset_password(Context(), token, "12345678", "12345678")
    account = await app.accounts.reset_password(
        Context(), token, "brand-new-password", "brand-new-password"
    )
    assert account.auth_version == 2
    assert await app.accounts.authenticate(session.token, TokenPurpose.SESSION) is None
    with pytest.raises(Invalid):
        await app.accounts.reset_password(
            Context(), token, "another-new-password", "another-new-password"
        )
    with pytest.raises(Unauthenticated):
        await app.accounts.login(Context(), "ani", "ani-long-password")
    assert (
        await app.accounts.login(Context(), "ani", "brand-new-password")
    ).account.id == account.id


async def test_reset_link_expires_after_an_hour(world: World) -> None:
    await world.app.accounts.forgot_password(Context(), "ani@example.org")
    token = world.recorder.tokens("PasswordResetRequested")[-1]
    world.clock.advance(minutes=61)
    with pytest.raises(Invalid):
        await world.app.accounts.reset_password(
            Context(), token, "brand-new-password", "brand-new-password"
        )


async def test_change_password(world: World) -> None:
    app = world.app
    old = await app.accounts.login(Context(), "ani", "ani-long-password")
    ctx = world.ctx("ani")
    with pytest.raises(Invalid) as exc:
        await app.accounts.change_password(
            ctx, "wrong-current", "new-password-ok", "new-password-ok"
        )
    assert field_codes(exc.value) == {"current_password": "password_wrong"}
    with pytest.raises(Invalid) as exc:
        await app.accounts.change_password(ctx, "ani-long-password", "new-password-ok", "different")
    assert field_codes(exc.value) == {"password_confirm": "password_mismatch"}
    fresh = await app.accounts.change_password(
        ctx, "ani-long-password", "new-password-ok", "new-password-ok"
    )
    assert await app.accounts.authenticate(old.token, TokenPurpose.SESSION) is None
    assert await app.accounts.authenticate(fresh.token, TokenPurpose.SESSION) is not None


async def test_profile_and_own_nik(world: World) -> None:
    ctx = world.ctx("ani")
    updated = await world.app.accounts.update_profile(
        ctx, full_name="  Ani Suryani ", language="en"
    )
    assert (updated.full_name, updated.language) == ("Ani Suryani", "en")
    with pytest.raises(Invalid):
        await world.app.accounts.update_profile(ctx, language="fr")
    with pytest.raises(Invalid):
        await world.app.accounts.update_profile(ctx, full_name="x" * 500)
    assert await world.app.accounts.nik_of(ctx) == NIKS[0]


async def test_nik_is_stored_encrypted(world: World) -> None:
    from sqlalchemy import text

    with world.app.deps.db.engine.connect() as conn:  # type: ignore[attr-defined]
        rows = conn.execute(
            text(
                "SELECT nik_encrypted, nik_index, nik_masked FROM accounts WHERE nik_index IS NOT NULL"
            )
        ).all()
    assert rows
    for encrypted, index, masked in rows:
        for nik in NIKS:
            assert nik.encode() not in bytes(encrypted)
            assert nik.encode() not in bytes(index)
        assert "*" in masked


async def test_correcting_the_address_tells_nothing_of_a_taken_one(world: World) -> None:
    """The waiting page's correction: the address asked for is kept and shown
    alike whether another account has it; a link goes to it only when it is free,
    and the account's address changes only when that link is used."""
    app = world.app
    shown = {}
    for username, nik, taken in (("citra", NIKS[2], True), ("dewi", NIKS[3], False)):
        account = await app.accounts.register(Context(), reg(username, nik))
        assert account is not None
        ctx = Context(actor=account.actor())
        target = "ANI@example.org" if taken else "dewi.baru@example.org"
        world.recorder.in_transaction.clear()
        await app.accounts.change_pending_email(ctx, target)
        me = await app.accounts.me(ctx)
        assert me.email == f"{username}@example.org"  # the log-in keeps working
        shown[taken] = (me.pending_email, me.requested_email)
        names = [e.name for e in world.recorder.in_transaction]
        if taken:  # its owner hears of it; no link goes anywhere
            assert names == ["DuplicateRegistrationAttempted"]
            assert world.recorder.in_transaction[0].account_id == world.accounts["ani"].id
            assert me.pending_email == "ani@example.org"
            # a resend is the same: a notice to the owner, no link to the old address
            world.recorder.in_transaction.clear()
            await app.accounts.resend_verification(ctx)
            assert [e.name for e in world.recorder.in_transaction] == names
        else:
            assert names == ["VerificationRequested"]
            assert world.recorder.in_transaction[0].email == "dewi.baru@example.org"
            verified = await app.accounts.verify_email(
                Context(), world.recorder.tokens("VerificationRequested")[-1]
            )
            assert verified.verified and verified.email == "dewi.baru@example.org"
            assert verified.pending_email is None
    assert shown[True] == ("ani@example.org", "ani@example.org")
    assert shown[False] == ("dewi.baru@example.org", "dewi.baru@example.org")


async def test_a_pending_address_taken_before_its_link_is_used_is_not_verified(
    world: World,
) -> None:
    app = world.app
    account = await app.accounts.register(Context(), reg())
    assert account is not None
    ctx = Context(actor=account.actor())
    await app.accounts.change_pending_email(ctx, "citra.baru@example.org")
    token = world.recorder.tokens("VerificationRequested")[-1]
    taker = await app.accounts.register(
        Context(), reg("eka", NIKS[3], email="citra.baru@example.org")
    )
    assert taker is not None  # a pending address reserves nothing
    with pytest.raises(Invalid) as exc:
        await app.accounts.verify_email(Context(), token)
    assert field_codes(exc.value) == {"token": "token_invalid"}
    me = await app.accounts.me(ctx)
    assert not me.verified and me.email == "citra@example.org"
    # back to the first address: nothing pending, the link goes there again
    await app.accounts.change_pending_email(ctx, "Citra@example.org")
    me = await app.accounts.me(ctx)
    assert me.pending_email is None and me.requested_email == "citra@example.org"
    assert world.recorder.in_transaction[-1].email == "citra@example.org"
    assert (
        await app.accounts.verify_email(
            Context(), world.recorder.tokens("VerificationRequested")[-1]
        )
    ).verified
