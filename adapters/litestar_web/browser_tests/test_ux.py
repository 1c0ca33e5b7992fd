"""Issue 22 in a real Chromium: the super admin's menu on a phone, the rating stars by
keyboard, the waiting page's countdown, axe-core on the home and help pages at both
widths in both languages, and the evaluator's dashboard at 360 and 1280 px.

Lean on purpose (one server for the module, few pages); the tutorial covers the rest.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import RESEND_SECONDS, Server
from .support import new_nik, unique
from .test_tutorial import EVALUATOR, SUPERADMIN, forward, handle, new_citizen, submit


def test_the_super_admins_menu_is_one_row_on_a_phone_until_opened(make_ui: Any) -> None:
    ui = make_ui("id")
    ui.login(*SUPERADMIN)
    ui.page.set_viewport_size({"width": 360, "height": 740})
    ui.goto("/backoffice")
    nav = ui.page.get_by_role("navigation", name=ui.t("Main menu"))
    toggle = nav.locator("summary.nav-toggle")
    bell = nav.get_by_role("link", name=ui.t("Notifications"))
    expect(toggle).to_be_visible()
    expect(bell).to_be_visible()
    accounts = nav.get_by_role("link", name=ui.t("Accounts"), exact=True)
    expect(nav.get_by_role("link", name=ui.t("Inbox"), exact=True)).to_be_hidden()
    expect(accounts).to_be_hidden()
    # One row: the menu button and the bell side by side, nothing below them.
    nav_box, toggle_box, bell_box = (x.bounding_box() for x in (nav, toggle, bell))
    assert toggle_box["y"] < bell_box["y"] + bell_box["height"]
    assert bell_box["y"] < toggle_box["y"] + toggle_box["height"]
    assert nav_box["height"] < 2 * toggle_box["height"], nav_box
    # (plain screenshots: ui.shot() would widen the window to 1280 px)
    ui.page.screenshot(path=str(ui.folder / "menu-closed-360.png"))

    toggle.click()
    expect(nav.get_by_role("link", name=ui.t("Inbox"), exact=True)).to_be_visible()
    expect(accounts).to_be_hidden()  # inside its own group, still folded
    nav.locator("summary", has_text=ui.t("Administration")).click()
    expect(accounts).to_be_visible()
    assert nav.bounding_box()["height"] > 4 * toggle_box["height"]
    ui.page.screenshot(path=str(ui.folder / "menu-open-360.png"), full_page=True)
    ui.axe("the opened menu at 360 px")
    accounts.click()
    ui.page.wait_for_load_state()
    ui.expect_heading(ui.t("Accounts"))


def test_the_rating_stars_work_with_the_keyboard(make_ui: Any, server: Server) -> None:
    person = new_citizen(server, "id")
    subject = f"Drainase tersumbat {unique('')}"
    message_id = submit(server, person, subject, "Saluran air di Jl. Pramuka tersumbat.")
    forward(server, message_id, ("aduan", "infrastruktur"), "pupr-pera")
    handle(server, message_id, progress="Dijadwalkan.", answer="Saluran sudah dibersihkan.")

    ui = make_ui("id")
    ui.login(person["username"], person["password"])
    ui.goto("/dashboard")
    call = ui.page.get_by_role("region", name=ui.t("Please rate the answers you received"))
    call.get_by_role("link", name=subject, exact=False).click()
    ui.page.wait_for_load_state()
    stars = ui.page.get_by_role("group", name=ui.t("Stars"))
    one = stars.get_by_role("radio", name=ui.ngettext("%(num)s star", "%(num)s stars", 1))
    one.focus()
    ui.page.keyboard.press("Space")
    ui.page.keyboard.press("ArrowRight")
    ui.page.keyboard.press("ArrowRight")
    three = stars.get_by_role("radio", name=ui.ngettext("%(num)s star", "%(num)s stars", 3))
    expect(three).to_be_checked()
    expect(three).to_be_focused()
    # The chosen star and those before it are filled; the ones after are not.
    fills = ui.page.locator("label.star svg").evaluate_all(
        "icons => icons.map(i => getComputedStyle(i).fill)"
    )
    assert fills[:3] == [fills[0]] * 3 and fills[0] != "none" and fills[3:] == ["none"] * 2
    ui.shot("stars-by-keyboard")
    ui.page.keyboard.press("Tab")
    ui.page.keyboard.type("Cepat, terima kasih.")
    ui.page.get_by_role("button", name=ui.t("Send the rating")).click()
    ui.page.wait_for_load_state()
    rating = ui.page.get_by_role("region", name=ui.t("Rating"))
    expect(rating).to_contain_text(ui.t("%(stars)s of 5 stars", stars=3))
    ui.goto("/dashboard")
    expect(ui.page.get_by_role("link", name=subject)).to_have_count(1)  # the latest list only


@pytest.mark.parametrize("lang", ["id", "en"])
def test_home_and_help_pass_axe_at_both_widths(make_ui: Any, lang: str) -> None:
    ui = make_ui(lang)
    for width in (360, 1280):
        ui.page.set_viewport_size({"width": width, "height": 800})
        ui.goto("/")
        expect(ui.page.locator("img.hero-image")).to_be_visible()
        ui.axe(f"home at {width} px")
        ui.page.locator("footer").get_by_role(
            "link", name=ui.t("Help: what happens to my message?")
        ).click()
        ui.page.wait_for_load_state()
        ui.expect_heading(ui.t("Help"))
        # A short page: the footer still ends the window.
        bottom = ui.page.evaluate("document.querySelector('footer').getBoundingClientRect().bottom")
        assert bottom >= 800 - 1, bottom
        ui.axe(f"help at {width} px")
    ui.shot("help")


def _no_sideways_scroll(ui: Any, where: str) -> None:
    widths = ui.page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"{where}: the page scrolls sideways {widths}"


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_evaluator_dashboard_reads_on_a_phone_and_a_desktop(make_ui: Any, lang: str) -> None:
    ui = make_ui(lang)
    ui.login(*EVALUATOR)
    ui.goto("/evaluator")
    ui.expect_heading(ui.t("Evaluation"))
    presets = ui.page.get_by_role("navigation", name=ui.t("Period presets"))
    expect(presets.get_by_role("link", name=ui.t("This year"))).to_have_attribute(
        "aria-current", "true"
    )
    presets.get_by_role("link", name=ui.t("This month")).click()
    ui.page.wait_for_load_state()
    expect(presets.get_by_role("link", name=ui.t("This month"))).to_have_attribute(
        "aria-current", "true"
    )
    # The demo's story spans the last three weeks: this year has every message.
    presets.get_by_role("link", name=ui.t("This year")).click()
    ui.page.wait_for_load_state()
    cards = ui.page.locator("main ul.summary-cards > li")
    expect(cards).to_have_count(6)
    expect(cards.first).to_contain_text(ui.t("Messages received"))
    agencies = ui.page.locator("main table.report.agencies")
    first_row = agencies.locator("tbody tr").first
    # What needs attention first: the first agency has the most overdue messages.
    overdue = agencies.locator("tbody tr").evaluate_all(
        "rows => rows.map(r => Number(r.querySelector('td').innerText.split(/\\s/)[0]))"
    )
    assert overdue == sorted(overdue, reverse=True) and overdue[0] > 0, overdue
    folded = ui.page.locator("main details.folded").first
    expect(folded).to_be_visible()
    data = ui.page.locator("main details.chart-data table")
    expect(data).to_be_hidden()
    chart = ui.page.get_by_role("img", name=ui.t("Submitted and closed messages per period"))
    for width in (360, 1280):
        ui.page.set_viewport_size({"width": width, "height": 800})
        expect(chart).to_be_visible()
        _no_sideways_scroll(ui, f"dashboard at {width} px")
        # The summary comes before the tables.
        assert cards.first.bounding_box()["y"] < agencies.bounding_box()["y"]
        display = first_row.evaluate("r => getComputedStyle(r).display")
        # Phones: every agency a card (a grid of labelled figures); desktops: a table.
        assert display == ("grid" if width == 360 else "table-row"), (width, display)
        box = agencies.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, (width, box)
        ui.axe(f"evaluator dashboard at {width} px")
    ui.page.locator("main details.chart-data > summary").click()
    expect(data).to_be_visible()
    ui.page.set_viewport_size({"width": 360, "height": 800})
    _no_sideways_scroll(ui, "dashboard at 360 px, the chart's data open")
    ui.axe("evaluator dashboard with the chart's data, 360 px")
    ui.page.screenshot(path=str(ui.folder / "dashboard-360.png"), full_page=True)
    ui.page.set_viewport_size({"width": 1280, "height": 800})
    ui.page.screenshot(path=str(ui.folder / "dashboard-1280.png"), full_page=True)


def test_the_waiting_page_counts_down_then_sends_a_new_link(make_ui: Any, server: Server) -> None:
    name = unique("warga.")
    person = {"username": name, "password": "kata-sandi-panjang-" + name[-6:]}
    with server.anonymous() as client:
        r = client.post(
            "/api/v1/auth/register?lang=id",
            json={
                **person,
                "email": f"{name}@example.org",
                "full_name": f"Warga {name[6:]}",
                "nik": new_nik(),
                "password_confirm": person["password"],
            },
        )
        assert r.status_code == 201, r.text
    for lang in ("id", "en"):
        ui = make_ui(lang)
        ui.login(person["username"], person["password"])
        ui.expect_heading(ui.t("Please verify your e-mail address"))
        button = ui.page.locator("form[action='/verify-pending']").get_by_role(
            "button", name=ui.t("Send a new link")
        )
        note = ui.page.locator("#resend-wait")
        if lang == "id":  # the registration's link went out a moment ago
            expect(button).to_be_disabled()
            expect(note).to_contain_text(re.compile(r"Kirim ulang dalam \d+ detik"))
            ui.page.set_viewport_size({"width": 360, "height": 740})
            ui.axe("the paused waiting page at 360 px")
            ui.page.set_viewport_size({"width": 1280, "height": 800})
            ui.axe("the paused waiting page at 1280 px")
        # the script counts down and lets the button go at zero
        expect(button).to_be_enabled(timeout=(RESEND_SECONDS + 10) * 1000)
        expect(note).to_be_hidden()
        button.click()
        ui.page.wait_for_load_state()
        ui.expect_text(ui.t("A new verification link was sent to your e-mail."))
        seconds = re.escape(ui.t("You can ask for a new link in %(seconds)s seconds.", seconds="@"))
        expect(ui.page.locator("#resend-wait")).to_have_text(
            re.compile(seconds.replace("@", r"\d+"))
        )
        expect(
            ui.page.locator("form[action='/verify-pending']").get_by_role(
                "button", name=ui.t("Send a new link")
            )
        ).to_be_disabled()
        for width in (360, 1280):
            ui.page.set_viewport_size({"width": width, "height": 800})
            ui.axe(f"the waiting page after a resend at {width} px ({lang})")
