"""The tutorial, chapter by chapter, in a real Chromium, in Indonesian and English.

Every test makes its own people and messages (unique names), so the tests share
one server without stepping on each other. Each page passed through is
photographed at 360 and 1280 px (``test-artifacts/browser/<test>/``); the main
pages are checked with axe-core; the ``make_ui`` fixture fails a test whose
pages logged a console error or asked another host for anything.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from .conftest import UI, Server, open_menu_to
from .support import jpeg_file, new_nik, pdf_file, unique

LANGS = pytest.mark.parametrize("lang", ["id", "en"])
WARGA = ("warga", "etam-warga-demo", "6472045504910001")
ADMIN = ("admin", "etam-admin-demo")
OPERATOR = ("operator.pupr", "etam-operator-demo")
MONITOR = ("operator.biro", "etam-monitor-demo")
SUPERADMIN = ("superadmin", "etam-super-admin-demo")
EVALUATOR = ("evaluator", "etam-evaluator-demo")


# ---------------------------------------------------------------- data made through the API
def _items(data: Any) -> list[dict[str, Any]]:
    return data["items"] if isinstance(data, dict) else data


def catalog(server: Server) -> dict[str, Any]:
    """Names and ids of the demo's categories, sub-categories and agencies."""
    cached = getattr(server, "_catalog", None)
    if cached:
        return cached
    with server.api(*SUPERADMIN) as api:
        categories = _items(api.get("/api/v1/admin/categories").json())
        subs = _items(api.get("/api/v1/admin/subcategories").json())
        agencies = _items(api.get("/api/v1/admin/agencies").json())
    by_code = {c["code"]: c for c in categories}
    result = {
        "categories": by_code,
        "subs": {(by_code_name(categories, s["category_id"]), s["code"]): s for s in subs},
        "agencies": {a["code"]: a for a in agencies},
    }
    server._catalog = result  # type: ignore[attr-defined]
    return result


def by_code_name(categories: list[dict[str, Any]], category_id: int) -> str:
    return next(c["code"] for c in categories if c["id"] == category_id)


def new_citizen(server: Server, lang: str = "id") -> dict[str, str]:
    """A registered, verified citizen (through the API and the real mail)."""
    name = unique("warga.")
    person = {
        "email": f"{name}@example.org",
        "username": name,
        "full_name": f"Warga {name[6:]}",
        "nik": new_nik(),
        "password": "kata-sandi-panjang-" + name[-6:],
    }
    with server.anonymous() as client:
        r = client.post(
            f"/api/v1/auth/register?lang={lang}",
            json={**person, "password_confirm": person["password"]},
        )
        assert r.status_code == 201, r.text
        mail = server.mail.wait_for(person["email"])[-1]
        token = server.mail.link(mail, "/verify-email").split("token=")[1]
        r = client.post("/api/v1/auth/verify-email", json={"token": token})
        assert r.status_code == 200, r.text
    return person


def submit(server: Server, person: dict[str, str], subject: str, body: str) -> int:
    with server.api(person["username"], person["password"]) as api:
        r = api.post("/api/v1/messages", json={"subject": subject, "body": body})
        assert r.status_code == 201, r.text
        return int(r.json()["id"])


def forward(server: Server, message_id: int, sub: tuple[str, str], agency: str) -> None:
    cat = catalog(server)
    with server.api(*ADMIN) as api:
        r = api.post(
            f"/api/v1/messages/{message_id}/forward",
            json={
                "category_id": cat["categories"][sub[0]]["id"],
                "subcategory_id": cat["subs"][sub]["id"],
                "agency_id": cat["agencies"][agency]["id"],
                "note": "",
            },
        )
        assert r.status_code == 200, r.text


def handle(server: Server, message_id: int, *, progress: str, answer: str | None) -> None:
    with server.api(*OPERATOR) as api:
        assert api.post(f"/api/v1/messages/{message_id}/start", json={}).status_code == 200
        r = api.post(f"/api/v1/messages/{message_id}/progress", json={"note": progress})
        assert r.status_code == 200, r.text
        if answer is not None:
            r = api.post(f"/api/v1/messages/{message_id}/reply", json={"answer": answer})
            assert r.status_code == 200, r.text


def status(ui: UI, code: str) -> str:
    labels = {
        "submitted": "Submitted",
        "forwarded": "Not yet confirmed",
        "in_progress": "Being handled",
        "done": "Done",
        "rejected": "Rejected",
        "withdrawn": "Withdrawn",
    }
    return ui.t(labels[code])


def nav(ui: UI, label: str) -> None:
    """Follow a link of the main menu."""
    open_menu_to(ui, ui.t(label), "link")
    ui.page.get_by_role("navigation", name=ui.t("Main menu")).get_by_role(
        "link", name=ui.t(label), exact=True
    ).click()
    ui.page.wait_for_load_state()


