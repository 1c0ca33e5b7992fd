"""Issue 22, the account links and the waiting page: a used or expired link's
page says so with the way on and no live button (verification, password reset,
staff invitation); the resend button on the waiting page is paused with the
seconds shown; a mistyped address can be corrected there, answering alike
whether or not another account has the new address."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from litestar.testing import TestClient

from aspirasi_core.bootstrap import bootstrap
from aspirasi_core.plugins import create_plugin_manager, migration_locations
from aspirasi_core.security.tokens import TokenPurpose
from aspirasi_core.services.ports import AuditFilter
from aspirasi_core.storage import upgrade
from aspirasi_core.testing.world import FakeClock
from aspirasi_web import hookspecs as web_hookspecs
from aspirasi_web.app import create_app

from .test_pages_public_support import acc, make_token, unverify
from .world import WebWorld, make_settings, populate


@pytest.fixture
def clocked(sqlite_database: Any, tmp_path: Any) -> Iterator[tuple[WebWorld, FakeClock]]:
    """The ``web`` world on a clock the test moves."""
    clock = FakeClock(datetime.now(UTC))
    settings = make_settings(tmp_path, verification_resend_seconds=60)
    pm = create_plugin_manager(settings, extra_hookspecs=[web_hookspecs])
    upgrade(sqlite_database.engine, migration_locations(pm))
    core = bootstrap(settings, plugin_manager=pm, database=sqlite_database, clock=clock)
    world = WebWorld(app=create_app(aspirasi=core, run_outbox=False), core=core)
    populate(world)
    with TestClient(app=world.app, base_url="http://127.0.0.1:8000") as client:
        world.client = client
        yield world, clock


def post(web: WebWorld, url: str, data: dict[str, str]) -> Any:
    return web.client.post(url, data={**data, "_csrf_token": web.csrf()}, follow_redirects=False)


def mails_to(web: WebWorld, address: str) -> list[str]:
    """The texts of the mails queued for ``address`` (rendered by notify_email)."""
    plugin = web.core.plugin_manager.get_plugin("notify_email")
    items = web.core.deps.db.run_sync(lambda uow: uow.outbox.list(status="pending", limit=500))
    texts = []
    for item in items:
        if item.topic == "email":
            mail = plugin.mail_of(item.payload)
            if mail.to == address:
                texts.append(mail.text)
    return texts


def verification_links(web: WebWorld, address: str) -> list[str]:
    return [
        token
        for text in mails_to(web, address)
        for token in re.findall(r"/verify-email\?token=([\w\-]+)", text)
    ]


def no_button(page: Any, action: str) -> bool:
    return (
        f'action="{action}"' not in page.text
        and 'type="submit">' not in page.text.split("<main", 1)[-1].split("</main>", 1)[0]
    )


# --------------------------------------------------------------------------- used links
def test_a_used_verification_link_says_so_without_a_button(web: WebWorld) -> None:
    unverify(web, "budi")
    token = make_token(web, "budi", TokenPurpose.VERIFY_EMAIL)
    live = web.client.get(f"/verify-email?token={token}")
    assert 'action="/verify-email"' in live.text and f'value="{token}"' in live.text
    assert acc(web, "budi").email_verified_at is None  # the GET consumed nothing
    assert post(web, "/verify-email", {"token": token}).status_code == 303
    for lang, words in (
        ("id", ("tidak valid", "Masuk")),
        ("en", ("not valid or has expired", "Log in")),
    ):
        used = web.client.get(f"/verify-email?token={token}&lang={lang}")
        assert used.status_code == 200
        assert words[0] in used.text and 'href="/login"' in used.text and words[1] in used.text
        assert 'action="/verify-email"' not in used.text and token not in used.text
    again = post(web, "/verify-email", {"token": token})
    assert again.status_code == 422 and 'action="/verify-email"' not in again.text
    assert again.text.count("tidak valid") == 1
    # signed in and still unverified: the way on is a new link
    unverify(web, "budi")
    web.login("budi")
    page = web.client.get(f"/verify-email?token={token}")
    assert 'href="/verify-pending"' in page.text and 'action="/verify-email"' not in page.text


def test_an_expired_reset_link_and_a_used_invitation_say_so_without_a_form(
    web: WebWorld,
) -> None:
    token = make_token(web, "ani", TokenPurpose.RESET_PASSWORD, hours=-1)  # expired
    page = web.client.get(f"/reset-password?token={token}")
    assert "tidak valid" in page.text and 'action="/reset-password"' not in page.text
    assert 'href="/forgot-password"' in page.text and 'name="password"' not in page.text
    fresh = make_token(web, "ani", TokenPurpose.RESET_PASSWORD)
    assert 'action="/reset-password"' in web.client.get(f"/reset-password?token={fresh}").text
    invitation = make_token(web, "op_pupr", TokenPurpose.INVITATION, hours=-1)
    page = web.client.get(f"/invitation?token={invitation}&lang=en")
    assert "This link is not valid or has expired." in page.text
    assert 'action="/invitation"' not in page.text and 'href="/login"' in page.text
    assert "Ask the super admin to send the invitation again." in page.text


# --------------------------------------------------------------------------- the pause
def test_resending_early_shows_the_seconds_left_and_the_button_waits(
    clocked: tuple[WebWorld, FakeClock],
) -> None:
    web, clock = clocked
    unverify(web, "budi")
    web.login("budi")
    clock.advance(seconds=61)  # the link of the registration is a minute old
    sent = len(verification_links(web, "budi@example.org"))  # the registration's
    first = web.client.get("/verify-pending")
    assert "Kirim ulang dalam" not in first.text and " disabled" not in first.text
    assert post(web, "/verify-pending", {}).status_code == 303
    page = web.client.get("/verify-pending")
    assert "Link verifikasi baru telah dikirim" in page.text
    assert "Kirim ulang dalam 60 detik" in page.text and 'data-countdown="60"' in page.text
    assert re.search(r'<button type="submit" disabled[^>]*>Kirim link baru', page.text)
    clock.advance(seconds=18)
    early = post(web, "/verify-pending", {})
    assert early.status_code == 429 and early.headers["retry-after"] == "42"
    assert "Kirim ulang dalam 42 detik" in early.text
    web.client.cookies.set("lang", "en")
    english = web.client.get("/verify-pending")
    assert "You can ask for a new link in 42 seconds." in english.text
    web.client.cookies.delete("lang")
    clock.advance(seconds=42)
    later = web.client.get("/verify-pending")
    assert "Kirim ulang dalam" not in later.text and "data-countdown" not in later.text
    assert post(web, "/verify-pending", {}).status_code == 303
    assert len(verification_links(web, "budi@example.org")) == sent + 2


# --------------------------------------------------------------------------- the address
def test_a_mistyped_address_is_corrected_on_the_waiting_page(
    clocked: tuple[WebWorld, FakeClock],
) -> None:
    web, clock = clocked
    unverify(web, "budi")
    web.login("budi")
    clock.advance(seconds=61)  # the link of the registration is a minute old
    assert post(web, "/verify-pending", {}).status_code == 303
    old = verification_links(web, "budi@example.org")[-1]
    clock.advance(seconds=61)
    bad = post(web, "/verify-pending/email?lang=en", {"email": "budi@@example"})
    assert bad.status_code == 422 and "Enter a valid e-mail address." in bad.text
    assert 'value="budi@@example"' in bad.text
    r = post(web, "/verify-pending/email", {"email": " Budi.Baru@Example.org "})
    assert r.status_code == 303 and r.headers["location"] == "/verify-pending"
    page = web.client.get("/verify-pending")
    assert "budi.baru@example.org" in page.text and "Link yang dikirim sebelumnya" in page.text
    # the account keeps its address (and its log-in) until the new one is proven
    assert acc(web, "budi").email == "budi@example.org"
    assert acc(web, "budi").pending_email == "budi.baru@example.org"
    [new] = verification_links(web, "budi.baru@example.org")
    # the old link stops working; the new one verifies, and the address is the account's
    assert 'action="/verify-email"' not in web.client.get(f"/verify-email?token={old}").text
    assert post(web, "/verify-email", {"token": old}).status_code == 422
    assert post(web, "/verify-email", {"token": new}).status_code == 303
    budi = acc(web, "budi")
    assert budi.email_verified_at is not None
    assert (budi.email, budi.pending_email) == ("budi.baru@example.org", None)
    entries = web.core.deps.db.run_sync(
        lambda uow: uow.audit.list(
            AuditFilter(action="account.email_change"), before_id=None, limit=50
        ),
        write=False,
    )
    assert [e.subject_account_id for e in entries] == [web.ids["budi"]]


def test_another_accounts_address_is_answered_as_a_success(
    clocked: tuple[WebWorld, FakeClock],
) -> None:
    web, clock = clocked
    unverify(web, "budi")
    web.login("budi")
    clock.advance(seconds=61)  # the link of the registration is a minute old
    assert post(web, "/verify-pending", {}).status_code == 303
    old = verification_links(web, "budi@example.org")[-1]
    clock.advance(seconds=61)
    free = post(web, "/verify-pending/email", {"email": "budi.dua@example.org"})
    free_page = web.client.get("/verify-pending")
    clock.advance(seconds=61)
    before = len(mails_to(web, "ani@example.org"))
    links = verification_links(web, "ani@example.org")  # her registration's
    taken = post(web, "/verify-pending/email", {"email": "ani@example.org"})
    assert taken.status_code == free.status_code == 303
    assert taken.headers["location"] == free.headers["location"]
    flash = "Link yang dikirim sebelumnya"
    taken_page = web.client.get("/verify-pending")
    assert flash in taken_page.text and flash in free_page.text
    # paused alike, and the older links died alike
    assert "Kirim ulang dalam 60 detik" in taken_page.text
    assert "Kirim ulang dalam 60 detik" in free_page.text
    assert acc(web, "ani").email == "ani@example.org"
    assert post(web, "/verify-email", {"token": old}).status_code == 422
    # the owner of the address hears of it; no link to their account goes anywhere
    assert len(mails_to(web, "ani@example.org")) == before + 1
    assert verification_links(web, "ani@example.org") == links


def test_changing_the_address_is_paused_like_a_resend(
    clocked: tuple[WebWorld, FakeClock],
) -> None:
    web, clock = clocked
    unverify(web, "budi")
    web.login("budi")
    clock.advance(seconds=61)  # the link of the registration is a minute old
    assert post(web, "/verify-pending", {}).status_code == 303
    clock.advance(seconds=30)
    early = post(web, "/verify-pending/email", {"email": "budi.baru@example.org"})
    assert early.status_code == 429 and "Kirim ulang dalam 30 detik" in early.text
    assert 'value="budi.baru@example.org"' in early.text
    assert acc(web, "budi").email == "budi@example.org"
    web.client.cookies.clear()
    r = web.client.post("/verify-pending/email", data={"email": "x@example.org"})
    assert r.status_code == 403  # no CSRF token, no session


def _waiting_state(web: WebWorld) -> tuple[str, dict[str, Any]]:
    """The waiting page (its CSRF tokens blanked: they change per request) and
    the API's account, as a stranger sees them after correcting the address."""
    page = web.client.get("/verify-pending")
    assert page.status_code == 200
    html = re.sub(r'name="_csrf_token" value="[^"]*"', 'name="_csrf_token" value=""', page.text)
    html = re.sub(r'content="[\w\-.]{20,}"', 'content=""', html)  # a meta CSRF token
    me = web.client.get("/api/v1/me")
    assert me.status_code == 200
    return html, me.json()


