"""The JSON shapes of SPEC.md ("Shapes the contract fixes") as msgspec structs:
the handlers return them, Litestar encodes them and documents them in the schema.
A field that is ``UNSET`` is left out of the answer (``overdue`` without a clock,
``nik_masked`` of someone else's account, what only the staff may read)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Generic, Literal, TypeVar, overload

import msgspec
from msgspec import UNSET, UnsetType

from aspirasi_core.domain.model import (
    Account,
    Agency,
    Category,
    DayOff,
    Notification,
    Status,
    Subcategory,
)
from aspirasi_core.domain.model import Page as CorePage
from aspirasi_core.services import PublicMessage, StaffDirectory, TrackedMessage

from ..i18n import Translator

API = "/api/v1"
T = TypeVar("T")


class Shape(msgspec.Struct, kw_only=True):
    pass


class Page(Shape, Generic[T]):
    """A list: ``next_cursor`` is null on the last page.

    ``next_cursor`` has no default: it is always in the answer, so the schema
    lists it as required (a generated client then never sees it "unset")."""

    items: list[T]
    next_cursor: str | None


@overload
def utc(value: datetime) -> datetime: ...
@overload
def utc(value: None) -> None: ...
@overload
def utc(value: datetime | None) -> datetime | None: ...
def utc(value: datetime | None) -> datetime | None:
    """A datetime in UTC (a naive one is taken to be UTC), for a shape's
    ``datetime`` field: msgspec encodes it as :func:`iso` writes it
    (``2026-11-02T01:00:00Z``, microseconds only when there are some), and the
    schema says ``format: date-time``."""
    if value is None or value.tzinfo is UTC:
        return value
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso(value: datetime | None) -> str | None:
    """A datetime as ISO 8601 in UTC (``2026-11-02T01:00:00Z``), for text outside
    the shapes (CSV, pages)."""
    value = utc(value)
    if value is None:
        return None
    return value.isoformat()[:-6] + "Z"  # "+00:00" → "Z"


def page_of(p: CorePage[Any], fn: Any) -> Page[Any]:
    return Page(items=[fn(x) for x in p.items], next_cursor=p.next_cursor)


class AccountOut(Shape):
    id: int
    email: str | None
    username: str | None
    full_name: str | None
    role: str
    agency_id: int | None
    permissions: list[str]
    is_active: bool
    email_verified: bool
    language: str
    created_at: datetime | None
    #: Set when the owner deleted the account (its personal data is gone).
    deleted_at: datetime | None
    nik_masked: str | UnsetType | None = UNSET
    #: One's own account only: the address asked for on the waiting page, where
    #: the verification links go (``email`` becomes it once one is used); null
    #: when none was asked for. The same whether or not another account has it.
    pending_email: str | UnsetType | None = UNSET


def account_json(a: Account, *, own: bool = False) -> AccountOut:
    return AccountOut(
        id=a.id,
        email=a.email,
        username=a.username,
        full_name=a.full_name,
        role=a.role,
        agency_id=a.agency_id,
        permissions=sorted(a.permissions),
        is_active=a.is_active,
        email_verified=a.verified,
        language=a.language,
        created_at=utc(a.created_at),
        deleted_at=utc(a.deleted_at),
        nik_masked=a.nik_masked if own or a.nik_masked else UNSET,
        pending_email=a.pending_email if own else UNSET,
    )


class AgencyOut(Shape):
    id: int
    code: str
    name: str
    is_active: bool


def agency_json(a: Agency) -> AgencyOut:
    return AgencyOut(id=a.id, code=a.code, name=a.name, is_active=a.is_active)


class CategoryOut(Shape):
    id: int
    code: str
    name: str


def category_json(c: Category) -> CategoryOut:
    return CategoryOut(id=c.id, code=c.code, name=c.name)


class SubcategoryOut(Shape):
    id: int
    category_id: int
    code: str
    name: str
    is_active: bool
    #: working days of the SOP stages; null = the default of the settings
    sop_confirm_days: int | None
    sop_reply_days: int | None


def subcategory_json(s: Subcategory) -> SubcategoryOut:
    return SubcategoryOut(
        id=s.id,
        category_id=s.category_id,
        code=s.code,
        name=s.name,
        is_active=s.is_active,
        sop_confirm_days=s.sop_confirm_days,
        sop_reply_days=s.sop_reply_days,
    )


class DirectorySubcategoryOut(Shape):
    """A sub-category a forward may choose (``is_active`` false: deactivated,
    listed with ``include_inactive`` only, refused by a forward)."""

    id: int
    code: str
    name: str
    is_active: bool


class DirectoryCategoryOut(Shape):
    """A category (never deactivated) with its sub-categories, by name."""

    id: int
    code: str
    name: str
    subcategories: list[DirectorySubcategoryOut]


class DirectoryOut(Shape):
    """What the back office chooses from: the ids of a forward's body and of the
    back-office list's filters. Categories by id, agencies by name."""

    categories: list[DirectoryCategoryOut]
    agencies: list[AgencyOut]