# ---------------------------------------------------------------- chapter 1
@LANGS
def test_01_home_and_public_messages(make_ui: Any, lang: str) -> None:
    ui = make_ui(lang)
    ui.goto("/")
    expect(ui.page).to_have_title(re.compile(re.escape(ui.t("Home"))))
    ui.expect_heading("ASPIRASI ETAM")
    ui.expect_text("Provinsi Kalimantan Timur")
    expect(ui.page.get_by_role("heading", name=ui.t("How to send a message"))).to_be_visible()
    expect(ui.page.get_by_role("heading", name=ui.t("Recent messages"))).to_be_visible()
    expect(ui.page.locator("html")).to_have_attribute("lang", lang)
    ui.shot("home")
    ui.axe("home")

    ui.page.get_by_role("link", name=ui.t("All public messages")).click()
    ui.page.wait_for_load_state()
    ui.expect_heading(ui.t("Public messages"))
    ui.expect_text(
        ui.t(
            "Messages sent by citizens to the provincial government."
            " The sender's personal data is never shown."
        )
    )
    # the demo has public messages; the sender's NIK is never on the page
    expect(ui.page.locator("main .ticket").first).to_be_visible()
    expect(ui.page.locator("main")).not_to_contain_text(WARGA[2])
    ui.shot("public-messages")
    ui.axe("public messages")

    # the other language is one click away and remembered
    other = "en" if lang == "id" else "id"
    ui.page.get_by_role("link", name=other.upper(), exact=True).click()
    ui.page.wait_for_load_state()
    expect(ui.page.locator("html")).to_have_attribute("lang", other)
    ui.shot("public-messages-other-language")


# ---------------------------------------------------------------- chapter 2
@LANGS
def test_02_tracking_by_nik_with_the_log(make_ui: Any, lang: str) -> None:
    ui = make_ui(lang)
    ui.goto("/")
    nav(ui, "Tracking")
    ui.expect_heading(ui.t("Tracking"))
    ui.shot("tracking")
    ui.axe("tracking")

    ui.page.get_by_label(ui.label("NIK")).fill(WARGA[2])
    ui.page.get_by_role("button", name=ui.t("Check")).click()
    ui.page.wait_for_load_state()
    results = ui.page.get_by_role(
        "heading", name=re.compile(re.escape(ui.t("Messages of NIK %(nik)s", nik="")))
    )
    expect(results).to_contain_text("6472********0001")
    expect(ui.page.locator("main")).not_to_contain_text(WARGA[2])
    ui.shot("tracking-results")

    first_log = ui.page.locator("main details").first
    first_log.get_by_text(ui.t("Log"), exact=True).click()
    expect(first_log.locator("ol.log li").first).to_be_visible()
    expect(first_log.locator("ol.log")).to_contain_text(status(ui, "submitted"))
    ui.shot("tracking-log")
    ui.axe("tracking results with the log open")


# ---------------------------------------------------------------- chapter 3
@LANGS
def test_03_register_verify_by_mail_and_log_in(make_ui: Any, server: Server, lang: str) -> None:
    ui = make_ui(lang)
    name = unique("ani.")
    email = f"{name}@example.org"
    password = "kata-sandi-ani-" + name[-6:]
    ui.goto("/")
    ui.page.get_by_role("navigation", name=ui.t("Main menu")).get_by_role(
        "link", name=ui.t("Register")
    ).click()
    ui.page.wait_for_load_state()
    ui.expect_heading(ui.t("Register"))
    ui.shot("register")
    ui.axe("register")

    form = ui.page.locator("main form")
    form.get_by_label(ui.label("E-mail")).fill(email)
    form.get_by_label(ui.label("Username")).fill(name)
    form.get_by_label(ui.label("Full name")).fill("Ani Lestari")
    form.get_by_label(ui.label("NIK")).fill(new_nik())
    form.get_by_label(ui.label("Password")).fill(password)
    form.get_by_label(ui.label("Confirm the password")).fill(password)
    form.get_by_role("button", name=ui.t("Register")).click()
    ui.page.wait_for_load_state()
    ui.expect_text(
        ui.t(
            "Thank you. We sent an e-mail to the address you gave: open it to go on. If nothing"
            " arrives within a few minutes, look in the spam folder."
        )
    )
    ui.expect_heading(ui.t("Log in"))
    ui.shot("registered")

    mail = server.mail.wait_for(email)[-1]
    link = server.mail.link(mail, "/verify-email")
    assert link.startswith(server.base_url + "/verify-email?token=")
    if lang == "en":
        assert "To activate your account" in server.mail.text(mail)
    ui.page.goto(link)
    ui.expect_heading(ui.t("Verify your e-mail address"))
    ui.shot("verify-email")
    ui.page.get_by_role("button", name=ui.t("Confirm my e-mail address")).click()
    ui.page.wait_for_load_state()
    ui.expect_text(ui.t("Your e-mail address is verified. You can send messages now."))
    ui.shot("verified")

    ui.login(name, password, first=True)
    ui.expect_heading(ui.t("Dashboard"))
    ui.expect_text(ui.t("Hello, %(name)s.", name="Ani Lestari"))
    ui.shot("dashboard")
    ui.axe("dashboard")


# ---------------------------------------------------------------- chapter 4
@LANGS
def test_04_forgot_password_through_the_mail(make_ui: Any, server: Server, lang: str) -> None:
    person = new_citizen(server, lang)
    ui = make_ui(lang)
    ui.goto("/login")
    ui.shot("login")
    ui.axe("login")
    ui.page.get_by_role("link", name=ui.t("Forgot your password?")).click()
    ui.page.wait_for_load_state()
    ui.expect_heading(ui.t("Forgot password"))
    ui.shot("forgot-password")
    ui.axe("forgot password")
    before = len(server.mail.wait_for(person["email"]))
    ui.page.get_by_label(ui.label("E-mail")).fill(person["email"])
    ui.page.get_by_role("button", name=ui.t("Send the link")).click()
    ui.page.wait_for_load_state()
    ui.expect_text(
        ui.t("If the address is registered, a link to reset the password was sent to it.")
    )
    ui.shot("reset-sent")

    mail = server.mail.wait_for(person["email"], count=before + 1)[-1]
    ui.page.goto(server.mail.link(mail, "/reset-password"))
    ui.expect_heading(ui.t("Choose a new password"))
    ui.shot("reset-password")
    ui.axe("reset password")
    new_password = "sandi-baru-yang-panjang-" + person["username"][-4:]
    ui.page.get_by_label(ui.label("New password")).fill(new_password)
    ui.page.get_by_label(ui.label("Confirm the password")).fill(new_password)
    ui.page.get_by_role("button", name=ui.t("Save the new password")).click()
    ui.page.wait_for_load_state()
    ui.expect_text(ui.t("Your password was changed. Please log in."))
    ui.shot("password-reset")

    ui.login(person["email"], new_password)
    ui.expect_heading(ui.t("Dashboard"))
    ui.shot("dashboard")


