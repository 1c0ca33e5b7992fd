"""Agencies, categories and sub-categories."""

from __future__ import annotations

import functools
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Select, Table, bindparam, delete, insert, select, true, update

from ...domain.errors import Conflict
from ...domain.model import Agency, Category, DayOff, Subcategory
from ..tables import agencies, categories, days_off, subcategories
from ._util import check_fields, execute_unique, not_found

_AGENCY_FIELDS = frozenset({"code", "name", "is_active"})
_CATEGORY_FIELDS = frozenset({"code", "name"})
_SUBCATEGORY_FIELDS = frozenset(
    {"category_id", "code", "name", "is_active", "sop_confirm_days", "sop_reply_days"}
)


def _agency(row: Any) -> Agency:
    return Agency(id=row.id, code=row.code, name=row.name, is_active=bool(row.is_active))


def _category(row: Any) -> Category:
    return Category(id=row.id, code=row.code, name=row.name)


def _subcategory(row: Any) -> Subcategory:
    return Subcategory(
        id=row.id,
        category_id=row.category_id,
        code=row.code,
        name=row.name,
        is_active=bool(row.is_active),
        sop_confirm_days=row.sop_confirm_days,
        sop_reply_days=row.sop_reply_days,
    )


def _duplicate(what: str, code: str) -> Conflict:
    return Conflict(
        "A %(what)s with the code %(code)s already exists.",
        code="duplicate",
        params={"what": what, "code": code},
    )


@functools.cache
def _days_off_statement(start: bool, end: bool) -> Select[Any]:
    """Days off, by date (every submission asks, to set its deadline)."""
    stmt = select(days_off).order_by(days_off.c.day)
    if start:
        stmt = stmt.where(days_off.c.day >= bindparam("start", type_=days_off.c.day.type))
    if end:
        stmt = stmt.where(days_off.c.day <= bindparam("end", type_=days_off.c.day.type))
    return stmt


