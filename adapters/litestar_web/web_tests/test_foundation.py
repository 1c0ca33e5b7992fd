"""The foundation: headers, language, CSRF, errors."""

from __future__ import annotations

from .world import WebWorld


def test_home_in_both_languages_with_security_headers(web: WebWorld) -> None:
    r = web.client.get("/")
    assert r.status_code == 200
    assert "Beranda" in r.text and 'lang="id"' in r.text
    csp = r.headers["content-security-policy"]
    assert (
        "script-src 'self'" in csp
        and "object-src 'none'" in csp
        and "frame-ancestors 'none'" in csp
    )
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-request-id"]
    assert "<script>" not in r.text  # no inline script
    en = web.client.get("/lang/en?next=/", follow_redirects=True)
    assert 'lang="en"' in en.text and "Home" in en.text
    # remembered
    assert 'lang="en"' in web.client.get("/").text


def test_language_switch_refuses_open_redirects(web: WebWorld) -> None:
    for target in ("https://evil.example/", "//evil.example/", "/\\evil"):
        r = web.client.get("/lang/en", params={"next": target}, follow_redirects=False)
        assert r.headers["location"] == "/"


def test_brand_assets(web: WebWorld) -> None:
    assert web.client.get("/brand.css").text.strip() == ":root { --brand: #0b5d3b; }"
    logo = web.client.get("/brand/logo")
    assert logo.status_code == 200 and logo.headers["content-type"].startswith("image/svg")


def test_unknown_page_is_a_translated_404(web: WebWorld) -> None:
    r = web.client.get("/no/such/page")
    assert r.status_code == 404 and "Halaman tidak ditemukan." in r.text
    api = web.client.get("/api/v1/no/such")
    assert api.status_code == 404
    assert api.headers["content-type"].startswith("application/problem+json")
    assert api.json()["code"] == "not_found"


def test_wrong_status_errors_name_status_and_action_in_words() -> None:
    from aspirasi_core.domain.errors import IllegalTransition
    from aspirasi_web.i18n import Translations

    translations = Translations("Asia/Makassar")
    text_id = translations.get("id").error(IllegalTransition("forwarded", "withdraw"))
    assert (
        text_id == "Tindakan 'tarik' tidak dapat dilakukan saat status pesan 'Belum dikonfirmasi'."
    )
    text_en = translations.get("en").error(IllegalTransition("in_progress", "reply"))
    assert (
        text_en
        == "The action 'send the reply' is not possible while the message is 'Being handled'."
    )


def test_pages_are_indonesian_first_whatever_the_browser_says(web: WebWorld) -> None:
    english_browser = {"Accept-Language": "en-US,en;q=0.9"}
    assert 'lang="id"' in web.client.get("/", headers=english_browser).text
    api = web.client.get("/api/v1/no/such", headers=english_browser)
    assert api.json()["detail"] == "The page was not found."


def test_a_signed_in_account_is_answered_in_its_own_language_unless_the_request_asks(
    web: WebWorld,
) -> None:
    """The language saved in one's settings, on every device: an API client's
    answers and a browser's pages without a language cookie, unless the request
    chooses (``Accept-Language`` for the API, ``?lang=`` or the cookie)."""
    bearer = {"Authorization": f"Bearer {web.token('ani')}"}
    r = web.client.patch("/api/v1/me", json={"language": "en"}, headers=bearer)
    assert r.status_code == 200, r.text
    # ani is verified: the correction of the address is refused, in her language
    refused = web.client.post("/api/v1/auth/verification-email", json={}, headers=bearer)
    assert refused.json()["detail"] == "Your e-mail address is already verified.", refused.text
    asked = web.client.post(
        "/api/v1/auth/verification-email", json={}, headers={**bearer, "Accept-Language": "id"}
    )
    assert asked.json()["code"] == "already_verified"
    assert asked.json()["detail"] != refused.json()["detail"]
    web.client.cookies.clear()
    web.login("ani")
    web.client.cookies.delete("lang")
    assert 'lang="en"' in web.client.get("/").text
    assert 'lang="id"' in web.client.get("/?lang=id").text


def test_a_client_that_leaves_mid_upload_is_logged_as_gone_not_as_a_server_error(
    web: WebWorld,
) -> None:
    import anyio
    from structlog.testing import capture_logs

    token = web.token("ani")
    messages = [
        {
            "type": "http.request",
            "body": b'--b\r\nContent-Disposition: form-data; name="title"\r\n\r\nhal',
            "more_body": True,
        },
        {"type": "http.disconnect"},
    ]
    sent: list[dict] = []

    async def receive() -> dict:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/messages",
        "raw_path": b"/api/v1/messages",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"127.0.0.1:8000"),
            (b"authorization", f"Bearer {token}".encode()),
            (b"content-type", b"multipart/form-data; boundary=b"),
            (b"content-length", b"5000"),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    with capture_logs() as logs:
        anyio.run(web.app, scope, receive, send)
    [line] = [entry for entry in logs if entry["event"] == "request"]
    assert line["status"] is None
    assert line["client_disconnected"] is True
    # What the app answered to nobody (Litestar's 500 for the unfinished body).
    assert line["unsent_status"] == 500
    assert sent == []  # nothing is sent to a client that has gone
    assert not [entry for entry in logs if entry.get("log_level") == "error"]


def test_a_production_worker_freezes_its_start_up_heap(sqlite_database, tmp_path) -> None:
    import gc

    import attrs
    from litestar.testing import TestClient

    from aspirasi_core.bootstrap import bootstrap
    from aspirasi_core.plugins import create_plugin_manager
    from aspirasi_web import hookspecs as web_hookspecs
    from aspirasi_web.app import create_app

    from .world import make_settings

    def frozen_after_start(settings, **options) -> int:
        pm = create_plugin_manager(settings, extra_hookspecs=[web_hookspecs])
        core = bootstrap(settings, plugin_manager=pm, database=sqlite_database)
        gc.unfreeze()
        with TestClient(app=create_app(aspirasi=core, run_outbox=False, **options)):
            count = gc.get_freeze_count()
        gc.unfreeze()  # give the test process its objects back
        return count

    development = make_settings(tmp_path)
    production = attrs.evolve(
        development,
        env="production",
        smtp_host="127.0.0.1",
        base_url="https://aspirasi.example",
        secret_key="p9Xw-2kqLr_84TfZ0vYhNc3mBsA7eDgJ",  # production refuses the weak test key
    )
    assert frozen_after_start(production) > 10_000
    assert frozen_after_start(development) == 0
    assert frozen_after_start(development, freeze_heap=True) > 10_000