# ---------------------------------------------------------------- chapter 5
@LANGS
def test_05_settings_and_change_password(make_ui: Any, server: Server, lang: str) -> None:
    person = new_citizen(server, lang)
    ui = make_ui(lang)
    ui.login(person["username"], person["password"])
    nav(ui, "Settings")
    ui.expect_heading(ui.t("Settings"))
    expect(ui.page.locator("main dl").first).to_contain_text(person["username"])
    expect(ui.page.locator("main dl").first).to_contain_text(person["nik"][:4] + "********")
    ui.shot("settings")
    ui.axe("settings")

    ui.page.get_by_label(ui.label("Full name")).fill("Budi Santoso")
    ui.page.get_by_role("button", name=ui.t("Save the profile")).click()
    ui.page.wait_for_load_state()
    ui.expect_text(ui.t("Your profile was saved."))
    expect(ui.page.get_by_label(ui.label("Full name"))).to_have_value("Budi Santoso")

    new_password = "sandi-pengaturan-" + person["username"][-6:]
    ui.page.get_by_label(ui.label("Current password")).fill(person["password"])
    ui.page.get_by_label(ui.label("New password")).fill(new_password)
    ui.page.get_by_label(ui.label("Confirm the password")).fill(new_password)
    ui.page.get_by_role("button", name=ui.t("Change the password")).click()
    ui.page.wait_for_load_state()
    ui.expect_text(ui.t("Your password was changed."))
    ui.shot("password-changed")

    ui.logout()
    ui.login(person["username"], new_password)
    ui.expect_text(ui.t("Hello, %(name)s.", name="Budi Santoso"))
    ui.shot("logged-in-again")


# ---------------------------------------------------------------- chapter 6
@LANGS
def test_06_send_with_a_jpg_history_and_withdraw(
    make_ui: Any, server: Server, lang: str, tmp_path: Any
) -> None:
    person = new_citizen(server, lang)
    other = f"Lampu jalan padam {unique('')}"
    other_id = submit(server, person, other, "Lampu jalan di Jl. Juanda padam sejak seminggu.")
    ui = make_ui(lang)
    ui.login(person["username"], person["password"])
    nav(ui, "Send a message")
    ui.expect_heading(ui.t("Send a message"))
    ui.shot("new-message")
    ui.axe("message form")

    subject = f"Jalan berlubang {unique('')}"
    form = ui.page.locator("main form")
    form.get_by_label(ui.label("Subject")).fill(subject)
    form.get_by_label(ui.label("Message")).fill(
        "Jalan di depan SDN 012 Samarinda berlubang besar dan membahayakan pengendara."
    )
    form.get_by_label(ui.label("Attachments (optional)")).set_input_files(str(jpeg_file(tmp_path)))
    form.get_by_role("button", name=ui.t("Send"), exact=True).click()
    ui.page.wait_for_load_state()
    ui.expect_text(ui.t("Your message was sent."))
    ui.expect_heading(subject)
    expect(ui.page.locator("main")).to_contain_text(status(ui, "submitted"))
    expect(
        ui.page.get_by_role("img", name=ui.t("Photo %(filename)s", filename="jalan-rusak.jpg"))
    ).to_be_visible()
    expect(ui.page.get_by_role("link", name=f"{ui.t('Download')} jalan-rusak.jpg")).to_be_visible()
    ui.shot("message-sent")
    ui.axe("message detail")

    nav(ui, "My messages")
    ui.expect_heading(ui.t("My messages"))
    row = ui.page.locator("main tr", has_text=subject)
    expect(row).to_contain_text(status(ui, "submitted"))
    ui.shot("history")
    ui.axe("history")

    other_row = ui.page.locator("main tr", has_text=other)
    other_row.get_by_role("button", name=ui.t("Withdraw")).click()  # confirms the dialog
    ui.page.wait_for_load_state()
    ui.expect_text(ui.t("The message was withdrawn."))
    # withdrawn messages vanish from every list (SPEC), the other one stays
    expect(ui.page.locator("main tr", has_text=other)).to_have_count(0)
    expect(ui.page.locator("main tr", has_text=subject)).to_contain_text(status(ui, "submitted"))
    ui.shot("withdrawn")
    gone = ui.page.request.get(f"{server.base_url}/messages/{other_id}")
    assert gone.status == 404 and other not in gone.text()


