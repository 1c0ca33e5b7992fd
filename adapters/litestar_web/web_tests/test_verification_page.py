"""Issue 23.4 through HTTP: a reply PDF the citizen downloads carries the ticket
and the hash of the reply's log entry in its metadata; ``/verifikasi`` says that
hash is a genuine entry (ticket, date, step; only "valid" for a confidential or
anonymous message) and lists the daily roots, in Indonesian and English; a bad
hash is a clear error on the form, never a 500."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pypdf import PdfReader

from aspirasi_core.testing import FakeClock

from .api_support import ApiWorld, build_world, pdf_bytes

PAGE = "/verifikasi"


@pytest.fixture
def api(sqlite_database: Any, tmp_path: Any) -> Iterator[ApiWorld]:
    yield from build_world(sqlite_database, tmp_path)


def _answered(api: ApiWorld, **extra: Any) -> tuple[int, str]:
    """A message replied to with a PDF the sender may read: (id, ticket)."""
    r = api.client.post(
        "/api/v1/messages",
        json={"subject": "Jalan rusak", "body": "Berlubang di KM 5.", **extra},
        headers=api.bearer("ani"),
    )
    assert r.status_code == 201, r.text
    mid, ticket = r.json()["id"], r.json()["ticket"]
    r = api.client.post(
        f"/api/v1/messages/{mid}/forward",
        json={
            "category_id": api.ids["cat_aduan"],
            "subcategory_id": api.ids["sub_infra"],
            "agency_id": api.ids["agency_pupr"],
        },
        headers=api.bearer("admin"),
    )
    assert r.status_code == 200, r.text
    r = api.client.post(f"/api/v1/messages/{mid}/start", json={}, headers=api.bearer("op_pupr"))
    assert r.status_code == 200, r.text
    r = api.client.post(
        f"/api/v1/messages/{mid}/reply",
        data={"answer": "Sudah ditambal.", "visibility": "sender"},
        files={"attachment": ("jawaban.pdf", pdf_bytes(), "application/pdf")},
        headers=api.bearer("op_pupr"),
    )
    assert r.status_code == 200, r.text
    return mid, ticket


def _pdf_metadata(api: ApiWorld, mid: int) -> dict[str, Any]:
    own = api.client.get(f"/api/v1/messages/{mid}", headers=api.bearer("ani")).json()
    r = api.client.get(own["reply"]["attachment"]["url"], headers=api.bearer("ani"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/pdf")
    meta = PdfReader(io.BytesIO(r.content)).metadata
    assert meta is not None
    return dict(meta)


def test_the_reply_pdf_carries_its_hash_and_the_page_confirms_it(api: ApiWorld) -> None:
    mid, ticket = _answered(api)
    meta = _pdf_metadata(api, mid)
    assert meta["/AspirasiTicket"] == ticket
    digest = meta["/AspirasiEntryHash"]
    assert len(digest) == 64 and digest in meta["/Keywords"]
    page = api.client.get(PAGE, params={"hash": digest.upper()})
    assert page.status_code == 200
    assert "Sah: ini entri asli dari catatan." in page.text
    assert ticket in page.text and "Dibalas" in page.text
    assert "Berlubang" not in page.text and "Sudah ditambal" not in page.text
    api.client.cookies.set("lang", "en")
    english = api.client.get(PAGE, params={"hash": digest})
    api.client.cookies.delete("lang")
    assert "Valid: this is a genuine entry of the record." in english.text
    assert "Replied" in english.text

    unknown = api.client.get(PAGE, params={"hash": "0" * 64})
    assert unknown.status_code == 200 and "Tidak ditemukan" in unknown.text
    assert ticket not in unknown.text


def test_an_anonymous_message_is_only_said_to_be_valid(api: ApiWorld) -> None:
    mid, ticket = _answered(api, anonymous=True)
    digest = _pdf_metadata(api, mid)["/AspirasiEntryHash"]
    page = api.client.get(PAGE, params={"hash": digest})
    assert "Sah: ini entri asli dari catatan." in page.text
    assert ticket not in page.text and "Dibalas" not in page.text


@pytest.mark.parametrize("bad", ["abc", "g" * 64, "0" * 65, "<script>" * 30])
def test_a_bad_hash_is_shown_again_with_a_clear_error(api: ApiWorld, bad: str) -> None:
    page = api.client.get(PAGE, params={"hash": bad})
    assert page.status_code == 422
    assert "Masukkan kode hash sepanjang 64 karakter" in page.text
    assert "<script>" not in page.text


def test_the_page_lists_the_daily_roots(api: ApiWorld) -> None:
    _answered(api)
    assert "Belum ada akar harian yang ditulis." in api.client.get(PAGE).text
    deps = api.core.deps
    real = deps.clock
    deps.clock = FakeClock(datetime.now(UTC) + timedelta(days=2))  # the day is over
    try:
        assert api.core.log_chain.seal_sync() >= 1
    finally:
        deps.clock = real
    assert api.core.log_chain.verify_sync().ok
    roots = deps.db.run_sync(lambda uow: uow.log_chain.recent_roots(5), write=False)
    page = api.client.get(PAGE)
    assert all(r.root in page.text for r in roots)
    assert 'href="/verifikasi"' in page.text  # linked from every page's footer


def test_the_api_checks_a_hash_and_lists_the_roots(api: ApiWorld) -> None:
    mid, ticket = _answered(api)
    digest = _pdf_metadata(api, mid)["/AspirasiEntryHash"]
    r = api.client.get(f"/api/v1/public/record/entries/{digest}")
    assert r.status_code == 200
    body = r.json()
    assert body["valid"] is True and body["restricted"] is False
    assert (body["ticket"], body["action"]) == (ticket, "reply") and body["at"]
    assert api.client.get(f"/api/v1/public/record/entries/{'a' * 64}").json() == {"valid": False}
    bad = api.client.get("/api/v1/public/record/entries/xyz")
    assert bad.status_code == 422 and bad.json()["code"] == "bad_hash"
    hidden_mid, _ = _answered(api, confidential=True)
    hidden = _pdf_metadata(api, hidden_mid)["/AspirasiEntryHash"]
    assert api.client.get(f"/api/v1/public/record/entries/{hidden}").json() == {
        "valid": True,
        "restricted": True,
    }
    roots = api.client.get("/api/v1/public/record/roots", params={"limit": "5"})
    assert roots.status_code == 200 and roots.json() == {"items": [], "next_cursor": None}
    assert api.client.get("/api/v1/public/record/roots", params={"limit": "0"}).status_code == 422
