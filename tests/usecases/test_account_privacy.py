"""Issue 18, the account parts: a NIK and a username belong to whoever proves the
e-mail first, registration answers the same whatever is known, unverified
accounts are swept, verification mail is capped, logout ends the whole log-in,
and a super admin can release a NIK."""

from __future__ import annotations

from datetime import timedelta

import pytest

from aspirasi_core.domain.errors import Invalid, NotAllowed, NotFound, Throttled
from aspirasi_core.domain.events import (
    DuplicateRegistrationAttempted,
    NikReleased,
    RegistrationNikTaken,
    VerificationRequested,
)
from aspirasi_core.domain.model import Account
from aspirasi_core.security.tokens import TokenPurpose
from aspirasi_core.services import AuditQuery, Context
from aspirasi_core.services.accounts import RegisterInput

from .world import NIKS, World

pytestmark = pytest.mark.anyio


def reg(username: str, nik: str = NIKS[2], email: str | None = None) -> RegisterInput:
    return RegisterInput(
        email=email or f"{username}@example.org",
        username=username,
        full_name=f"Name of {username}",
        nik=nik,
        password="a-long-enough-secret",
        password_confirm="a-long-enough-secret",
    )


def codes(exc: Invalid) -> dict[str, str]:
    return {e.field: e.code for e in exc.errors}


def last_token(world: World) -> str:
    return world.recorder.tokens("VerificationRequested")[-1]


# --------------------------------------------------------------------------- NIK squatting


async def test_an_unverified_registration_reserves_neither_nik_nor_username(world: World) -> None:
    app = world.app
    squatter = await app.accounts.register(Context(), reg("citra", NIKS[2], "squat@example.org"))
    assert squatter is not None
    squatter_token = last_token(world)
    # The real owner registers with the same NIK and username: not refused.
    owner = await app.accounts.register(Context(), reg("citra", NIKS[2], "citra@example.org"))
    assert owner is not None and owner.id != squatter.id
    owner_token = last_token(world)
    # Whoever proves the e-mail first wins; registering first does not.
    verified = await app.accounts.verify_email(Context(), owner_token)
    assert verified.verified and verified.nik_masked == "6472********0003"
    with pytest.raises(Invalid) as lost:
        await app.accounts.verify_email(Context(), squatter_token)
    assert codes(lost.value) == {"nik": "nik_taken", "username": "username_taken"}
    nik_error = next(e for e in lost.value.errors if e.field == "nik")
    assert "administrator" in nik_error.render()
    # The failed verification consumed nothing: still unverified, link still good.
    still = await app.deps.db.transaction(lambda uow: uow.accounts.get(squatter.id), write=False)
    assert still is not None and not still.verified


async def test_the_loser_of_a_username_picks_another_one_with_the_same_link(world: World) -> None:
    app = world.app
    first = await app.accounts.register(Context(), reg("dewi", NIKS[2], "dewi1@example.org"))
    first_token = last_token(world)
    second = await app.accounts.register(Context(), reg("dewi", NIKS[3], "dewi2@example.org"))
    second_token = last_token(world)
    assert first is not None and second is not None
    await app.accounts.verify_email(Context(), second_token)
    with pytest.raises(Invalid) as lost:
        await app.accounts.verify_email(Context(), first_token)
    assert codes(lost.value) == {"username": "username_taken"}
    with pytest.raises(Invalid) as bad:
        await app.accounts.verify_email(Context(), first_token, username="!!!")
    assert codes(bad.value) == {"username": "username_format"}
    done = await app.accounts.verify_email(Context(), first_token, username="Dewi_Lestari")
    assert done.verified and done.username == "dewi_lestari"
    login = await app.accounts.login(Context(), "dewi_lestari", "a-long-enough-secret")
    assert login.account.id == first.id


