"""Issue 22 in a real Chromium: the super admin invites a staff member from the
designed accounts screens, and the invitee sets their own password from the mailed
link; axe-core finds nothing serious at 360 and 1280 px."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from .conftest import Server
from .support import unique
from .test_tutorial import SUPERADMIN


def _at_both_widths(ui: Any, label: str) -> None:
    """axe-core at 360 and 1280 px; the name boxes use the form's width."""
    for width in (360, 1280):
        ui.page.set_viewport_size({"width": width, "height": 800})
        ui.axe(f"{label} at {width} px")
        scroll = ui.page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, f"{label}: horizontal scroll at {width} px ({scroll})"
    ui.page.set_viewport_size({"width": 1280, "height": 800})


def test_a_staff_invitation_from_the_accounts_screen_to_the_first_log_in(
    make_ui: Any, server: Server
) -> None:
    address = f"{unique('petugas')}@example.org"
    admin = make_ui("id", "superadmin")
    admin.login(*SUPERADMIN)
    admin.goto("/admin/users")
    admin.expect_heading(admin.t("Accounts"))
    # the sub-menu has no bullets to overlap its links
    styles = admin.page.locator("nav.subnav li").evaluate_all(
        "items => items.map(i => getComputedStyle(i).listStyleType)"
    )
    assert styles and set(styles) == {"none"}, styles
    # compact: no deactivation button on the list, a search box that works without JS
    expect(admin.page.locator("main button.danger")).to_have_count(0)
    admin.page.get_by_label(admin.t("Name, username or e-mail")).fill("superadmin")
    admin.page.locator("main form.search button[type=submit]").click()
    admin.page.wait_for_load_state()
    assert "q=superadmin" in admin.page.url
    _at_both_widths(admin, "the accounts list")
    admin.shot("accounts")

    admin.page.get_by_role("link", name=admin.t("New staff account")).click()
    admin.page.wait_for_load_state()
    admin.page.get_by_label(admin.label("E-mail")).fill(address)
    admin.page.get_by_label(admin.label("Full name")).fill("Rahmawati Nur Hasanah Binti Abdullah")
    admin.page.get_by_label(admin.label("Level")).select_option(value="operator")
    admin.page.get_by_label(admin.label("Agency (operators)")).select_option(index=1)
    name_box = admin.page.get_by_label(admin.label("Full name"))
    _at_both_widths(admin, "the new staff account form")
    for width in (360, 1280):
        admin.page.set_viewport_size({"width": width, "height": 800})
        box = name_box.bounding_box()
        assert box is not None and box["width"] >= min(width - 80, 400), (width, box)
    admin.page.set_viewport_size({"width": 1280, "height": 800})
    admin.page.get_by_role("button", name=admin.t("Create account and send invitation")).click()
    admin.page.wait_for_load_state()
    admin.expect_text(
        admin.t("Account created; an invitation was sent to %(email)s.", email=address)
    )
    admin.expect_text(admin.t("Invitation pending"))
    _at_both_widths(admin, "the new account's page")
    admin.shot("invited")
    # deactivation asks first
    admin.page.get_by_role("link", name=admin.t("Deactivate…")).click()
    admin.page.wait_for_load_state()
    expect(admin.page.get_by_role("button", name=admin.t("Yes, deactivate"))).to_be_visible()
    _at_both_widths(admin, "the deactivation's confirmation")
    admin.page.get_by_role("link", name=admin.t("Cancel")).click()
    admin.page.wait_for_load_state()

    [invitation] = server.mail.wait_for(address)
    link = server.mail.link(invitation, "/invitation")
    person = make_ui("id", "invitee")
    person.page.goto(link)
    person.expect_heading(person.t("Choose your password"))
    _at_both_widths(person, "the invitation page")
    person.shot("invitation")
    person.page.get_by_label(person.label("New password")).fill("rahma-own-secret-2026")
    person.page.get_by_label(person.label("Confirm the password")).fill("rahma-own-secret-2026")
    person.page.get_by_role("button", name=person.t("Save my password")).click()
    person.page.wait_for_load_state()
    person.expect_text(person.t("Your password is set. You can log in now."))
    person.login(address, "rahma-own-secret-2026")
    assert person.page.url.endswith("/backoffice"), person.page.url
    # the link was single-use: a used link says so, with a way on and no form
    person.page.goto(link)
    person.expect_text(person.t("This link is not valid or has expired."))
    expect(person.page.get_by_label(person.label("New password"))).to_have_count(0)
    expect(person.page.get_by_role("button", name=person.t("Save my password"))).to_have_count(0)
