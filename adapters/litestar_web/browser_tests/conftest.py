"""Fixtures of the browser tests: the demo served as ``make run`` serves it, a real
SMTP server for its mail, and the system Chromium driven by Playwright (sync API).

Without Chromium on the ``PATH`` the tests are skipped with a reason, except with
``CI=true``, where they fail (``.ci/run`` installs Debian's ``chromium``).

The server and the SMTP server live for the whole run (one demo database for every
module's tests, which make their own people and messages: starting the demo costs half
a minute); the browser lives as long as one module.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from aspirasi_web.i18n import Translations

from .support import MailSink

ROOT = Path(__file__).resolve().parents[3]
BIN = ROOT / ".venv" / "bin"
ARTIFACTS = ROOT / "test-artifacts" / "browser"
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
LAND_ISSUE_LOCALE = ROOT / "plugins" / "land_issue" / "src" / "aspirasi_land_issue" / "locale"
EVALUATOR_LOCALE = ROOT / "plugins" / "evaluator" / "src" / "aspirasi_evaluator" / "locale"
WIDTHS = (360, 1280)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-dev-shm-usage",
]
#: As the Makefile's DEMO_SOCIAL: the demo shows social links in the footer.
DEMO_SOCIAL_LINKS = (
    "Instagram=https://instagram.com/kaltimprov,YouTube=https://www.youtube.com/@kaltimprov"
)
#: The demo's pause between verification links (ASPIRASI_VERIFICATION_RESEND_SECONDS).
RESEND_SECONDS = 8
#: The demo's rate limits are per IP; every test comes from 127.0.0.1.
GENEROUS_LIMITS = {
    "ASPIRASI_RATE_LIMIT_LOGIN_IP": "1000/minute",
    "ASPIRASI_RATE_LIMIT_LOGIN_ACCOUNT": "100/minute",
    "ASPIRASI_RATE_LIMIT_REGISTER_IP": "1000/hour",
    "ASPIRASI_RATE_LIMIT_FORGOT_PASSWORD_IP": "1000/hour",
    "ASPIRASI_RATE_LIMIT_RESET_PASSWORD_IP": "1000/hour",
    "ASPIRASI_RATE_LIMIT_TRACK_IP": "1000/minute",
    "ASPIRASI_RATE_LIMIT_SUBMIT_ACCOUNT": "1000/day",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        reason = "the system Chromium is not installed (apt-get install chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def mail() -> Iterator[MailSink]:
    sink = MailSink()
    sink.controller.start()
    try:
        yield sink
    finally:
        sink.controller.stop()


class Server:
    def __init__(self, base_url: str, folder: Path, env: dict[str, str], mail: MailSink) -> None:
        self.base_url = base_url
        self.netloc = urlsplit(base_url).netloc
        self.folder = folder
        self.env = env
        self.mail = mail

    @contextlib.contextmanager
    def anonymous(self) -> Iterator[httpx.Client]:
        """An API client without an account (no session cookie: no CSRF token needed)."""
        with httpx.Client(base_url=self.base_url, timeout=30) as client:
            yield client

    @contextlib.contextmanager
    def api(self, login: str, password: str) -> Iterator[httpx.Client]:
        """An API client logged in as ``login`` (bearer token), for preparing data."""
        with self.anonymous() as client:
            r = client.post("/api/v1/auth/login", json={"login": login, "password": password})
            assert r.status_code == 200, r.text
            client.cookies.clear()
            client.headers["Authorization"] = "Bearer " + r.json()["token"]
            yield client


def _run(args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(  # noqa: S603 - our own CLI
        [str(BIN / "aspirasi"), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, f"aspirasi {' '.join(args)}:\n{result.stdout}{result.stderr}"
    return result.stdout


@pytest.fixture(scope="session")
def server(
    chromium: str, mail: MailSink, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """``make run``: ``aspirasi db upgrade``, ``aspirasi demo``, ``aspirasi serve``."""
    folder = tmp_path_factory.mktemp("server")
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASPIRASI_")}
    env.update(
        ASPIRASI_DEMO="1",
        ASPIRASI_DATABASE_URL=f"sqlite:///{folder / 'aspirasi.db'}",
        ASPIRASI_STORAGE_PATH=str(folder / "storage"),
        ASPIRASI_BASE_URL=base_url,
        ASPIRASI_SMTP_HOST="127.0.0.1",
        ASPIRASI_SMTP_PORT=str(mail.port),
        ASPIRASI_SMTP_STARTTLS="0",
        ASPIRASI_LOG_LEVEL="WARNING",
        ASPIRASI_SOCIAL_LINKS=DEMO_SOCIAL_LINKS,
        # A short pause between verification links: the waiting page's countdown
        # ends within a test (test_ux).
        ASPIRASI_VERIFICATION_RESEND_SECONDS=str(RESEND_SECONDS),
        **GENEROUS_LIMITS,
    )
    _run(["db", "upgrade"], env)
    demo_out = _run(["demo"], env)
    assert "warga" in demo_out
    log = (folder / "serve.log").open("w")
    proc = subprocess.Popen(  # noqa: S603 - our own CLI
        [str(BIN / "aspirasi"), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (folder / "serve.log").read_text()
            try:
                with urllib.request.urlopen(base_url + "/", timeout=2) as r:  # noqa: S310
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the server did not answer within 60 s"
            time.sleep(0.2)
        yield Server(base_url, folder, env, mail)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            code = None
        log.close()
        output = (folder / "serve.log").read_text()
        assert code == 0, f"the server did not stop cleanly on SIGINT (exit {code}):\n{output}"
        assert "Traceback" not in output, output


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Any]:
    # Module scope: the sync API runs an event loop in the main thread until it
    # stops, which would break later tests that start their own (anyio.run).
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="session")
def translations() -> Translations:
    return Translations("Asia/Makassar", [str(LAND_ISSUE_LOCALE), str(EVALUATOR_LOCALE)])


def open_menu_to(ui: UI, name: str | re.Pattern[str], role: str = "link") -> None:
    """Open the main menu's disclosures (the phone's menu button, a group such as
    "Administration") that hide the entry ``name``, as a person would: by clicking their
    summaries, outermost first. Nothing is clicked when the entry is visible already."""
    menu = ui.page.get_by_role("navigation", name=ui.t("Main menu"))
    entry = menu.get_by_role(role, name=name, exact=True, include_hidden=True)
    if entry.is_visible():
        return
    for summary in entry.locator("xpath=ancestor::details/summary").all():
        if summary.is_visible() and summary.locator("xpath=..").get_attribute("open") is None:
            summary.click()


class UI:
    """One person's browser tab, in one language, recording what went wrong."""

    def __init__(
        self, page: Any, server: Server, lang: str, name: str, translations: Translations
    ) -> None:
        self.page = page
        self.server = server
        self.lang = lang
        self._t = translations.get(lang)
        self.folder = ARTIFACTS / name
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.shots = 0
        self.console_errors: list[str] = []
        self.foreign_requests: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.console_errors.append(f"pageerror: {exc}"))
        page.on("request", self._on_request)
        page.on("dialog", lambda dialog: dialog.accept())

    def _on_console(self, msg: Any) -> None:
        if msg.type == "error":
            self.console_errors.append(f"console: {msg.text} ({msg.location.get('url')})")

    def _on_request(self, request: Any) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "blob", "about"):
            return
        if parts.netloc != self.server.netloc:
            self.foreign_requests.append(request.url)

    # -- words
    def t(self, msgid: str, **params: Any) -> str:
        """The app's own translation of ``msgid`` in this tab's language."""
        return self._t.gettext(msgid, **params)

    def date(self, day: date) -> str:
        """A day as the app shows it in this tab's language (the short date style)."""
        return self._t.date(day)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """The app's own plural form for ``n`` in this tab's language."""
        return self._t.ngettext(singular, plural, n)

    def label(self, msgid: str, **params: Any) -> re.Pattern[str]:
        """A field's whole label (the required-field star aside), for ``get_by_label``."""
        return re.compile(r"^\s*" + re.escape(self.t(msgid, **params)) + r"\s*\*?\s*$")

    # -- moving around
    def goto(self, path: str) -> Any:
        response = self.page.goto(self.server.base_url + path)
        assert response is not None and response.ok, f"{path}: {response and response.status}"
        return response

    def shot(self, label: str) -> None:
        """Screenshots of the current page at every width."""
        self.shots += 1
        slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
        for width in WIDTHS:
            self.page.set_viewport_size({"width": width, "height": 800})
            self.page.screenshot(
                path=str(self.folder / f"{self.shots:02d}-{slug}-{width}.png"), full_page=True
            )
        self.page.set_viewport_size({"width": 1280, "height": 800})

    def login(self, login: str, password: str, *, first: bool = False) -> None:
        """Log in; ``first``: the first time after verifying the address in this
        browser, greeted with a welcome rather than "welcome back"."""
        self.goto("/login")
        self.page.get_by_label(self.label("Username or e-mail")).fill(login)
        self.page.get_by_label(self.label("Password")).fill(password)
        self.page.locator("main").get_by_role("button", name=self.t("Log in")).click()
        self.page.wait_for_load_state()
        welcome = "Welcome! Your account is ready: you can send your first message now."
        self.expect_text(self.t(welcome if first else "Welcome back."))

    def logout(self) -> None:
        open_menu_to(self, re.compile(re.escape(self.t("Log out"))), "button")
        self.page.get_by_role("button", name=re.compile(re.escape(self.t("Log out")))).click()
        self.page.wait_for_load_state()
        self.expect_text(self.t("You have logged out."))

    def expect_text(self, text: str) -> None:
        from playwright.sync_api import expect

        expect(self.page.locator("body")).to_contain_text(text)

    def expect_heading(self, text: str) -> None:
        from playwright.sync_api import expect

        expect(self.page.get_by_role("heading", level=1)).to_contain_text(text)

    # -- accessibility
    def axe(self, label: str) -> None:
        """axe-core on the current page; serious and critical violations fail."""
        if not self.page.evaluate("typeof window.axe !== 'undefined'"):
            # The page's CSP forbids inline scripts; evaluating through the
            # DevTools protocol is not subject to it.
            self.page.evaluate(AXE.read_text(encoding="utf-8"))
        result = self.page.evaluate(
            "async () => await axe.run(document, {resultTypes: ['violations']})"
        )
        bad = [v for v in result["violations"] if v.get("impact") in ("serious", "critical")]
        if bad:
            lines = [f"axe on {label} ({self.page.url}):"]
            for v in bad:
                lines.append(f"  [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
                for node in v["nodes"][:5]:
                    lines.append(f"      {node['target']}: {node['html'][:160]}")
                    if node.get("failureSummary"):
                        summary = node["failureSummary"].replace("\n", " ")
                        lines.append(f"        {summary[:300]}")
            raise AssertionError("\n".join(lines))

    def check_clean(self) -> None:
        assert not self.console_errors, "console errors:\n" + "\n".join(self.console_errors)
        assert not self.foreign_requests, "requests to other hosts:\n" + "\n".join(
            self.foreign_requests
        )


@pytest.fixture
def make_ui(
    browser: Any, server: Server, translations: Translations, request: pytest.FixtureRequest
) -> Iterator[Any]:
    """``make_ui(lang, who="")`` opens a fresh browser context (its own cookies)."""
    opened: list[tuple[Any, UI]] = []
    base = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")

    def make(lang: str, who: str = "") -> UI:
        context = browser.new_context(
            viewport={"width": 1280, "height": 800}, locale="id-ID" if lang == "id" else "en-US"
        )
        context.set_default_timeout(15_000)
        context.add_cookies([{"name": "lang", "value": lang, "url": server.base_url}])
        page = context.new_page()
        name = base + (f"-{who}" if who else "")
        ui = UI(page, server, lang, name, translations)
        opened.append((context, ui))
        return ui

    yield make
    failures = []
    for context, ui in opened:
        try:
            ui.check_clean()
        except AssertionError as exc:
            failures.append(str(exc))
        context.close()
    assert not failures, "\n".join(failures)


def pytest_report_header(config: Any) -> str:
    return f"browser tests: chromium={shutil.which('chromium')}, artifacts={ARTIFACTS}"
