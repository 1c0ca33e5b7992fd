"""Issue 23 (3) in a real Chromium: the public transparency page at 360 and 1280 px,
in both languages, with axe-core, no sideways scrolling, and its open data."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import Server
from .test_tutorial import EVALUATOR


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_transparency_page_reads_on_a_phone_and_a_desktop(
    make_ui: Any, server: Server, lang: str
) -> None:
    ui = make_ui(lang)
    ui.goto("/")
    nav = ui.page.get_by_role("navigation", name=ui.t("Main menu"))
    nav.get_by_role("link", name=ui.t("Transparency"), exact=True).click()
    ui.page.wait_for_load_state()
    ui.expect_heading(ui.t("Transparency"))
    ranking = ui.page.locator("main ol.ranking > li")
    expect(ranking.first).to_be_visible()
    chart = ui.page.get_by_role("img", name=ui.t("Submitted and closed messages per period"))
    for width in (360, 1280):
        ui.page.set_viewport_size({"width": width, "height": 800})
        expect(chart).to_be_visible()
        widths = ui.page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert widths[0] <= widths[1], f"{width} px: the page scrolls sideways {widths}"
        box = ranking.first.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, (width, box)
        ui.axe(f"transparency at {width} px")
        ui.page.screenshot(path=str(ui.folder / f"transparency-{width}.png"), full_page=True)

    # The open data: the same figures the evaluator's report has.
    with ui.page.expect_download() as info:
        ui.page.get_by_role("link", name=ui.t("Download JSON")).click()
    data = json.loads(Path(info.value.path()).read_text(encoding="utf-8"))
    assert data["licence"] == "CC BY 4.0"
    with ui.page.expect_download() as info:
        ui.page.get_by_role("link", name=ui.t("Download CSV")).click()
    rows = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text("utf-8-sig"))))
    assert [int(r["received"]) for r in rows] == [a["received"] for a in data["agencies"]]
    with server.api(*EVALUATOR) as api:
        report = api.get(f"/api/v1/evaluator/report?from={data['from']}&to={data['to']}").json()
    received = {a["code"]: a["total"] for a in report["agencies"] if a["code"]}
    assert {a["agency_code"]: a["received"] for a in data["agencies"]} == received
    assert sum(received.values()) > 0
