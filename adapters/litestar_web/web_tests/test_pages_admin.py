"""Super-admin pages: accounts, agencies, categories, outbox."""

from __future__ import annotations

import pytest

from .test_pages_backoffice_support import csrf_field, login, set_lang
from .world import WebWorld

ADMIN_PAGES = ("/admin/users", "/admin/agencies", "/admin/categories", "/admin/outbox")


def test_super_admin_creates_an_operator_who_can_log_in(web: WebWorld) -> None:
    login(web, "root")
    page = web.client.get("/admin/users")
    assert page.status_code == 200 and "op_pupr" in page.text
    assert 'name="permissions"' in web.client.get("/admin/users/new").text
    r = web.client.post(
        "/admin/users",
        data={
            **csrf_field(web),
            "email": "op-baru@example.org",
            "username": "op_baru",
            "full_name": "Operator Baru",
            "password": "sangat-panjang-sekali-123",
            "role": "operator",
            "agency_id": str(web.ids["agency_dinkes"]),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    created = web.core.deps.db.run_sync(lambda uow: uow.accounts.find_by_login("op_baru"))
    assert created.role == "operator" and created.agency_id == web.ids["agency_dinkes"]
    listing = web.client.get("/admin/users", params={"role": "operator", "q": "baru"})
    assert "op_baru" in listing.text and "op_pupr" not in listing.text
    # edit: grant a permission, then deactivate
    grantable = sorted(web.core.deps.policy.grantable())
    edit = web.client.get(f"/admin/users/{created.id}")
    assert edit.status_code == 200
    r = web.client.post(
        f"/admin/users/{created.id}",
        data={
            **csrf_field(web),
            "full_name": "Operator Baru",
            "role": "operator",
            "agency_id": str(web.ids["agency_pupr"]),
            "permissions": grantable[:1],
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    after = web.core.deps.db.run_sync(lambda uow: uow.accounts.get(created.id))
    assert after.agency_id == web.ids["agency_pupr"]
    assert set(after.permissions) == set(grantable[:1])
    r = web.client.post(
        f"/admin/users/{created.id}/active",
        data={**csrf_field(web), "active": "0"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert not web.core.deps.db.run_sync(lambda uow: uow.accounts.get(created.id)).is_active
    r = web.client.post(
        f"/admin/users/{created.id}/active",
        data={**csrf_field(web), "active": "1"},
        follow_redirects=False,
    )
    assert web.core.deps.db.run_sync(lambda uow: uow.accounts.get(created.id)).is_active


def test_create_account_errors_are_shown_next_to_the_fields(web: WebWorld) -> None:
    login(web, "root")
    for lang, phrase in (("id", "perangkat daerah"), ("en", "An operator belongs to an agency")):
        set_lang(web, lang)
        r = web.client.post(
            "/admin/users",
            data={
                **csrf_field(web),
                "email": "x@example.org",
                "username": "op_x",
                "full_name": "X",
                "password": "sangat-panjang-sekali-123",
                "role": "operator",
                "agency_id": "",
            },
        )
        assert r.status_code == 422
        assert phrase in r.text and 'id="e-agency_id"' in r.text
        assert 'value="op_x"' in r.text  # kept
    assert web.core.deps.db.run_sync(lambda uow: uow.accounts.find_by_login("op_x")) is None


def test_super_admin_manages_sub_categories_and_agencies(web: WebWorld) -> None:
    login(web, "root")
    page = web.client.get("/admin/categories")
    assert page.status_code == 200 and "Infrastruktur" in page.text
    r = web.client.post(
        "/admin/subcategories",
        data={
            **csrf_field(web),
            "category_id": str(web.ids["cat_aduan"]),
            "code": "kesehatan",
            "name": "Layanan kesehatan",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    subs = web.core.deps.db.run_sync(lambda uow: uow.directory.subcategories(web.ids["cat_aduan"]))
    sub = next(s for s in subs if s.code == "kesehatan")
    assert "Layanan kesehatan" in web.client.get("/admin/categories").text
    # duplicate code: refused, shown, nothing written
    r = web.client.post(
        "/admin/subcategories",
        data={
            **csrf_field(web),
            "category_id": str(web.ids["cat_aduan"]),
            "code": "kesehatan",
            "name": "Lagi",
        },
    )
    assert r.status_code == 422 and 'aria-invalid="true"' in r.text
    r = web.client.post(
        f"/admin/subcategories/{sub.id}",
        data={**csrf_field(web), "name": "Kesehatan"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    r = web.client.post(
        f"/admin/subcategories/{sub.id}/active",
        data={**csrf_field(web), "active": "0"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert not web.core.deps.db.run_sync(lambda uow: uow.directory.subcategory(sub.id)).is_active
    r = web.client.post(
        "/admin/categories",
        data={**csrf_field(web), "code": "informasi", "name": "Informasi"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    r = web.client.post(
        f"/admin/categories/{web.ids['cat_aduan']}",
        data={**csrf_field(web), "name": "Aduan"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    # agencies
    r = web.client.post(
        "/admin/agencies",
        data={**csrf_field(web), "code": "biro-ekonomi", "name": "Biro Perekonomian"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert "Biro Perekonomian" in web.client.get("/admin/agencies").text
    r = web.client.post("/admin/agencies", data={**csrf_field(web), "code": "", "name": ""})
    assert r.status_code == 422 and 'aria-invalid="true"' in r.text
    aid = web.ids["agency_dinkes"]
    r = web.client.post(
        f"/admin/agencies/{aid}",
        data={**csrf_field(web), "name": "Dinas Kesehatan"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    r = web.client.post(
        f"/admin/agencies/{aid}/active",
        data={**csrf_field(web), "active": "0"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert not web.core.deps.db.run_sync(lambda uow: uow.directory.agency(aid)).is_active


def test_outbox_page(web: WebWorld) -> None:
    login(web, "root")
    r = web.client.get("/admin/outbox")
    assert r.status_code == 200
    assert web.client.post("/admin/outbox/999999/retry", data=csrf_field(web)).status_code == 404


@pytest.mark.parametrize("username", ["admin", "op_pupr", "ani"])
def test_non_super_admins_get_403(web: WebWorld, username: str) -> None:
    login(web, username)
    for path in ADMIN_PAGES:
        assert web.client.get(path, follow_redirects=False).status_code == 403, path
    r = web.client.post(
        "/admin/users",
        data={
            **csrf_field(web),
            "email": "y@example.org",
            "username": "y",
            "full_name": "Y",
            "password": "sangat-panjang-sekali-123",
            "role": "admin",
        },
        follow_redirects=False,
    )
    assert r.status_code == 403
    r = web.client.post(
        "/admin/subcategories",
        data={
            **csrf_field(web),
            "category_id": str(web.ids["cat_aduan"]),
            "code": "z",
            "name": "Z",
        },
        follow_redirects=False,
    )
    assert r.status_code == 403


def test_account_edit_refusals(web: WebWorld) -> None:
    login(web, "root")
    op = web.ids["op_pupr"]
    r = web.client.post(
        f"/admin/users/{op}",
        data={**csrf_field(web), "role": "operator", "permissions": ["no.such"]},
    )
    assert r.status_code == 422 and "no.such" in r.text
    r = web.client.post(f"/admin/users/{op}/active", data=csrf_field(web))
    assert r.status_code == 422  # a bare POST changes nothing
    assert web.core.deps.db.run_sync(lambda uow: uow.accounts.get(op)).is_active
    set_lang(web, "en")
    r = web.client.post(
        f"/admin/users/{web.ids['root']}/active", data={**csrf_field(web), "active": "0"}
    )
    assert r.status_code == 409 and "You cannot demote or deactivate yourself." in r.text
    assert web.client.get("/admin/users/999999").status_code == 404
