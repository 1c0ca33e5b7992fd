"""Work that continues (issue 22), in a real Chromium on a 360 px phone screen: an
operator returns a misrouted message to the admin with a reason; the agency and the
citizen exchange follow-ups; a 1-star rating opens an oversight review from which the
admin reopens the message for the agency, with a new deadline."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import UI, Server, open_menu_to
from .support import unique
from .test_tutorial import ADMIN, OPERATOR, catalog, forward, new_citizen, submit

PHONE = {"width": 360, "height": 780}


def phone(make_ui: Any, lang: str, who: str) -> UI:
    ui: UI = make_ui(lang, who)
    ui.page.set_viewport_size(PHONE)
    return ui


def open_message(ui: UI, path: str, subject: str) -> None:
    """Open a message's page on the phone (a screenshot leaves the tab at 1280 px)."""
    ui.page.set_viewport_size(PHONE)
    ui.goto(path)
    ui.expect_heading(subject)
    width = ui.page.evaluate("document.documentElement.scrollWidth")
    inner = ui.page.evaluate("window.innerWidth")
    assert width <= PHONE["width"], f"{path} scrolls sideways at {inner} px ({width} px)"


@pytest.mark.parametrize("lang", ["id", "en"])
def test_return_follow_up_and_reopen_after_a_poor_rating(
    make_ui: Any, server: Server, lang: str
) -> None:
    person = new_citizen(server, lang)
    subject = f"Lampu jalan padam {unique('')}"
    message_id = submit(server, person, subject, "Lampu di Jl. Juanda padam sejak seminggu.")
    forward(server, message_id, ("aduan", "infrastruktur"), "pupr-pera")
    agency = catalog(server)["agencies"]["pupr-pera"]["name"]
    staff_page = f"/backoffice/messages/{message_id}"

    # 1. The operator: not our authority, back to the admin with a reason.
    op = phone(make_ui, lang, "operator")
    op.login(*OPERATOR)
    op.page.set_viewport_size(PHONE)
    open_message(op, staff_page, subject)
    form = op.page.locator("form#return")
    reason = form.get_by_label(op.label("Reason"))
    # Without a reason the browser does not send the form (the server refuses it too).
    form.get_by_role("button", name=op.t("Return to the admin")).click()
    assert reason.evaluate("e => e.validity.valueMissing")
    reason.fill("Bukan kewenangan kami: lampu jalan milik PLN.")
    op.page.locator("form#return").get_by_role("button", name=op.t("Return to the admin")).click()
    op.page.wait_for_load_state()
    op.expect_text(op.t("The message was returned to the admin."))
    op.shot("returned")

    # 2. The admin sees why in the log, and forwards it again.
    admin = phone(make_ui, lang, "admin")
    admin.login(*ADMIN)
    admin.page.set_viewport_size(PHONE)
    open_message(admin, staff_page, subject)
    log = admin.page.locator("ol.log")
    expect(log).to_contain_text(admin.t("Returned to the admin by %(agency)s", agency=agency))
    expect(log).to_contain_text("Bukan kewenangan kami")
    expect(log).to_contain_text(admin.t("Forwarded to %(agency)s", agency=agency))
    admin.shot("returned-log")
    admin.axe("detail of a returned message")
    forward(server, message_id, ("aduan", "infrastruktur"), "pupr-pera")

    # 3. Follow-ups: the agency asks, the citizen answers on their message's page.
    open_message(op, staff_page, subject)
    op.page.locator("#followups").get_by_label(op.label("Your follow-up")).fill(
        "Di depan nomor berapa tepatnya?"
    )
    op.page.get_by_role("button", name=op.t("Send follow-up")).click()
    op.page.wait_for_load_state()
    op.expect_text(op.t("Your follow-up was sent."))
    citizen = phone(make_ui, lang, "citizen")
    citizen.login(person["username"], person["password"])
    citizen.page.set_viewport_size(PHONE)
    open_message(citizen, f"/messages/{message_id}", subject)
    thread = citizen.page.locator("#followups")
    expect(thread).to_contain_text("Di depan nomor berapa tepatnya?")
    expect(thread).to_contain_text(agency)
    thread.get_by_label(citizen.label("Your follow-up")).fill("Di depan nomor 12, dekat masjid.")
    citizen.page.get_by_role("button", name=citizen.t("Send follow-up")).click()
    citizen.page.wait_for_load_state()
    citizen.expect_text(citizen.t("Your follow-up was sent."))
    citizen.shot("follow-ups")
    citizen.axe("message page with follow-ups")

    # The agency handles it and replies.
    with server.api(*OPERATOR) as api:
        assert api.post(f"/api/v1/messages/{message_id}/start", json={}).status_code == 200
        answer = {"answer": "Sudah kami laporkan."}
        assert api.post(f"/api/v1/messages/{message_id}/reply", json=answer).status_code == 200

    # 4. One star: an oversight review opens; the admin reopens the message.
    open_message(citizen, f"/messages/{message_id}", subject)
    citizen.page.locator("label.star").first.click()
    citizen.page.get_by_label(citizen.label("Comment")).fill("Lampu masih padam.")
    citizen.page.get_by_role("button", name=citizen.t("Send the rating")).click()
    citizen.page.wait_for_load_state()
    citizen.expect_text(citizen.t("Thank you for your rating."))

    admin.goto("/backoffice")
    open_menu_to(admin, admin.t("Oversight reviews"))
    admin.page.get_by_role("navigation", name=admin.t("Main menu")).get_by_role(
        "link", name=admin.t("Oversight reviews"), exact=True
    ).click()
    admin.page.wait_for_load_state()
    admin.expect_heading(admin.t("Oversight reviews"))
    admin.shot("reviews")
    admin.axe("oversight reviews")
    admin.page.locator(f'a[href="{staff_page}#review"]').click()
    admin.page.wait_for_load_state()
    review = admin.page.locator("#review")
    review.get_by_label(admin.label("What must the agency do?")).fill(
        "Pastikan lampu benar-benar menyala lagi."
    )
    review.get_by_role("button", name=admin.t("Reopen"), exact=True).click()
    admin.page.wait_for_load_state()
    admin.expect_text(admin.t("The message was reopened for the agency, with a new deadline."))
    details = admin.page.locator("main dl")
    expect(details).to_contain_text(admin.t("Being handled"))
    expect(admin.page.locator("ol.log")).to_contain_text(
        admin.t("Reopened for %(agency)s", agency=agency)
    )
    admin.shot("reopened")

    # The agency sees it back, with a deadline again.
    open_message(op, staff_page, subject)
    expect(op.page.locator("main dl .deadline")).to_be_visible()
    expect(op.page.locator("form#reply")).to_be_visible()

    # 5. Answered again, rated anew: the first rating stays visible, with its comment.
    with server.api(*OPERATOR) as api:
        answer = {"answer": "Lampu sudah diganti."}
        assert api.post(f"/api/v1/messages/{message_id}/reply", json=answer).status_code == 200
    open_message(citizen, f"/messages/{message_id}", subject)
    citizen.page.locator("label.star").nth(4).click()
    citizen.page.get_by_label(citizen.label("Comment")).fill("Sudah menyala.")
    citizen.page.get_by_role("button", name=citizen.t("Send the rating")).click()
    citizen.page.wait_for_load_state()
    citizen.expect_text(citizen.t("Thank you for your rating."))
    earlier = citizen.page.locator("ul.replaced-ratings")
    expect(citizen.page.get_by_role("heading", name=citizen.t("Earlier ratings"))).to_be_visible()
    expect(earlier).to_contain_text(citizen.t("%(stars)s of 5 stars", stars=1))
    expect(earlier).to_contain_text("Lampu masih padam.")
    citizen.axe("message page with an earlier rating")
    op.goto(staff_page)
    expect(op.page.locator("ul.replaced-ratings")).to_contain_text("Lampu masih padam.")