def test_the_waiting_page_and_the_api_tell_nothing_of_a_taken_address(
    clocked: tuple[WebWorld, FakeClock],
) -> None:
    """The address asked for is shown (and where the links go, said) alike
    whether another account has it or not: nothing tells a stranger it is taken."""
    web, clock = clocked
    unverify(web, "budi")
    web.login("budi")
    db = web.core.deps.db
    states = []
    for taken in (True, False):
        if not taken:  # the same address, free now; the account as it was before
            db.run_sync(lambda uow: uow.accounts.update(web.ids["ani"], email="ani2@example.org"))
            db.run_sync(lambda uow: uow.accounts.update(web.ids["budi"], pending_email=None))
        clock.advance(seconds=61)
        links = len(verification_links(web, "ani@example.org"))  # her registration's
        r = post(web, "/verify-pending/email", {"email": "ani@example.org"})
        assert r.status_code == 303 and r.headers["location"] == "/verify-pending"
        states.append(_waiting_state(web))
        # a link to the address only when it is free
        assert len(verification_links(web, "ani@example.org")) == links + (not taken)
    (taken_html, taken_me), (free_html, free_me) = states
    assert "ani@example.org" in taken_html
    assert taken_html == free_html
    assert taken_me == free_me
    assert taken_me["email"] == "budi@example.org"  # until a link is used
    assert taken_me["pending_email"] == "ani@example.org"
    assert taken_me["email_verified"] is False
    # a resend goes to the address asked for, not the old one
    clock.advance(seconds=61)
    links = len(verification_links(web, "ani@example.org"))
    old = len(mails_to(web, "budi@example.org"))
    assert post(web, "/verify-pending", {}).status_code == 303
    assert len(verification_links(web, "ani@example.org")) == links + 1
    assert len(mails_to(web, "budi@example.org")) == old