# ---------------------------------------------------------------- chapter 7
@LANGS
def test_07_admin_forwards(make_ui: Any, server: Server, lang: str) -> None:
    person = new_citizen(server, lang)
    subject = f"Banjir di Sempaja {unique('')}"
    submit(server, person, subject, "Setiap hujan deras Jl. Sempaja banjir setinggi lutut.")
    cat = catalog(server)
    ui = make_ui(lang)
    ui.login(*ADMIN)
    ui.expect_heading(ui.t("Back office"))
    ui.shot("backoffice")
    ui.axe("back office inbox")

    nav(ui, "All messages")
    ui.page.get_by_label(ui.label("Text")).fill(subject)
    ui.page.get_by_role("button", name=ui.t("Filter")).click()
    ui.page.wait_for_load_state()
    ui.shot("all-messages")
    ui.axe("back office list")
    ui.page.get_by_role("link", name=subject).click()
    ui.page.wait_for_load_state()
    ui.expect_heading(subject)
    ui.shot("detail")
    ui.axe("back office detail")

    aduan = cat["categories"]["aduan"]["name"]
    sub = cat["subs"][("aduan", "infrastruktur")]["name"]
    agency = cat["agencies"]["pupr-pera"]["name"]
    form = ui.page.locator("form#forward")
    form.get_by_label(ui.label("Category")).select_option(label=aduan)
    form.get_by_label(ui.label("Sub-category")).select_option(label=f"{aduan} › {sub}")
    form.get_by_label(ui.label("Agency")).select_option(label=agency)
    form.get_by_label(ui.label("Note")).fill("Mohon segera ditinjau.")
    form.get_by_role("button", name=ui.t("Forward")).click()
    ui.page.wait_for_load_state()
    ui.expect_text(ui.t("The message was forwarded."))
    details = ui.page.locator("main dl")
    expect(details).to_contain_text(status(ui, "forwarded"))
    expect(details).to_contain_text(agency)
    ui.shot("forwarded")


# ---------------------------------------------------------------- chapter 8
@LANGS
def test_08_operator_confirms_updates_and_replies_with_a_pdf(
    make_ui: Any, server: Server, lang: str, tmp_path: Any
) -> None:
    person = new_citizen(server, lang)
    subject = f"Jembatan retak {unique('')}"
    message_id = submit(server, person, subject, "Jembatan Mahkota II retak di sisi timur.")
    forward(server, message_id, ("aduan", "infrastruktur"), "pupr-pera")
    ui = make_ui(lang)
    ui.login(*OPERATOR)
    ui.expect_heading(ui.t("Back office"))
    expect(ui.page.locator("main")).to_contain_text(subject)
    ui.shot("backoffice")
    ui.page.get_by_role("link", name=subject).first.click()
    ui.page.wait_for_load_state()
    ui.expect_heading(subject)
    ui.shot("detail-forwarded")
    ui.axe("operator detail")

    ui.page.get_by_role("button", name=status(ui, "in_progress")).click()
    ui.page.wait_for_load_state()
    ui.expect_text(ui.t("The message is now being handled."))
    expect(ui.page.locator("main dl")).to_contain_text(status(ui, "in_progress"))
    ui.shot("confirmed")

    note = "Tim sudah meninjau lokasi; perbaikan dijadwalkan pekan depan."
    ui.page.get_by_label(ui.label("Latest progress")).fill(note)
    ui.page.get_by_role("button", name=ui.t("Update"), exact=True).click()
    ui.page.wait_for_load_state()
    ui.expect_text(ui.t("The progress update was saved."))
    expect(ui.page.locator("main ol.log")).to_contain_text(note)
    ui.shot("progress")

    form = ui.page.locator("form#reply")
    form.get_by_label(ui.label("Answer")).fill(
        "Jembatan sudah diperbaiki. Terima kasih atas laporannya."
    )
    form.get_by_label(ui.label("Attachment (PDF, optional)")).set_input_files(
        str(pdf_file(tmp_path))
    )
    form.get_by_role("button", name=ui.t("Send reply")).click()
    ui.page.wait_for_load_state()
    ui.expect_text(ui.t("The reply was sent and the message is done."))
    expect(ui.page.locator("main dl")).to_contain_text(status(ui, "done"))
    expect(ui.page.get_by_role("link", name="jawaban.pdf")).to_be_visible()
    ui.shot("replied")
    ui.axe("operator detail, done")


# ---------------------------------------------------------------- chapter 9
@LANGS
def test_09_citizen_sees_the_log_and_rates(make_ui: Any, server: Server, lang: str) -> None:
    person = new_citizen(server, lang)
    subject = f"Sampah menumpuk {unique('')}"
    message_id = submit(server, person, subject, "Sampah di TPS Jl. Pahlawan tidak diangkut.")
    forward(server, message_id, ("aduan", "lingkungan"), "pupr-pera")
    progress = "Petugas kebersihan sudah dijadwalkan."
    answer = "Sampah sudah diangkut pada hari Senin."
    handle(server, message_id, progress=progress, answer=answer)

    ui = make_ui(lang)
    ui.login(person["username"], person["password"])
    nav(ui, "My messages")
    row = ui.page.locator("main tr", has_text=subject)
    expect(row).to_contain_text(status(ui, "done"))
    ui.shot("history")
    row.get_by_role("link", name=ui.t("Log"), exact=True).click()
    ui.page.wait_for_load_state()
    ui.expect_heading(subject)
    log = ui.page.locator("main ol.log")
    for code in ("submitted", "forwarded", "in_progress", "done"):
        expect(log).to_contain_text(status(ui, code))
    expect(log).to_contain_text(progress)
    expect(ui.page.get_by_role("region", name=ui.t("Reply"))).to_contain_text(answer)
    ui.shot("log")
    ui.axe("message with the log and the rating form")

    ui.page.get_by_label(ui.ngettext("%(num)s star", "%(num)s stars", 4), exact=True).check()
    ui.page.get_by_label(ui.label("Comment")).fill("Cepat ditangani, terima kasih.")
    ui.page.get_by_role("button", name=ui.t("Send the rating")).click()
    ui.page.wait_for_load_state()
    ui.expect_text(ui.t("Thank you for your rating."))
    rating = ui.page.get_by_role("region", name=ui.t("Rating"))
    expect(rating).to_contain_text(ui.t("%(stars)s of 5 stars", stars=4))
    expect(rating).to_contain_text("Cepat ditangani, terima kasih.")
    ui.shot("rated")


