"""Issue 23 (2) in a real Chromium: a citizen gives where it happened — regency,
a district of it, and the phone's location — at 360 and 1280 px, with axe-core;
no map tile or other site is fetched; the staff read the coordinates, the sender
and the public no more than the district."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from .test_tutorial import ADMIN, WARGA

FORM = "/my/messages/new"
#: Where the phone says it is: Jl. Juanda, Samarinda.
HERE = {"latitude": -0.494823, "longitude": 117.143612}


@pytest.mark.parametrize("width", [360, 1280])
def test_a_citizen_locates_a_message_with_the_phones_position(make_ui: Any, width: int) -> None:
    ui = make_ui("id")
    context = ui.page.context
    context.grant_permissions(["geolocation"], origin=ui.server.base_url)
    context.set_geolocation(HERE)
    ui.login(*WARGA[:2])
    ui.page.set_viewport_size({"width": width, "height": 800})
    ui.goto(FORM)
    form = ui.page.locator("main form")
    subject = f"Drainase tersumbat ({width} px)"
    form.get_by_label(ui.label("Subject")).fill(subject)
    form.get_by_label(ui.label("Message")).fill("Air meluap ke jalan setiap hujan.")
    district = form.get_by_label(ui.t("District (kecamatan)"))
    form.get_by_label(ui.t("Regency or city")).select_option(label="Kota Samarinda")
    # The districts narrow to the regency chosen.
    groups = district.evaluate(
        "el => [...el.querySelectorAll('optgroup')].filter(g => !g.disabled).map(g => g.label)"
    )
    assert groups == ["Kota Samarinda"]
    district.select_option(label="Samarinda Ulu")
    form.get_by_role("button", name=ui.t("Use my location")).click()
    expect(form.get_by_label(ui.label("Latitude"))).to_have_value("-0.494823")
    expect(form.get_by_label(ui.label("Longitude"))).to_have_value("117.143612")
    ui.expect_text(ui.t("Your location was filled in. Check it, or clear it."))
    widths = ui.page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"{width} px: the form scrolls sideways {widths}"
    ui.axe(f"message form with a location at {width} px")
    ui.page.screenshot(path=str(ui.folder / f"location-form-{width}.png"), full_page=True)

    form.get_by_role("button", name=ui.t("Send"), exact=True).click()
    ui.expect_text(ui.t("Your message was sent."))
    ui.expect_heading(subject)
    place = ui.page.locator("main dd.location")
    expect(place).to_have_text("Samarinda Ulu, Kota Samarinda")
    expect(ui.page.locator("main")).not_to_contain_text("117.143612")
    ui.axe(f"located message at {width} px")
    message_url = ui.page.url

    staff = make_ui("id", "admin")
    staff.login(*ADMIN)
    staff.page.set_viewport_size({"width": width, "height": 800})
    staff.goto("/backoffice/messages/" + message_url.rstrip("/").rsplit("/", 1)[1])
    coordinates = staff.page.locator("main dd.location")
    expect(coordinates).to_contain_text("Samarinda Ulu, Kota Samarinda")
    expect(coordinates).to_contain_text("-0.494823, 117.143612")
    staff.axe(f"staff detail with a location at {width} px")