def test_a_resend_to_a_taken_address_sends_no_link_to_the_old_one(
    clocked: tuple[WebWorld, FakeClock],
) -> None:
    """Who typed their own old address cannot learn from a resend (a link arriving
    there) that the address they asked for is taken."""
    web, clock = clocked
    unverify(web, "budi")
    web.login("budi")
    clock.advance(seconds=61)
    assert post(web, "/verify-pending/email", {"email": "ani@example.org"}).status_code == 303
    clock.advance(seconds=61)
    before_old = len(mails_to(web, "budi@example.org"))
    before_owner = len(mails_to(web, "ani@example.org"))
    links = verification_links(web, "ani@example.org")
    assert post(web, "/verify-pending", {}).status_code == 303
    assert len(mails_to(web, "budi@example.org")) == before_old
    # the owner is told again (as for a registration), and no link goes anywhere
    assert len(mails_to(web, "ani@example.org")) == before_owner + 1
    assert verification_links(web, "ani@example.org") == links
    assert "ani@example.org" in web.client.get("/verify-pending").text


def test_an_api_client_corrects_the_address_with_nothing_but_its_token(
    clocked: tuple[WebWorld, FakeClock],
) -> None:
    """POST /api/v1/auth/verification-email: the API twin of the waiting page's
    form, answered alike for a free and a taken address, checked like a
    registration's address, and refused once the account is verified."""
    web, clock = clocked
    unverify(web, "budi")
    bearer = {"Authorization": f"Bearer {web.token('budi')}"}
    url = "/api/v1/auth/verification-email"
    answers = []
    for address in ("budi.baru@example.org", "ani@example.org"):
        clock.advance(seconds=61)
        links = len(verification_links(web, address))
        r = web.client.post(url, json={"email": address}, headers=bearer)
        answers.append((r.status_code, r.json()))
        me = web.client.get("/api/v1/me", headers=bearer).json()
        assert me["pending_email"] == address and me["email"] == "budi@example.org"
        assert len(verification_links(web, address)) == links + (address != "ani@example.org")
    assert answers[0] == answers[1] == (202, {"status": "verification_sent"})
    clock.advance(seconds=61)
    bad = web.client.post(url, json={"email": "bukan-alamat"}, headers=bearer)
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    verified = {"Authorization": f"Bearer {web.token('ani')}"}
    assert (
        web.client.post(url, json={"email": "x@example.org"}, headers=verified).status_code == 409
    )
    web.client.cookies.clear()  # no session, no token: who asks?
    assert web.client.post(url, json={"email": "x@example.org"}).status_code == 401