# ---------------------------------------------------------------- chapter 10
@LANGS
def test_10_super_admin_creates_an_operator_and_a_subcategory(
    make_ui: Any, server: Server, lang: str
) -> None:
    cat = catalog(server)
    ui = make_ui(lang)
    ui.login(*SUPERADMIN)
    nav(ui, "Accounts")
    ui.expect_heading(ui.t("Accounts"))
    ui.shot("accounts")
    ui.axe("accounts")

    username = unique("operator.dinkes")
    password = "sandi-operator-dinkes-" + username[-4:]
    agency = cat["agencies"]["dinkes"]["name"]
    # Staff are invited by e-mail (test_admin_staff.py walks that); here the super admin
    # gives an initial password in person, which the operator must change at once.
    ui.page.get_by_role("link", name=ui.t("New staff account")).click()
    ui.page.wait_for_load_state()
    ui.page.get_by_label(ui.label("E-mail")).fill(f"{username}@example.org")
    ui.page.get_by_label(ui.label("Full name")).fill("Operator Dinas Kesehatan")
    ui.page.get_by_label(ui.label("Level")).select_option(label=ui.t("Operator"))
    ui.page.get_by_label(ui.label("Agency (operators)")).select_option(label=agency)
    ui.page.get_by_text(ui.t("More options")).click()
    ui.page.get_by_label(ui.label("Username")).fill(username)
    ui.page.get_by_label(ui.label("Initial password instead of an invitation")).fill(password)
    ui.page.get_by_role("button", name=ui.t("Create account and send invitation")).click()
    ui.page.wait_for_load_state()
    ui.expect_text(
        ui.t(
            "Account created. Give the password to %(name)s in person: it must be"
            " changed at the first log-in.",
            name="Operator Dinas Kesehatan",
        )
    )
    ui.goto("/admin/users")
    ui.page.get_by_label(ui.t("Name, username or e-mail")).fill(username)
    ui.page.locator("main form.search button[type=submit]").click()
    ui.page.wait_for_load_state()
    row = ui.page.locator("main tr", has_text=username)
    expect(row).to_contain_text(agency)
    ui.shot("account-created")

    ui.page.get_by_role("navigation", name=ui.t("Administration")).get_by_role(
        "link", name=ui.t("Agencies")
    ).click()
    ui.page.wait_for_load_state()
    ui.expect_heading(ui.t("Agencies"))
    ui.shot("agencies")
    ui.axe("agencies")

    ui.page.get_by_role("navigation", name=ui.t("Administration")).get_by_role(
        "link", name=ui.t("Categories")
    ).click()
    ui.page.wait_for_load_state()
    ui.expect_heading(ui.t("Categories"))
    ui.shot("categories")
    ui.axe("categories")
    code = unique("kesehatan-ibu-").replace(".", "-")
    name = f"Kesehatan Ibu dan Anak {code[-6:]}"
    ui.page.get_by_text(ui.t("New sub-category")).click()  # a folded form
    form = ui.page.locator(
        "main form", has=ui.page.get_by_role("button", name=ui.t("Create sub-category"))
    )
    form.get_by_label(ui.label("Category")).select_option(label=cat["categories"]["aduan"]["name"])
    form.get_by_label(ui.label("Code")).fill(code)
    form.get_by_label(ui.label("Name")).fill(name)
    form.get_by_role("button", name=ui.t("Create sub-category")).click()
    ui.page.wait_for_load_state()
    expect(ui.page.locator("main code", has_text=code)).to_be_visible()
    ui.shot("subcategory-created")

    staff = make_ui(lang, "new-operator")
    staff.goto("/login")
    staff.page.get_by_label(staff.label("Username or e-mail")).fill(username)
    staff.page.get_by_label(staff.label("Password")).fill(password)
    staff.page.locator("main").get_by_role("button", name=staff.t("Log in")).click()
    staff.page.wait_for_load_state()
    staff.expect_heading(staff.t("Choose your own password"))
    own = password + "-mine"
    staff.page.get_by_label(staff.label("The password you were given")).fill(password)
    staff.page.get_by_label(staff.label("New password")).fill(own)
    staff.page.get_by_label(staff.label("Confirm the password")).fill(own)
    staff.page.get_by_role("button", name=staff.t("Save the new password")).click()
    staff.page.wait_for_load_state()
    staff.goto("/backoffice")
    staff.expect_heading(staff.t("Back office"))
    staff.shot("new-operator-backoffice")