def directory_json(d: StaffDirectory) -> DirectoryOut:
    """The directory with each category's sub-categories under it."""
    subs: dict[int, list[DirectorySubcategoryOut]] = {c.id: [] for c in d.categories}
    for s in d.subcategories:
        subs.setdefault(s.category_id, []).append(
            DirectorySubcategoryOut(id=s.id, code=s.code, name=s.name, is_active=s.is_active)
        )
    return DirectoryOut(
        categories=[
            DirectoryCategoryOut(id=c.id, code=c.code, name=c.name, subcategories=subs[c.id])
            for c in d.categories
        ],
        agencies=[agency_json(a) for a in d.agencies],
    )


class PublicMessageOut(Shape):
    id: int
    ticket: str
    subject: str
    body: str
    status: Status
    created_at: datetime | None
    category_id: int | None
    agency_id: int | None
    #: Where it happened, no closer than the district (Kemendagri codes, see
    #: ``GET /api/v1/regions``); never coordinates.
    regency_code: str | None = None
    district_code: str | None = None


def public_json(m: PublicMessage) -> PublicMessageOut:
    return PublicMessageOut(
        id=m.id,
        ticket=m.ticket,
        subject=m.subject,
        body=m.body,
        status=m.status,
        created_at=utc(m.created_at),
        category_id=m.category_id,
        agency_id=m.agency_id,
        regency_code=m.regency_code,
        district_code=m.district_code,
    )


class TrackedStep(Shape):
    at: datetime | None
    from_status: Status | None
    to_status: Status


class TrackedOut(Shape):
    """A tracked message: the minimum (no text the staff wrote; a subject only
    for a message on the public list)."""

    id: str
    ticket: str
    subject: str | None
    status: Status
    created_at: datetime | None
    #: by when the next step is expected (the current stage's SOP deadline)
    due_at: datetime | None
    log: list[TrackedStep]


def tracked_json(m: TrackedMessage) -> TrackedOut:
    return TrackedOut(
        id=m.ticket,
        ticket=m.ticket,
        subject=m.subject,
        status=m.status,
        created_at=utc(m.created_at),
        due_at=utc(m.due_at),
        log=[
            TrackedStep(
                at=utc(e.at),
                from_status=e.from_status,
                to_status=e.to_status,
            )
            for e in m.log
        ],
    )


class DayOffOut(Shape):
    id: int
    day: date
    name: str
    created_at: datetime | None


def day_off_json(d: DayOff) -> DayOffOut:
    return DayOffOut(id=d.id, day=d.day, name=d.name, created_at=utc(d.created_at))


class Holiday(Shape):
    day: date
    name: str


class DaysOff(Shape, kw_only=True):
    """The extra days off of ``year``, and the country's public holidays (read-only).

    A list like :class:`Page` (one year is one page: ``next_cursor`` stays null),
    with its fields spelled out: the schema would not see the item type through
    a subclass of ``Page[DayOffOut]``."""

    items: list[DayOffOut]
    next_cursor: str | None
    year: int
    public_holidays: list[Holiday]


class NotificationOut(Shape):
    id: int
    kind: str
    message_id: int | None
    text: str
    created_at: datetime | None
    read_at: datetime | None


def notification_json(t: Translator, n: Notification) -> NotificationOut:
    return NotificationOut(
        id=n.id,
        kind=n.kind,
        message_id=n.message_id,
        text=t(n.text, **dict(n.params)),
        created_at=utc(n.created_at),
        read_at=utc(n.read_at),
    )


class Sent(Shape):
    """A message just sent."""

    id: int
    ticket: str
    status: Status


class StatusOut(Shape):
    """What happened (``status``), and for people a sentence about it."""

    status: Literal["verification_sent", "verified", "accepted", "password_reset"]
    detail: str | UnsetType = UNSET


class CsrfOut(Shape):
    #: Repeat it in the header named by ``header`` on unsafe requests.
    csrf_token: str
    header: str


class LoginOut(Shape, kw_only=True):
    token: str
    token_type: str = "bearer"  # noqa: S105 - the kind of token, not a secret
    expires_at: datetime | None
    device_token: str | None
    user: AccountOut


class PasswordChanged(Shape):
    status: Literal["password_changed"]
    token: str | UnsetType = UNSET
    expires_at: datetime | UnsetType | None = UNSET