async def test_a_username_held_by_a_verified_account_is_refused_at_once(world: World) -> None:
    with pytest.raises(Invalid) as exc:
        await world.app.accounts.register(Context(), reg("budi", NIKS[2]))
    assert codes(exc.value) == {"username": "username_taken"}


async def test_registration_answers_alike_for_a_known_email_and_a_verified_nik(
    world: World,
) -> None:
    app = world.app
    accounts_before = world.count("accounts")
    # A NIK verified by someone else: no error, no account, a mail to the address typed.
    result = await app.accounts.register(Context(), reg("eka", NIKS[0], "eka@example.org"))
    assert result is None
    assert world.count("accounts") == accounts_before
    (event,) = world.recorder.in_transaction
    assert isinstance(event, RegistrationNikTaken)
    assert event.email == "eka@example.org"
    world.recorder.in_transaction.clear()
    # A known e-mail: the same answer; the owner is told.
    result = await app.accounts.register(Context(), reg("eka2", NIKS[3], "ANI@example.org"))
    assert result is None
    (event,) = world.recorder.in_transaction
    assert isinstance(event, DuplicateRegistrationAttempted)
    assert event.account_id == world.accounts["ani"].id and event.verified


async def test_a_pending_account_tells_the_address_that_it_waits(world: World) -> None:
    app = world.app
    pending = await app.accounts.register(Context(), reg("fajar", NIKS[2]))
    assert pending is not None
    world.recorder.in_transaction.clear()
    assert (
        await app.accounts.register(Context(), reg("fajar2", NIKS[3], "fajar@example.org")) is None
    )
    (event,) = world.recorder.in_transaction
    assert isinstance(event, DuplicateRegistrationAttempted) and not event.verified


async def test_a_reset_link_verifies_only_when_nik_and_username_are_free(world: World) -> None:
    app = world.app
    squatter = await app.accounts.register(Context(), reg("gita", NIKS[2], "squat@example.org"))
    assert squatter is not None
    await app.accounts.register(Context(), reg("gita", NIKS[2], "gita@example.org"))
    await app.accounts.verify_email(Context(), last_token(world))
    await app.accounts.forgot_password(Context(), "squat@example.org")
    reset = world.recorder.tokens("PasswordResetRequested")[-1]
    account = await app.accounts.reset_password(
        Context(), reset, "another-long-secret", "another-long-secret"
    )
    assert account.id == squatter.id and not account.verified


# --------------------------------------------------------------------------- the sweep


async def test_unverified_accounts_are_removed_after_seven_days(world: World) -> None:
    app = world.app
    old = await app.accounts.register(Context(), reg("hana", NIKS[2]))
    await app.data_rights.delete_account(world.ctx("budi"), "budi-long-password")
    world.clock.advance(days=6)
    young = await app.accounts.register(Context(), reg("indra", NIKS[3]))
    await app.accounts.login(Context(), "hana@example.org", "a-long-enough-secret")
    assert old is not None and young is not None
    world.clock.advance(days=1, seconds=1)
    assert await app.accounts.sweep_unverified() >= 1

    async def get(account_id: int) -> Account | None:
        return await app.deps.db.transaction(lambda uow: uow.accounts.get(account_id), write=False)

    assert await get(old.id) is None
    assert await get(young.id) is not None
    # Verified citizens and staff of any age stay; so does a deleted account's row.
    for name in ("ani", "admin", "root", "budi"):
        assert await get(world.accounts[name].id) is not None
    # The swept NIK and username are free again.
    assert await app.accounts.register(Context(), reg("hana", NIKS[2], "new@example.org"))


# --------------------------------------------------------------------------- mail caps


def verification_mails(world: World) -> int:
    return sum(isinstance(e, VerificationRequested) for e in world.recorder.in_transaction)