# ---------------------------------------------------------------- chapter 11
@LANGS
def test_11_land_issue_monitor_follows_a_land_dispute(
    make_ui: Any, server: Server, lang: str
) -> None:
    person = new_citizen(server, lang)
    subject = f"Sengketa lahan di Loa Janan {unique('')}"
    message_id = submit(server, person, subject, "Lahan kebun kami diklaim perusahaan.")
    forward(server, message_id, ("aduan", "permasalahan-lahan"), "pupr-pera")
    handle(server, message_id, progress="Mediasi dijadwalkan.", answer=None)

    ui = make_ui(lang)
    ui.login(*MONITOR)
    nav(ui, "Monitor")
    ui.expect_heading(ui.t("Land-dispute complaints"))
    row = ui.page.locator("main tr", has_text=subject)
    expect(row).to_contain_text(catalog(server)["agencies"]["pupr-pera"]["name"])
    expect(row).to_contain_text(status(ui, "in_progress"))
    ui.shot("land-issues")
    ui.axe("land issues")

    row.get_by_role("link", name=subject).click()
    ui.page.wait_for_load_state()
    ui.expect_heading(subject)
    expect(ui.page.locator("main ol.log")).to_contain_text("Mediasi dijadwalkan.")
    # read only: the monitor cannot act on another agency's message
    expect(ui.page.get_by_role("button", name=ui.t("Send reply"))).to_have_count(0)
    ui.shot("land-issue-detail")


# ---------------------------------------------------------------- chapter 12
#: The report's status buckets (its columns), in order: the core's status names.
BUCKETS = ("Submitted", "Not yet confirmed", "Being handled", "Done", "Rejected")


def overdue_of(server: Server, agency_id: int, start: date, end: date) -> list[dict[str, Any]]:
    """The agency's overdue messages submitted from ``start`` to ``end`` (both included),
    as the evaluator sees them."""
    query = f"from={start.isoformat()}&to={end.isoformat()}&agency={agency_id}&overdue=1"
    with server.api(*EVALUATOR) as api:
        r = api.get(f"/api/v1/evaluator/messages?{query}&limit=100")
        assert r.status_code == 200, r.text
        return _items(r.json())


def download(ui: UI, link: Any) -> list[list[str]]:
    """Click ``link``, wait for the download, and return the CSV file's rows."""
    with ui.page.expect_download() as info:
        link.click()
    path = info.value.path()
    assert info.value.suggested_filename.endswith(".csv"), info.value.suggested_filename
    raw = Path(path).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), raw[:20]  # the BOM spreadsheets need
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


