"""What the Open311 API reads: services (the active sub-categories) and service
requests (messages), through the plugin API's read-only :data:`schema`.

Which messages a request list may show (:func:`visible`): never a confidential
or an anonymous one, never a withdrawn one; of the rest, those the public list
shows (forwarded, being processed, done), and the calling client's own (filed
with its key) whatever their status. Their texts are the public copies, with
personal data masked as the public list shows them; nothing about the sender,
no reply, no internal note.

Where it happened: ``address_string`` names the message's district and regency
(as the public list does); ``lat`` and ``long`` are never answered, not even to
the client that sent them (a key's account speaks for many people): no one
learns more precisely than the district where a message came from.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import attrs
from sqlalchemy import ColumnElement, and_, false, func, or_, select

from aspirasi_core.domain.model import Status
from aspirasi_core.plugin_api import PluginContext, Transaction, schema

from .tables import requests

m = schema.messages
sub = schema.subcategories
cat = schema.categories
agency = schema.agencies

#: The statuses the public list shows.
PUBLIC_STATUSES = (Status.FORWARDED.value, Status.IN_PROGRESS.value, Status.DONE.value)
#: Open311's two statuses → the core's.
OPEN = (Status.SUBMITTED.value, Status.FORWARDED.value, Status.IN_PROGRESS.value)
CLOSED = (Status.DONE.value, Status.REJECTED.value)
#: The most requests one list answers (the specification's default maximum).
MAX_REQUESTS = 1000


@attrs.frozen
class Service:
    code: int
    name: str
    group: str
    category_code: str
    subcategory_code: str


@attrs.frozen
class ServiceRequest:
    """A message as Open311 shows it (public texts only)."""

    id: int
    ticket: str
    subject: str
    description: str
    status: Status
    created_at: datetime
    updated_at: datetime
    due_at: datetime | None
    service_code: int | None
    service_name: str | None
    agency_name: str | None
    #: The message's regency and district (Kemendagri codes, or None).
    regency_code: str | None = None
    district_code: str | None = None


@attrs.frozen
class RequestFilter:
    """The filters of ``GET requests`` (already validated)."""

    tickets: tuple[str, ...] = ()
    service_codes: tuple[int, ...] = ()
    statuses: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None


_SERVICES = (
    select(sub.c.id, sub.c.name, sub.c.code, cat.c.name.label("group"), cat.c.code.label("cat"))
    .join(cat, cat.c.id == sub.c.category_id)
    .where(sub.c.is_active.is_(True))
    .order_by(cat.c.name, sub.c.name, sub.c.id)
)


def _service(row: Any) -> Service:
    return Service(row.id, row.name, row.group, row.cat, row.code)


async def services(aspirasi: PluginContext) -> list[Service]:
    return await aspirasi.read(lambda tx: [_service(r) for r in tx.execute(_SERVICES).all()])


async def service(aspirasi: PluginContext, code: int) -> Service | None:
    row = await aspirasi.read(lambda tx: tx.execute(_SERVICES.where(sub.c.id == code)).first())
    return None if row is None else _service(row)


def visible(key_id: int | None) -> ColumnElement[bool]:
    """The messages a client (``key_id``, or None without a key) may see."""
    shown: ColumnElement[bool] = m.c.status.in_(PUBLIC_STATUSES)
    if key_id is not None:
        shown = or_(shown, requests.c.api_key_id == key_id)
    return and_(
        m.c.confidential == false(),
        m.c.anonymous == false(),
        m.c.status != Status.WITHDRAWN.value,
        shown,
    )


_asked = sub.alias("asked")
_SERVICE_CODE = func.coalesce(m.c.subcategory_id, requests.c.service_code)
_SELECT = (
    select(
        m.c.id,
        m.c.ticket,
        func.coalesce(m.c.subject_public, m.c.subject).label("subject"),
        func.coalesce(m.c.body_public, m.c.body).label("description"),
        m.c.status,
        m.c.created_at,
        m.c.updated_at,
        m.c.due_at,
        _SERVICE_CODE.label("service_code"),
        func.coalesce(sub.c.name, _asked.c.name).label("service_name"),
        agency.c.name.label("agency_name"),
        m.c.regency_code,
        m.c.district_code,
    )
    .select_from(m)
    .outerjoin(requests, requests.c.message_id == m.c.id)
    .outerjoin(sub, sub.c.id == m.c.subcategory_id)
    .outerjoin(_asked, _asked.c.id == requests.c.service_code)
    .outerjoin(agency, agency.c.id == m.c.agency_id)
)


def _request(row: Any) -> ServiceRequest:
    return ServiceRequest(
        id=row.id,
        ticket=row.ticket,
        subject=row.subject,
        description=row.description,
        status=Status(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        due_at=row.due_at,
        service_code=row.service_code,
        service_name=row.service_name,
        agency_name=row.agency_name,
        regency_code=row.regency_code,
        district_code=row.district_code,
    )


def _where(flt: RequestFilter) -> list[ColumnElement[bool]]:
    if flt.tickets:  # the specification: a list of ids overrides every other filter
        return [m.c.ticket.in_(flt.tickets)]
    where: list[ColumnElement[bool]] = []
    if flt.service_codes:
        where.append(_SERVICE_CODE.in_(flt.service_codes))
    if flt.statuses:
        where.append(m.c.status.in_(flt.statuses))
    if flt.start is not None:
        where.append(m.c.created_at >= flt.start)
    if flt.end is not None:
        where.append(m.c.created_at <= flt.end)
    return where


async def list_requests(
    aspirasi: PluginContext, flt: RequestFilter, key_id: int | None
) -> list[ServiceRequest]:
    """The visible requests matching ``flt``, newest first, at most :data:`MAX_REQUESTS`."""
    stmt = _SELECT.where(visible(key_id), *_where(flt)).order_by(m.c.id.desc()).limit(MAX_REQUESTS)
    return await aspirasi.read(lambda tx: [_request(r) for r in tx.execute(stmt).all()])


async def one_request(
    aspirasi: PluginContext, ticket: str, key_id: int | None
) -> ServiceRequest | None:
    stmt = _SELECT.where(visible(key_id), m.c.ticket == ticket)
    row = await aspirasi.read(lambda tx: tx.execute(stmt).first())
    return None if row is None else _request(row)


async def by_token(aspirasi: PluginContext, token: str) -> str | None:
    """The ticket of the request filed with ``token``, while it is not withdrawn
    (never a confidential or anonymous message, though filing makes neither)."""

    def script(tx: Transaction) -> str | None:
        return tx.execute(
            select(m.c.ticket)
            .join(requests, requests.c.message_id == m.c.id)
            .where(
                requests.c.token == token,
                m.c.status != Status.WITHDRAWN.value,
                m.c.confidential == false(),
                m.c.anonymous == false(),
            )
        ).scalar_one_or_none()

    return await aspirasi.read(script)


#: A service code as this server writes it: an id in plain ASCII digits, no
#: leading zero (``str.isdigit`` also takes ``²``, which ``int`` refuses, and ``１``).
SERVICE_CODE = re.compile(r"[1-9][0-9]{0,17}")


def service_ids(values: Sequence[str]) -> tuple[int, ...]:
    """Service codes as ids; a code not spelled as :data:`SERVICE_CODE` matches
    nothing (-1): the codes are strings to GeoReport clients, ``01`` is not ``1``."""
    return tuple(int(v) if SERVICE_CODE.fullmatch(v) else -1 for v in values)
