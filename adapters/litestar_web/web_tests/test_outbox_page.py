"""The super admin's outbox page: totals per status, how many dead letters match
and when the list is cut short, and one click retrying all of them (or those of
a filter) in one transaction."""

from __future__ import annotations

from datetime import UTC, datetime

from .test_pages_backoffice_support import csrf_field, login
from .world import WebWorld

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def _dead_letters(web: WebWorld) -> None:
    def fill(uow) -> None:  # type: ignore[no-untyped-def]
        for topic, error, n in (
            ("email", "SMTPRecipientsRefused: <address> refused", 180),
            ("email", "ConnectionRefusedError: Connection refused", 50),
            ("webhook", "HTTP 500", 20),
        ):
            for _ in range(n):
                uow.outbox.fail(uow.outbox.add(topic, {}, created_at=NOW), error, retry_at=None)

    web.core.deps.db.run_sync(fill)


def test_the_outbox_page_counts_and_retries_in_bulk(web: WebWorld) -> None:
    _dead_letters(web)
    pending_before = web.core.deps.db.run_sync(lambda uow: uow.outbox.totals())["pending"]
    login(web, "root")
    page = web.client.get("/admin/outbox?lang=en")
    assert page.status_code == 200
    assert "Showing the oldest 200 of 250 dead letters." in page.text
    assert "Retry all 250 dead letters" in page.text
    assert page.text.count('action="/admin/outbox/') == 201  # 200 items and the bulk button
    assert f"<td>{pending_before}</td>" in page.text and "<td>250</td>" in page.text

    filtered = web.client.get("/admin/outbox", params={"error": "connection refused", "lang": "en"})
    assert "50 dead letters." in filtered.text and "cut short" not in filtered.text
    assert "Retry the 50 dead letters of this filter" in filtered.text

    retried = web.client.post(
        "/admin/outbox/retry",
        data={**csrf_field(web), "error": "connection refused", "topic": ""},
        follow_redirects=False,
    )
    assert retried.status_code == 303
    assert retried.headers["location"] == "/admin/outbox?error=connection+refused&retried=50"
    after = web.client.get(retried.headers["location"] + "&lang=en")
    assert "50 dead letters were queued again." in after.text
    assert "No dead letters." in after.text  # none left under this filter
    totals = web.core.deps.db.run_sync(lambda uow: uow.outbox.totals())
    assert totals["dead"] == 200 and totals["pending"] == pending_before + 50

    everything = web.client.post(
        "/admin/outbox/retry", data=csrf_field(web), follow_redirects=False
    )
    assert everything.headers["location"] == "/admin/outbox?retried=200"
    assert web.core.deps.db.run_sync(lambda uow: uow.outbox.totals())["dead"] == 0
    indonesian = web.client.get("/admin/outbox?retried=200&lang=id")
    assert "200 pesan gagal terkirim diantrekan lagi." in indonesian.text


def test_the_bulk_retry_needs_the_csrf_token_and_a_super_admin(web: WebWorld) -> None:
    _dead_letters(web)
    login(web, "admin")
    assert web.client.post("/admin/outbox/retry", data=csrf_field(web)).status_code == 403
    web.client.cookies.clear()
    login(web, "root")
    assert web.client.post("/admin/outbox/retry", data={"_csrf_token": "wrong"}).status_code == 403
    assert web.core.deps.db.run_sync(lambda uow: uow.outbox.totals())["dead"] == 250