@LANGS
def test_12_evaluator_report_drill_down_export_and_a_reprimand(
    make_ui: Any, server: Server, lang: str
) -> None:
    pupr = catalog(server)["agencies"]["pupr-pera"]
    today = datetime.now(ZoneInfo("Asia/Makassar")).date()
    # The demo's story happened over the last three weeks, so Dinas PUPR-PERA has
    # messages past their SOP deadline. A test cannot make new ones: the SOP is at
    # least one working day, the server's clock is the real one, and days off only
    # push deadlines later.
    start, end = today - timedelta(days=35), today
    overdue = overdue_of(server, pupr["id"], start, end)
    assert overdue, "the demo should leave Dinas PUPR-PERA with overdue messages"

    ui = make_ui(lang)
    ui.login(*EVALUATOR)
    nav(ui, "Evaluation")
    ui.expect_heading(ui.t("Evaluation"))
    # by default, the current year
    year = (
        f"{ui.t('Period')}: {ui.date(date(today.year, 1, 1))} – {ui.date(date(today.year, 12, 31))}"
    )
    ui.expect_text(year)
    agencies = ui.page.locator("main table.report.agencies")
    for label in BUCKETS:  # the report's own status buckets
        expect(agencies.locator("thead")).to_contain_text(ui.t(label))
    expect(agencies.locator("tfoot")).to_contain_text(ui.t("Total"))
    chart = ui.page.get_by_role("img", name=ui.t("Submitted and closed messages per period"))
    expect(chart).to_be_visible()  # the trend: an inline SVG drawn on the server
    ui.shot("report")
    ui.axe("evaluator report")

    # the date range of the report, through its form
    form = ui.page.get_by_role("form", name=ui.t("Report period"))
    form.get_by_label(ui.label("From (date)")).fill(start.isoformat())
    form.get_by_label(ui.label("Until (date)")).fill(end.isoformat())
    form.get_by_role("button", name=ui.t("Show the report")).click()
    ui.page.wait_for_load_state()
    assert f"from={start.isoformat()}" in ui.page.url, ui.page.url
    ui.expect_text(f"{ui.t('Period')}: {ui.date(start)} – {ui.date(end)}")
    expect(
        ui.page.get_by_role("heading", name=ui.t("Weekly trend: submitted and closed"))
    ).to_be_visible()
    expect(chart).to_be_visible()
    row = agencies.locator("tbody tr", has=ui.page.get_by_role("rowheader", name=pupr["name"]))
    overdue_link = row.locator("a.overdue")
    expect(overdue_link).to_have_text(str(len(overdue)))
    ui.shot("report-period")

    # the CSV export: the first sheet's title, then its header row
    rows_csv = download(ui, ui.page.get_by_role("link", name=ui.t("Download CSV")))
    assert rows_csv[0] == [ui.t("Agencies")], rows_csv[:2]
    header = [ui.t("Agency"), *(ui.t(label) for label in BUCKETS), ui.t("Total"), ui.t("Overdue")]
    assert rows_csv[1][: len(header)] == header, rows_csv[:2]
    pupr_csv = next(r for r in rows_csv if r and r[0] == pupr["name"])
    assert pupr_csv[len(header) - 1] == str(len(overdue)), pupr_csv

    # drilling down into the overdue count
    overdue_link.click()
    ui.page.wait_for_load_state()
    ui.expect_heading(ui.t("Messages behind the count"))
    rows = ui.page.locator("main table.evaluator-messages tbody tr")
    expect(rows).to_have_count(len(overdue))
    expect(rows.first).to_contain_text(pupr["name"])
    expect(rows.first).to_contain_text(ui.t("Overdue"))
    ui.shot("drill-down")
    rows_csv = download(ui, ui.page.get_by_role("link", name=ui.t("Download CSV")))
    assert rows_csv[0][:3] == [ui.t("Ticket"), ui.t("Received"), ui.t("Subject")], rows_csv[0]
    assert len(rows_csv) == 1 + len(overdue), rows_csv

    # a message's detail: read only for the evaluator
    first = overdue[0]
    rows.get_by_role("link", name=first["ticket"], exact=True).click()
    ui.page.wait_for_load_state()
    expect(ui.page).to_have_url(re.compile(rf"/backoffice/messages/{first['id']}$"))
    ui.expect_heading(first["subject"])
    expect(ui.page.locator("main ol.log li").first).to_be_visible()
    expect(ui.page.get_by_role("heading", name=ui.t("Actions"))).to_have_count(0)
    # no workflow form; the demo evaluator is an admin, who may write to the sender
    # in the follow-up thread while the message is open (issue 22)
    expect(ui.page.locator("main form:not(.followup-form)")).to_have_count(0)
    expect(ui.page.locator("main button:not(.followup-form button)")).to_have_count(0)
    ui.shot("read-only-detail")
    ui.page.go_back()
    ui.page.get_by_role("link", name=ui.t("Back to the report")).click()
    ui.page.wait_for_load_state()
    ui.expect_text(f"{ui.t('Period')}: {ui.date(start)} – {ui.date(end)}")

    # a reprimand (teguran) to the agency about its overdue messages
    row.get_by_role("link", name=ui.t("Reprimand"), exact=True).click()
    ui.page.wait_for_load_state()
    ui.expect_heading(f"{ui.t('New reprimand')}: {pupr['name']}")
    # any open message of the agency may be named (issue 22), the overdue ones too
    choices = ui.page.get_by_role("group", name=ui.t("Open messages of this agency"))
    for m in overdue:
        expect(choices.get_by_label(m["ticket"], exact=True)).to_be_visible()
    ui.shot("reprimand-form")
    ui.axe("reprimand form")
    choices.get_by_label(first["ticket"], exact=True).check()
    ui.page.get_by_label(ui.label("Reason")).select_option(value="overdue")
    text = f"Mohon segera ditindaklanjuti ({unique('')})."
    ui.page.get_by_label(ui.label("Reprimand text")).fill(text)
    ui.page.get_by_role("button", name=ui.t("Send the reprimand")).click()
    ui.page.wait_for_load_state()
    ui.expect_text(ui.t("Reprimand sent to %(name)s.", name=pupr["name"]))
    ui.expect_heading(ui.t("Reprimands"))
    sent = ui.page.locator("main article.reprimand", has_text=text)
    expect(sent).to_contain_text(first["ticket"])
    expect(sent).to_contain_text(ui.t("Not yet acknowledged"))
    ui.shot("reprimand-sent")

    # the agency's operator got it by mail ...
    operator_address = "operator-pupr@aspirasi.example.go.id"
    mail = wait_for_mail(server, operator_address, text)
    assert pupr["name"] in str(mail["Subject"]), mail["Subject"]
    assert first["ticket"] in server.mail.text(mail)
    assert server.mail.link(mail, "/reprimands").startswith(server.base_url)

    # ... reads it under "Reprimands" and acknowledges it with a response
    op = make_ui(lang, "operator")
    op.login(*OPERATOR)
    nav(op, "Reprimands")
    op.expect_heading(op.t("Reprimands"))
    article = op.page.locator("main article.reprimand", has_text=text)
    expect(article).to_contain_text(op.t("Not yet acknowledged"))
    expect(article.get_by_role("link", name=first["ticket"])).to_be_visible()
    op.shot("reprimands")
    op.axe("reprimands")
    response = f"Sudah kami jadwalkan minggu ini ({unique('')})."
    article.get_by_label(op.label("Your response")).fill(response)
    article.get_by_role("button", name=op.t("Acknowledge")).click()
    op.page.wait_for_load_state()
    op.expect_text(op.t("Saved."))
    article = op.page.locator("main article.reprimand", has_text=text)
    expect(article).to_contain_text(op.t("Acknowledged by"))
    expect(article).to_contain_text(response)
    expect(article.get_by_role("button", name=op.t("Acknowledge"))).to_have_count(0)
    op.shot("reprimand-acknowledged")
    op.axe("reprimands, acknowledged")

    # the evaluator is told by mail, and sees the response
    wait_for_mail(server, "evaluator@aspirasi.example.go.id", response)
    ui.goto(f"/reprimands?agency={pupr['id']}")
    expect(ui.page.locator("main article.reprimand", has_text=text)).to_contain_text(response)
    ui.shot("reprimand-acknowledged")


def wait_for_mail(server: Server, address: str, text: str, timeout: float = 30) -> Any:
    """The mail to ``address`` whose text contains ``text``."""
    deadline = time.monotonic() + timeout
    while True:
        for mail in server.mail.wait_for(address, timeout=timeout):
            if text in server.mail.text(mail):
                return mail
        assert time.monotonic() < deadline, f"no mail to {address} containing {text!r}"
        time.sleep(0.2)


