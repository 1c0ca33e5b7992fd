"""The super admin's page of Open311 keys: access, issuing (shown once, only the
hash stored), validation, revocation, and keys of accounts that can no longer file."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import select

from aspirasi_core.services import Context
from aspirasi_core.services.accounts import RegisterInput
from aspirasi_core.services.admin import AccountChanges
from aspirasi_open311.tables import api_keys

BASE = "/open311/v2"


def rows(world):
    return world.core.deps.db.run_sync(
        lambda uow: [dict(r._mapping) for r in uow.execute(select(api_keys)).all()], write=False
    )


def post_form(world, **fields):
    world.login("root")
    data = {"client_name": "Aplikasi", "account": "kota", "rate_limit": "", **fields}
    return world.client.post("/admin/open311/keys", data={**data, "_csrf_token": world.csrf()})


def test_only_the_super_admin_reaches_the_page(world):
    world.client.cookies.clear()
    anonymous = world.client.get("/admin/open311", follow_redirects=False)
    assert anonymous.status_code == 302 and anonymous.headers["location"].startswith("/login")
    for username in ("admin", "op_pupr", "ani"):
        world.login(username)
        assert world.client.get("/admin/open311").status_code == 403, username
        refused = world.client.post(
            "/admin/open311/keys",
            data={"client_name": "X", "account": "kota", "_csrf_token": world.csrf()},
        )
        assert refused.status_code == 403
        assert 'href="/admin/open311"' not in world.client.get("/").text
    assert rows(world) == []
    world.login("root")
    page = world.client.get("/admin/open311")
    assert page.status_code == 200
    assert "Kunci API Open311" in page.text  # Indonesian by default
    assert 'href="/admin/open311"' in world.client.get("/").text
    assert "Open311 API keys" in world.client.get("/admin/open311?lang=en").text


def test_a_key_is_shown_once_and_only_its_hash_is_stored(world):
    answer = post_form(world, client_name="Aplikasi Kota Samarinda", rate_limit="10/minute")
    assert answer.status_code == 201
    assert answer.headers["cache-control"] == "no-store"
    [key] = re.findall(r'<code id="new-key">([^<]+)</code>', answer.text)
    assert key.startswith("o311_") and len(key) > 40
    [row] = rows(world)
    assert row["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
    assert key not in str(row)
    assert row["account_id"] == world.ids["kota"] and row["rate_limit"] == "10/minute"
    again = world.client.get("/admin/open311")
    assert key not in again.text
    assert "Aplikasi Kota Samarinda" in again.text and row["prefix"] in again.text
    assert world.client.get(f"{BASE}/requests.json", params={"api_key": key}).status_code == 200


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"client_name": ""}, "client_name"),
        ({"client_name": "x" * 200}, "client_name"),
        ({"account": ""}, "account"),
        ({"account": "nobody"}, "account"),
        ({"account": "admin"}, "account"),  # staff never file
        ({"account": "x" * 500}, "account"),
        ({"rate_limit": "lots"}, "rate_limit"),
        ({"rate_limit": "5/fortnight"}, "rate_limit"),
    ],
)
def test_bad_input_reshows_the_form_and_writes_nothing(world, fields, field):
    answer = post_form(world, **fields)
    assert answer.status_code == 422
    assert f'id="f-{field}"' in answer.text and 'aria-invalid="true"' in answer.text
    assert "new-key" not in answer.text
    assert rows(world) == []


def test_an_unverified_account_cannot_hold_a_key(world):
    async def go():
        return await world.core.accounts.register(
            Context(),
            RegisterInput(
                email="baru@example.org",
                username="baru",
                full_name="Baru",
                nik="6472045504910003",
                password="a-long-test-password",
                password_confirm="a-long-test-password",
            ),
        )

    world.run(go)
    assert post_form(world, account="baru").status_code == 422
    assert rows(world) == []


def test_the_form_needs_its_csrf_token(world):
    world.login("root")
    answer = world.client.post("/admin/open311/keys", data={"client_name": "X", "account": "kota"})
    assert answer.status_code == 403
    assert rows(world) == []


def test_revoking_an_unknown_key_is_not_found(world):
    world.login("root")
    for key_id in ("999", str(2**70)):
        answer = world.client.post(
            f"/admin/open311/keys/{key_id}/revoke", data={"_csrf_token": world.csrf()}
        )
        assert answer.status_code in (404, 400), key_id


def test_a_deactivated_account_stops_its_keys(world):
    key = world.issue_key()
    assert world.client.get(f"{BASE}/requests.json", params={"api_key": key}).status_code == 200

    async def go():
        await world.core.admin.update_account(
            world.ctx("root"), world.ids["kota"], AccountChanges(is_active=False)
        )

    world.run(go)
    answer = world.client.get(f"{BASE}/requests.json", params={"api_key": key})
    assert answer.status_code == 403
    assert answer.json() == [{"code": 403, "description": "api_key tidak valid."}]