async def test_verification_mail_is_capped_per_address_per_day(world: World) -> None:
    app = world.app
    cap = app.deps.settings.verification_mails_per_day
    assert cap == 5
    account = await app.accounts.register(Context(), reg("joko", NIKS[2]))
    assert account is not None
    ctx = Context(actor=account.actor())
    for _ in range(cap - 1):
        await app.accounts.resend_verification(ctx)
    assert verification_mails(world) == cap
    with pytest.raises(Throttled) as refused:
        await app.accounts.resend_verification(ctx)
    assert refused.value.code == "verification_mail_cap"
    assert verification_mails(world) == cap
    # Registering again with the address is answered as usual, but mails nothing more.
    world.recorder.in_transaction.clear()
    assert await app.accounts.register(Context(), reg("joko2", NIKS[3], "JOKO@example.org")) is None
    assert world.recorder.in_transaction == []
    # The next day (in the province's time zone) the budget is back.
    world.clock.advance(seconds=refused.value.retry_after)
    await app.accounts.resend_verification(ctx)
    assert verification_mails(world) == 1


async def test_mails_about_a_verified_nik_are_capped_too(world: World) -> None:
    app = world.app
    for n in range(7):
        assert (
            await app.accounts.register(Context(), reg(f"kiki{n}", NIKS[0], "kiki@ex.org")) is None
        )
    sent = [e for e in world.recorder.in_transaction if isinstance(e, RegistrationNikTaken)]
    assert len(sent) == 5


# --------------------------------------------------------------------------- logout


async def test_logout_of_the_bearer_token_ends_the_session_of_the_same_log_in(
    world: World,
) -> None:
    app = world.app
    other = await app.accounts.login(Context(), "ani", "ani-long-password")
    login = await app.accounts.login(
        Context(), "ani", "ani-long-password", purpose=TokenPurpose.API, with_session=True
    )
    assert login.session is not None
    await app.accounts.logout(login.token, TokenPurpose.API)
    assert await app.accounts.authenticate(login.token, TokenPurpose.API) is None
    assert await app.accounts.authenticate(login.session.token, TokenPurpose.SESSION) is None
    # Another log-in of the same account is left alone.
    assert await app.accounts.authenticate(other.token, TokenPurpose.SESSION) is not None


async def test_logout_of_the_session_ends_the_bearer_token_of_the_same_log_in(
    world: World,
) -> None:
    app = world.app
    login = await app.accounts.login(
        Context(), "ani", "ani-long-password", purpose=TokenPurpose.API, with_session=True
    )
    assert login.session is not None
    await app.accounts.logout(login.session.token, TokenPurpose.SESSION)
    assert await app.accounts.authenticate(login.token, TokenPurpose.API) is None


# --------------------------------------------------------------------------- NIK release


async def test_a_super_admin_releases_a_nik_with_a_reason(world: World) -> None:
    app = world.app
    root = world.ctx("root")
    ani = world.accounts["ani"]
    for who in ("admin", "op_pupr", "ani"):
        with pytest.raises(NotAllowed):
            await app.nik_claims.holder(world.ctx(who), NIKS[0])
        with pytest.raises(NotAllowed):
            await app.nik_claims.release(world.ctx(who), NIKS[0], "Checked the KTP.")
    holder = await app.nik_claims.holder(root, NIKS[0])
    assert holder.id == ani.id and holder.nik_masked == "6472********0001"
    with pytest.raises(Invalid) as no_reason:
        await app.nik_claims.release(root, NIKS[0], "   ")
    assert codes(no_reason.value) == {"reason": "required"}
    with pytest.raises(Invalid):
        await app.nik_claims.holder(root, "1234")
    with pytest.raises(NotFound):
        await app.nik_claims.holder(root, NIKS[3])
    world.recorder.in_transaction.clear()
    released = await app.nik_claims.release(root, NIKS[0], "Checked the KTP in person.")
    assert released.id == ani.id and released.nik_masked is None
    (event,) = world.recorder.in_transaction
    assert isinstance(event, NikReleased)
    assert (event.account_id, event.released_by) == (ani.id, world.accounts["root"].id)
    assert event.reason == "Checked the KTP in person."
    # Both steps are in the audit log: the look-up as a read, the release with its reason.
    log = (await app.audit.list(root, AuditQuery(subject_account_id=ani.id))).items
    assert [(e.action, e.actor_id, e.reason) for e in log[:2]] == [
        ("account.nik_release", world.accounts["root"].id, "Checked the KTP in person."),
        ("account.read", world.accounts["root"].id, ""),
    ]
    assert log[1].details == {"via": "nik_holder"}
    assert all(NIKS[0] not in repr(e) for e in log)
    assert await app.accounts.nik_of(world.ctx("ani")) is None
    with pytest.raises(NotFound):
        await app.nik_claims.holder(root, NIKS[0])
    # The real owner can now register with it and verify.
    owner = await app.accounts.register(Context(), reg("ownerani", NIKS[0]))
    assert owner is not None
    assert (await app.accounts.verify_email(Context(), last_token(world))).verified