# ---------------------------------------------------------------- chapter 13
@LANGS
def test_13_anonymous_sender_revealed_by_the_super_admin_and_audited(
    make_ui: Any, server: Server, lang: str
) -> None:
    person = new_citizen(server, lang)
    subject = f"Pungutan liar di kelurahan {unique('')}"
    with server.api(person["username"], person["password"]) as api:
        r = api.post(
            "/api/v1/messages",
            json={"subject": subject, "body": "Diminta uang untuk surat.", "anonymous": True},
        )
        assert r.status_code == 201, r.text
        message_id = int(r.json()["id"])
    forward(server, message_id, ("aduan", "infrastruktur"), "pupr-pera")

    ui = make_ui(lang, "admin")
    ui.login(*ADMIN)
    ui.goto(f"/backoffice/messages/{message_id}")
    ui.expect_heading(subject)
    main = ui.page.locator("main")
    expect(main).to_contain_text(ui.t("the sender's identity is hidden from all staff."))
    expect(main).not_to_contain_text(person["email"])
    expect(main.get_by_text(ui.t("Reveal the sender"))).to_have_count(0)
    ui.shot("admin-sees-anonymous")
    ui.logout()

    ui.login(*SUPERADMIN)
    ui.goto(f"/backoffice/messages/{message_id}")
    expect(ui.page.locator("main")).not_to_contain_text(person["email"])
    ui.page.locator("details#reveal summary").click()
    ui.axe("message detail with the reveal form")
    reason = "Perintah pengadilan negeri nomor 7/2026."
    ui.page.get_by_label(ui.label("Reason (recorded in the audit log)")).fill(reason)
    ui.page.locator("details#reveal").get_by_role("button", name=ui.t("Reveal the sender")).click()
    ui.page.wait_for_load_state()
    ui.expect_text(person["email"])
    ui.expect_text(person["full_name"])
    ui.shot("revealed")
    ui.axe("revealed sender")

    nav(ui, "Audit log")
    ui.expect_heading(ui.t("Audit log"))
    ui.page.get_by_label(ui.t("Staff member")).fill(SUPERADMIN[0])
    ui.page.get_by_role("button", name=ui.t("Filter")).click()
    ui.page.wait_for_load_state()
    rows = ui.page.locator("table.audit tbody tr")
    expect(rows.first).to_contain_text(ui.t("Anonymous sender revealed"))
    expect(rows.first).to_contain_text(reason)
    ui.shot("audit-log")
    ui.axe("audit log")


# ---------------------------------------------------------------- chapter 14
@LANGS
def test_14_citizen_downloads_their_data_and_deletes_the_account(
    make_ui: Any, server: Server, lang: str
) -> None:
    person = new_citizen(server, lang)
    subject = "Data saya " + unique("")
    submit(server, person, subject, "Pesan untuk diunduh bersama data saya.")
    ui = make_ui(lang)
    ui.login(person["username"], person["password"])
    nav(ui, "Settings")
    section = ui.page.get_by_role("region", name=ui.t("Your data"))
    expect(section).to_be_visible()
    with ui.page.expect_download() as download:
        section.get_by_role("link", name=ui.t("Download my data (ZIP)")).click()
    with zipfile.ZipFile(download.value.path()) as archive:
        data = json.loads(archive.read("data.json"))
    assert data["account"]["nik"] == person["nik"]
    assert data["account"]["username"] == person["username"]
    assert [m["subject"] for m in data["messages"]] == [subject]

    ui.shot("your data")
    ui.axe("settings with your data")

    # A wrong password is refused with the form again (web_tests: a 422, which the
    # browser would log as a console error here).
    section.get_by_label(ui.label("Your password")).fill(person["password"])
    section.get_by_role("button", name=ui.t("Delete my account")).click()  # confirm: accepted
    ui.page.wait_for_load_state()
    ui.expect_text(ui.t("Your account was deleted. Your messages stay, without your name."))
    ui.shot("account deleted")
    with server.anonymous() as client:
        r = client.post(
            "/api/v1/auth/login",
            json={"login": person["username"], "password": person["password"]},
        )
        assert r.status_code == 401


# ---------------------------------------------------------------- keyboard
def test_keyboard_focus_reaches_the_main_links_visibly(make_ui: Any) -> None:
    ui = make_ui("id")
    ui.goto("/")
    ui.page.bring_to_front()
    reached: list[str] = []
    for _ in range(25):
        ui.page.keyboard.press("Tab")
        focused = ui.page.evaluate(
            """() => {
              const el = document.activeElement;
              if (!el || el === document.body) return null;
              const s = getComputedStyle(el);
              const r = el.getBoundingClientRect();
              return {href: el.getAttribute('href'), text: el.textContent.trim(),
                      outline: s.outlineStyle, outlineWidth: parseFloat(s.outlineWidth),
                      shadow: s.boxShadow, visible: r.width > 0 && r.height > 0
                        && r.right > 0 && r.bottom > 0};
            }"""
        )
        if focused is None:  # past the last link: the browser's own UI
            break
        shown = (focused["outline"] != "none" and focused["outlineWidth"] > 0) or (
            focused["shadow"] not in ("none", "")
        )
        assert shown, f"no visible focus indicator on {focused}"
        assert focused["visible"], f"focused element is off screen: {focused}"
        reached.append(focused["href"] or focused["text"])
        if len(reached) == 1:
            assert focused["href"] == "#main", "the first Tab stop is the skip link"
            # (a plain screenshot: resizing the viewport would move the focus)
            ui.page.screenshot(path=str(ui.folder / "01-skip-link-focused-1280.png"))
    assert len(reached) > 5, reached
    for href in ("/", "/messages", "/tracking", "/login", "/register"):
        assert href in reached, f"Tab never reached {href}: {reached}"
