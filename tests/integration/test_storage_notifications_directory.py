"""NotificationRepository and DirectoryRepository on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from aspirasi_core.domain.errors import Conflict, NotFound
from aspirasi_core.domain.model import Agency, Category, Subcategory

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def test_notifications(database, make) -> None:
    ani, budi = make.account(role="admin"), make.account(role="admin")
    author = make.account()
    message = make.message(author.id)

    def notify(uow):
        first = uow.notifications.add_many(
            [ani.id, budi.id, ani.id],
            kind="message_submitted",
            message_id=message.id,
            text="New message %(ticket)s",
            params={"ticket": message.ticket},
            created_at=T0,
        )
        more = sum(
            uow.notifications.add_many(
                [ani.id],
                kind="note",
                message_id=None,
                text=f"n{i}",
                params={},
                created_at=T0 + timedelta(minutes=i + 1),
            )
            for i in range(4)
        )
        none = uow.notifications.add_many(
            [], kind="x", message_id=None, text="", params={}, created_at=T0
        )
        return first, more, none

    assert database.run_sync(notify) == (2, 4, 0)

    def listing(account_id, **kw):
        kw.setdefault("before_id", None)
        kw.setdefault("limit", 50)
        return database.run_sync(
            lambda uow: uow.notifications.list_for(account_id, **kw), write=False
        )

    mine = listing(ani.id)
    assert [n.text for n in mine] == ["n3", "n2", "n1", "n0", "New message %(ticket)s"]
    oldest = mine[-1]
    assert oldest.params == {"ticket": message.ticket} and oldest.message_id == message.id
    assert oldest.kind == "message_submitted" and oldest.created_at == T0
    assert oldest.created_at.tzinfo is UTC and oldest.read_at is None
    page1 = listing(ani.id, limit=2)
    page2 = listing(ani.id, before_id=page1[-1].id, limit=2)
    page3 = listing(ani.id, before_id=page2[-1].id, limit=2)
    assert page1 + page2 + page3 == mine
    assert database.run_sync(lambda uow: uow.notifications.unread_count(ani.id)) == 5

    # Any time zone in, the same instant out, in UTC.
    read_at = (T0 + timedelta(hours=1)).astimezone(timezone(timedelta(hours=8)))
    assert database.run_sync(lambda uow: uow.notifications.mark_read(ani.id, oldest.id, read_at))
    assert not database.run_sync(
        lambda uow: uow.notifications.mark_read(budi.id, oldest.id, read_at)
    )
    later = read_at + timedelta(hours=1)
    assert database.run_sync(lambda uow: uow.notifications.mark_read(ani.id, oldest.id, later))
    first_read = listing(ani.id)[-1].read_at
    assert first_read == read_at and first_read.tzinfo is UTC  # the first reading counts
    assert [n.id for n in listing(ani.id, unread_only=True)] == [n.id for n in mine[:-1]]
    assert database.run_sync(lambda uow: uow.notifications.unread_count(ani.id)) == 4
    assert database.run_sync(lambda uow: uow.notifications.mark_all_read(ani.id, later)) == 4
    assert database.run_sync(lambda uow: uow.notifications.mark_all_read(ani.id, later)) == 0
    assert listing(ani.id, unread_only=True) == []
    assert database.run_sync(lambda uow: uow.notifications.unread_count(budi.id)) == 1


def test_agencies(database) -> None:
    def run(fn):
        return database.run_sync(fn)

    pu = run(lambda uow: uow.directory.add_agency("dinas-pu", "Dinas Pekerjaan Umum"))
    bappeda = run(lambda uow: uow.directory.add_agency("bappeda", "Bappeda"))
    assert pu == Agency(id=pu.id, code="dinas-pu", name="Dinas Pekerjaan Umum", is_active=True)
    assert run(lambda uow: uow.directory.agency(pu.id)) == pu
    assert run(lambda uow: uow.directory.agency(pu.id + 100)) is None
    assert run(lambda uow: uow.directory.agency_by_code("bappeda")) == bappeda
    assert run(lambda uow: uow.directory.agency_by_code("nope")) is None
    assert run(lambda uow: uow.directory.agencies()) == [bappeda, pu]  # by name

    closed = run(
        lambda uow: uow.directory.update_agency(bappeda.id, is_active=False, name="Bapperida")
    )
    assert closed == Agency(bappeda.id, "bappeda", "Bapperida", is_active=False)
    assert run(lambda uow: uow.directory.agencies()) == [pu]
    assert run(lambda uow: uow.directory.agencies(include_inactive=True)) == [closed, pu]
    assert run(lambda uow: uow.directory.update_agency(pu.id)) == pu

    def duplicates(uow):
        with pytest.raises(Conflict) as caught:
            uow.directory.add_agency("dinas-pu", "Again")
        assert caught.value.code == "duplicate"
        with pytest.raises(Conflict):
            uow.directory.update_agency(bappeda.id, code="dinas-pu")
        return uow.directory.update_agency(bappeda.id, code="bapperida")

    assert run(duplicates).code == "bapperida"
    with pytest.raises(NotFound):
        run(lambda uow: uow.directory.update_agency(9999, name="x"))
    with pytest.raises(NotFound):
        run(lambda uow: uow.directory.update_agency(9999))
    with pytest.raises(TypeError):
        run(lambda uow: uow.directory.update_agency(pu.id, id=5))


def test_categories_and_subcategories(database) -> None:
    def run(fn):
        return database.run_sync(fn)

    aspirasi, aduan = run(lambda uow: uow.directory.categories())
    assert (aspirasi.code, aspirasi.name, aduan.code, aduan.name) == (
        "aspirasi",
        "Aspirasi",
        "aduan",
        "Aduan",
    )
    assert run(lambda uow: uow.directory.category(aduan.id)) == aduan
    assert run(lambda uow: uow.directory.category(aduan.id + 100)) is None
    assert run(lambda uow: uow.directory.category_by_code("aspirasi")) == aspirasi
    extra = run(lambda uow: uow.directory.add_category("lainnya", "Lainnya"))
    assert extra == Category(extra.id, "lainnya", "Lainnya")
    assert (
        run(lambda uow: uow.directory.update_category(extra.id, name="Lain-lain")).name
        == "Lain-lain"
    )
    with pytest.raises(Conflict):
        run(lambda uow: uow.directory.add_category("aduan", "Dup"))
    with pytest.raises(Conflict):
        run(lambda uow: uow.directory.update_category(extra.id, code="aduan"))
    with pytest.raises(NotFound):
        run(lambda uow: uow.directory.update_category(9999, name="x"))

    lahan = run(lambda uow: uow.directory.add_subcategory(aduan.id, "permasalahan-lahan", "Lahan"))
    jalan = run(lambda uow: uow.directory.add_subcategory(aduan.id, "jalan", "Jalan"))
    # The same code under another category is fine; twice under one is not.
    other = run(lambda uow: uow.directory.add_subcategory(aspirasi.id, "jalan", "Jalan"))
    with pytest.raises(Conflict) as caught:
        run(lambda uow: uow.directory.add_subcategory(aduan.id, "jalan", "Jalan lagi"))
    assert caught.value.code == "duplicate"
    assert lahan == Subcategory(lahan.id, aduan.id, "permasalahan-lahan", "Lahan", True)
    assert run(lambda uow: uow.directory.subcategory(lahan.id)) == lahan
    assert run(lambda uow: uow.directory.subcategory(lahan.id + 100)) is None
    assert run(lambda uow: uow.directory.subcategory_by_code(aduan.id, "jalan")) == jalan
    assert run(lambda uow: uow.directory.subcategory_by_code(aspirasi.id, "jalan")) == other
    assert run(lambda uow: uow.directory.subcategory_by_code(aspirasi.id, "nope")) is None
    assert run(lambda uow: uow.directory.subcategories(aduan.id)) == [jalan, lahan]
    assert run(lambda uow: uow.directory.subcategories()) == [jalan, other, lahan]

    hidden = run(lambda uow: uow.directory.update_subcategory(jalan.id, is_active=False))
    assert not hidden.is_active
    assert run(lambda uow: uow.directory.subcategories(aduan.id)) == [lahan]
    assert run(lambda uow: uow.directory.subcategories(aduan.id, include_inactive=True)) == [
        hidden,
        lahan,
    ]
    with pytest.raises(Conflict):
        run(lambda uow: uow.directory.update_subcategory(other.id, category_id=aduan.id))
    moved = run(
        lambda uow: uow.directory.update_subcategory(other.id, category_id=aduan.id, code="jalan-2")
    )
    assert (moved.category_id, moved.code) == (aduan.id, "jalan-2")
    with pytest.raises(NotFound):
        run(lambda uow: uow.directory.update_subcategory(9999, name="x"))