async def test_a_release_lets_a_waiting_registration_verify(world: World) -> None:
    app = world.app
    # Registered while the NIK was... unverified elsewhere? No: here the owner
    # registered with a NIK a squatter had verified first, then wrote to the admin.
    squatter = await app.accounts.register(Context(), reg("mira", NIKS[2], "squat@example.org"))
    squatter_token = last_token(world)
    owner = await app.accounts.register(Context(), reg("mira_asli", NIKS[2], "mira@example.org"))
    owner_token = last_token(world)
    assert squatter is not None and owner is not None
    await app.accounts.verify_email(Context(), squatter_token)
    with pytest.raises(Invalid):
        await app.accounts.verify_email(Context(), owner_token)
    await app.nik_claims.release(world.ctx("root"), NIKS[2], "KTP shown at the office.")
    assert (await app.accounts.verify_email(Context(), owner_token)).verified
    assert world.clock.now() - owner.created_at < timedelta(days=1)


async def test_a_verification_racing_another_for_the_same_nik_fails_clearly(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two accounts with one NIK verified at once: the unique index lets one win,
    and the other gets the same clear error as if it had come second."""
    app = world.app
    first = await app.accounts.register(Context(), reg("nina", NIKS[2], "nina1@example.org"))
    first_token = last_token(world)
    await app.accounts.register(Context(), reg("nina2", NIKS[2], "nina2@example.org"))
    await app.accounts.verify_email(Context(), last_token(world))
    service = type(app.accounts)
    real = service._reserved_elsewhere
    calls = {"n": 0}

    def stale_first(self, uow, account, username):  # the check ran before the winner's commit
        calls["n"] += 1
        return set() if calls["n"] == 1 else real(self, uow, account, username)

    monkeypatch.setattr(service, "_reserved_elsewhere", stale_first)
    with pytest.raises(Invalid) as lost:
        await app.accounts.verify_email(Context(), first_token)
    assert codes(lost.value) == {"nik": "nik_taken"} and calls["n"] == 2
    assert first is not None
    still = await app.deps.db.transaction(lambda uow: uow.accounts.get(first.id), write=False)
    assert still is not None and not still.verified


async def test_every_registration_path_does_the_same_argon2_work(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answer's timing must not tell a known e-mail or NIK from a new one."""
    hasher = world.app.deps.hasher
    real = hasher.hash_async
    hashed: list[int] = []

    async def counting(password: str) -> str:
        hashed.append(1)
        return await real(password)

    monkeypatch.setattr(hasher, "hash_async", counting)
    cases = [
        reg("omar", NIKS[2]),  # new
        reg("omar2", NIKS[3], "ANI@example.org"),  # known e-mail
        reg("omar3", NIKS[0], "omar3@example.org"),  # a verified NIK
    ]
    for n, case in enumerate(cases, start=1):
        await world.app.accounts.register(Context(), case)
        assert len(hashed) == n
