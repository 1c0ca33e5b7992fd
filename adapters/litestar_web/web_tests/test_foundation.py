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