class SqlDirectoryRepository:
    """:class:`~aspirasi_core.services.ports.DirectoryRepository`.

    Lists are sorted by name. Adding or renaming to a code already taken raises
    ``Conflict`` (code ``duplicate``); updating an unknown id raises ``NotFound``.
    """

    __slots__ = ("_conn",)

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def _one(self, table: Table, **where: Any) -> Any:
        stmt = select(table).where(*(table.c[k] == v for k, v in where.items()))
        return self._conn.execute(stmt).first()

    def _insert(self, table: Table, what: str, values: dict[str, Any], **unique: Any) -> int:
        rows = execute_unique(
            self._conn,
            insert(table).values(values).returning(table.c.id),
            conflict=lambda: (
                _duplicate(what, values["code"]) if self._one(table, **unique) else None
            ),
        )
        return int(rows[0].id)

    def _update(
        self, table: Table, what: str, ident: int, fields: dict[str, Any], unique: tuple[str, ...]
    ) -> Any:
        if fields:
            stmt = update(table).where(table.c.id == ident).values(fields).returning(table)

            def conflict() -> Conflict | None:
                current = self._one(table, id=ident)
                if current is None:
                    return None
                # Row._mapping is SQLAlchemy's public API (underscored only to stay
                # clear of column names).
                key = {k: fields.get(k, current._mapping[k]) for k in unique}  # noqa: SLF001
                clash = self._one(table, **key)
                return _duplicate(what, key["code"]) if clash and clash.id != ident else None

            rows = execute_unique(self._conn, stmt, conflict=conflict)
            row = rows[0] if rows else None
        else:
            row = self._one(table, id=ident)
        if row is None:
            raise not_found(what, ident)
        return row

    # ------------------------------------------------------------------ agencies
    def agencies(self, *, include_inactive: bool = False) -> list[Agency]:
        stmt = select(agencies)
        if not include_inactive:
            stmt = stmt.where(agencies.c.is_active == true())
        stmt = stmt.order_by(agencies.c.name, agencies.c.id)
        return [_agency(row) for row in self._conn.execute(stmt)]

    def agency(self, agency_id: int) -> Agency | None:
        row = self._one(agencies, id=agency_id)
        return _agency(row) if row else None

    def agency_by_code(self, code: str) -> Agency | None:
        row = self._one(agencies, code=code)
        return _agency(row) if row else None

    def add_agency(self, code: str, name: str) -> Agency:
        new_id = self._insert(
            agencies, "agency", {"code": code, "name": name, "is_active": True}, code=code
        )
        return Agency(id=new_id, code=code, name=name, is_active=True)

    def update_agency(self, agency_id: int, **fields: Any) -> Agency:
        """Change ``code``, ``name`` or ``is_active``."""
        check_fields(fields, _AGENCY_FIELDS)
        return _agency(self._update(agencies, "agency", agency_id, fields, ("code",)))

    # ------------------------------------------------------------------ categories
    def categories(self) -> list[Category]:
        stmt = select(categories).order_by(categories.c.id)
        return [_category(row) for row in self._conn.execute(stmt)]

    def category(self, category_id: int) -> Category | None:
        row = self._one(categories, id=category_id)
        return _category(row) if row else None

    def category_by_code(self, code: str) -> Category | None:
        row = self._one(categories, code=code)
        return _category(row) if row else None

    def add_category(self, code: str, name: str) -> Category:
        new_id = self._insert(categories, "category", {"code": code, "name": name}, code=code)
        return Category(id=new_id, code=code, name=name)

    def update_category(self, category_id: int, **fields: Any) -> Category:
        """Change ``code`` or ``name``."""
        check_fields(fields, _CATEGORY_FIELDS)
        return _category(self._update(categories, "category", category_id, fields, ("code",)))

    # ------------------------------------------------------------------ sub-categories
    def subcategories(
        self, category_id: int | None = None, *, include_inactive: bool = False
    ) -> list[Subcategory]:
        stmt = select(subcategories)
        if category_id is not None:
            stmt = stmt.where(subcategories.c.category_id == category_id)
        if not include_inactive:
            stmt = stmt.where(subcategories.c.is_active == true())
        stmt = stmt.order_by(subcategories.c.name, subcategories.c.id)
        return [_subcategory(row) for row in self._conn.execute(stmt)]

    def subcategory(self, subcategory_id: int) -> Subcategory | None:
        row = self._one(subcategories, id=subcategory_id)
        return _subcategory(row) if row else None

    def subcategory_by_code(self, category_id: int, code: str) -> Subcategory | None:
        row = self._one(subcategories, category_id=category_id, code=code)
        return _subcategory(row) if row else None

    def add_subcategory(self, category_id: int, code: str, name: str) -> Subcategory:
        """Codes are unique within their category."""
        values = {"category_id": category_id, "code": code, "name": name, "is_active": True}
        new_id = self._insert(
            subcategories, "subcategory", values, category_id=category_id, code=code
        )
        return Subcategory(id=new_id, category_id=category_id, code=code, name=name)

    def update_subcategory(self, subcategory_id: int, **fields: Any) -> Subcategory:
        """Change ``category_id``, ``code``, ``name``, ``is_active`` or the SOP days."""
        check_fields(fields, _SUBCATEGORY_FIELDS)
        row = self._update(
            subcategories, "subcategory", subcategory_id, fields, ("category_id", "code")
        )
        return _subcategory(row)

    # ------------------------------------------------------------------ days off
    def days_off(self, start: date | None = None, end: date | None = None) -> list[DayOff]:
        """Extra days off, by date; ``start`` and ``end`` are inclusive bounds."""
        stmt = _days_off_statement(start is not None, end is not None)
        params = {"start": start, "end": end}
        return [_day_off(row) for row in self._conn.execute(stmt, params).all()]

    def add_day_off(
        self, day: date, name: str, created_by: int | None, created_at: datetime
    ) -> DayOff:
        """Raises ``Conflict`` (``duplicate_day_off``) when the day is already off."""
        values = {"day": day, "name": name, "created_by": created_by, "created_at": created_at}

        def conflict() -> Conflict | None:
            if self._conn.execute(select(days_off.c.id).where(days_off.c.day == day)).first():
                return Conflict(
                    "%(day)s is already a day off.",
                    code="duplicate_day_off",
                    params={"day": day.isoformat()},
                )
            return None

        rows = execute_unique(
            self._conn, insert(days_off).values(values).returning(days_off.c.id), conflict=conflict
        )
        return DayOff(
            id=rows[0].id, day=day, name=name, created_at=created_at, created_by=created_by
        )

    def remove_day_off(self, day_off_id: int) -> DayOff | None:
        """Delete one; returns what was deleted (None when there was nothing)."""
        row = self._conn.execute(select(days_off).where(days_off.c.id == day_off_id)).first()
        if row is None:
            return None
        self._conn.execute(delete(days_off).where(days_off.c.id == day_off_id))
        return _day_off(row)


def _day_off(row: Any) -> DayOff:
    return DayOff(
        id=row.id,
        day=row.day,
        name=row.name,
        created_at=row.created_at,
        created_by=row.created_by,
    )
