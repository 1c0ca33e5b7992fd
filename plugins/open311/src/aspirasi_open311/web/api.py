"""The GeoReport v2 endpoints under ``/open311/v2/`` (see the package docstring)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from litestar import Response, Router, get, post, route
from litestar.datastructures import UploadFile
from litestar.params import FromPath

from aspirasi_core.domain.errors import Invalid, NotFound
from aspirasi_core.services import Context, SubmitInput, Upload
from aspirasi_web.context import core, info, translator
from aspirasi_web.csrf import parsed_form
from aspirasi_web.i18n import status_labels

from .. import reads
from ..filing import PENDING, PendingRequest, check_input, new_token, subject_of
from ..formats import split_format
from ..reads import RequestFilter, ServiceRequest
from .common import EXCEPTION_HANDLERS, Req, answer, aspirasi, client_of, local_iso, zone

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
#: When this implementation last changed what it answers (the discovery's changeset).
CHANGESET = "2026-12-07T00:00:00Z"
#: The longest span ``GET requests`` covers, and the default (the specification's).
MAX_SPAN = timedelta(days=90)
MAX_IDS = 100
#: The years a date filter may name (so that a span around it stays computable).
MIN_YEAR, MAX_YEAR = 1970, 2200
STATUS_VALUES = {"open": reads.OPEN, "closed": reads.CLOSED}


def _name(name: str) -> str:
    """The path's last segment without its format suffix; 404 without a known one."""
    stem, fmt = split_format(name)
    if fmt is None or not stem:
        raise NotFound("The page was not found.", code="not_found")
    return stem


# ----------------------------------------------------------------------------- discovery


@get(["/discovery.json", "/discovery.xml"], include_in_schema=False)
async def discovery(request: Req) -> Response[bytes]:
    settings = aspirasi(request).settings
    base = settings.base_url.rstrip("/")
    document = {
        "changeset": CHANGESET,
        "contact": f"{settings.app_name}: {base}",
        "key_service": f"API keys are issued by the administrators of {settings.app_name} ({base}).",
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": f"{base}/open311/v2",
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return answer(request, "discovery", "discovery", document)


# ----------------------------------------------------------------------------- services


def _service(s: reads.Service) -> dict[str, Any]:
    return {
        "service_code": str(s.code),
        "service_name": s.name,
        "description": f"{s.group}: {s.name}",
        "metadata": False,
        "type": "realtime",
        "keywords": f"{s.category_code}, {s.subcategory_code}",
        "group": s.group,
    }


@get(["/services.json", "/services.xml"], include_in_schema=False)
async def services(request: Req) -> Response[bytes]:
    found = await reads.services(aspirasi(request))
    return answer(request, "services", "service", [_service(s) for s in found])


@get("/services/{name:str}", include_in_schema=False)
async def service_definition(request: Req, name: FromPath[str]) -> Response[bytes]:
    code = _name(name)
    ids = reads.service_ids([code])
    found = await reads.service(aspirasi(request), ids[0]) if ids[0] > 0 else None
    if found is None:
        raise NotFound("The service was not found.", code="service_unknown")
    document = {"service_code": str(found.code), "attributes": []}
    return answer(request, "service_definition", "service_definition", document)


# ----------------------------------------------------------------------------- requests


def _request(request: Req, r: ServiceRequest) -> dict[str, Any]:
    labels = status_labels(translator(request))
    is_open = r.status.value in reads.OPEN
    # The place no closer than the district: never lat/long (see reads.py).
    place = core(request).deps.regions.describe(r.regency_code, r.district_code)
    return {
        "service_request_id": r.ticket,
        "status": "open" if is_open else "closed",
        "status_notes": labels.get(r.status.value, r.status.value),
        "service_name": r.service_name,
        "service_code": None if r.service_code is None else str(r.service_code),
        "title": r.subject,
        "description": r.description,
        "agency_responsible": r.agency_name,
        "service_notice": None,
        "requested_datetime": local_iso(request, r.created_at),
        "updated_datetime": local_iso(request, r.updated_at),
        "expected_datetime": local_iso(request, r.due_at) if is_open else None,
        "address_string": place or None,
    }


def _list(value: str | None, field: str) -> tuple[str, ...]:
    if value is None:
        return ()
    items = tuple(v.strip() for v in value.split(",") if v.strip())
    if len(items) > MAX_IDS:
        raise Invalid.field(field, "too_many", "At most %(max)s values.", max=MAX_IDS)
    return items


def _date(request: Req, value: str | None, field: str) -> datetime | None:
    if value is None or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip()) if len(value) <= 40 else None
    except ValueError:
        parsed = None
    if parsed is None or not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise Invalid.field(
            field, "date_invalid", "Write a date and time such as 2026-01-31T00:00:00Z."
        )
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone(request))


def _filter(request: Req) -> RequestFilter:
    q = request.query_params
    tickets = tuple(t.upper() for t in _list(q.get("service_request_id"), "service_request_id"))
    if tickets:
        return RequestFilter(tickets=tickets)
    statuses: list[str] = []
    for value in _list(q.get("status"), "status"):
        if value.lower() not in STATUS_VALUES:
            raise Invalid.field("status", "status_unknown", "Choose open or closed.")
        statuses.extend(STATUS_VALUES[value.lower()])
    start = _date(request, q.get("start_date"), "start_date")
    end = _date(request, q.get("end_date"), "end_date")
    if start is None and end is None:
        end = aspirasi(request).clock.now()
    if start is None:
        assert end is not None
        start = end - MAX_SPAN
    if end is None:
        end = start + MAX_SPAN
    if end < start:
        raise Invalid.field("end_date", "date_order", "The end date is before the start date.")
    if end - start > MAX_SPAN:
        raise Invalid.field("end_date", "span_too_long", "A search may span at most 90 days.")
    codes = reads.service_ids(_list(q.get("service_code"), "service_code"))
    return RequestFilter(service_codes=codes, statuses=tuple(statuses), start=start, end=end)


@get(["/requests.json", "/requests.xml"], include_in_schema=False)
async def list_requests(request: Req) -> Response[bytes]:
    client = await client_of(request, request.query_params.get("api_key"), required=False)
    found = await reads.list_requests(
        aspirasi(request), _filter(request), client.key_id if client else None
    )
    return answer(request, "service_requests", "request", [_request(request, r) for r in found])


@get("/requests/{name:str}", include_in_schema=False)
async def one_request(request: Req, name: FromPath[str]) -> Response[bytes]:
    ticket = _name(name).upper()
    client = await client_of(request, request.query_params.get("api_key"), required=False)
    found = None
    if len(ticket) <= 32:
        found = await reads.one_request(
            aspirasi(request), ticket, client.key_id if client else None
        )
    if found is None:
        raise NotFound("The request was not found.", code="not_found")
    return answer(request, "service_requests", "request", [_request(request, found)])


@get("/tokens/{name:str}", include_in_schema=False)
async def token(request: Req, name: FromPath[str]) -> Response[bytes]:
    value = _name(name)
    ticket = await reads.by_token(aspirasi(request), value) if len(value) <= 64 else None
    if ticket is None:
        raise NotFound("The token was not found.", code="not_found")
    document = [{"service_request_id": ticket, "token": value}]
    return answer(request, "service_requests", "request", document)


def _place(request: Req, address: str | None) -> dict[str, str | None]:
    """The regency and district an ``address_string`` names without doubt
    (:meth:`~aspirasi_core.domain.regions.Regions.find`); the address itself is kept
    in the plugin's row either way."""
    if not address:
        return {}
    regency, district = core(request).deps.regions.find(address)
    return {"regency": regency, "district": district}


async def _media(form: Any) -> list[Upload]:
    media = form.get("media")
    if not isinstance(media, UploadFile):
        return []
    return [Upload(filename=media.filename or "media", data=await media.read())]


#: Filing is authenticated by the ``api_key`` in the form, never by a cookie (the
#: handler does not read the session): a page elsewhere could only make a browser
#: file with a key its author holds anyway, so Litestar's CSRF check is left out
#: for this route (``CSRFConfig.exclude_from_csrf_key``), as Open311 clients post
#: plain forms without a token.
@post(
    ["/requests.json", "/requests.xml"],
    include_in_schema=False,
    status_code=200,
    opt={"exclude_from_csrf": True},
)
async def create_request(request: Req) -> Response[bytes]:
    """File a message as the key's account; the answer carries the ticket and a token."""
    form = await parsed_form(request)
    raw_key = form.get("api_key") or request.query_params.get("api_key")
    client = await client_of(request, raw_key if isinstance(raw_key, str) else None, required=True)
    assert client is not None
    data = check_input(form)
    plugin_api = aspirasi(request)
    found = await reads.service(plugin_api, data.service_code)
    if found is None:
        raise Invalid.field("service_code", "service_unknown", "Choose a known service.")
    i = info(request)
    ctx = Context(
        actor=client.actor, client_ip=i.client_ip, request_id=i.request_id, language=i.language
    )
    pending = PendingRequest(
        key_id=client.key_id,
        account_id=client.actor.account_id,
        token=new_token(),
        data=data,
        at=plugin_api.clock.now(),
    )
    reset = PENDING.set(pending)
    try:
        message = await core(request).messages.submit(
            ctx,
            SubmitInput(
                subject=subject_of(found.name, data.description),
                body=data.description,
                attachments=await _media(form),
                latitude=data.lat,
                longitude=data.long,
                **_place(request, data.address_string),
            ),
        )
    finally:
        PENDING.reset(reset)
    t = translator(request)
    document = [
        {
            "service_request_id": message.ticket,
            "token": pending.token,
            "service_notice": t(
                "The message is checked by the administrator before it is forwarded and published."
            ),
            "account_id": None,
        }
    ]
    return answer(request, "service_requests", "request", document)


@route(
    [
        "/{rest:path}",
        # Litestar's router does not step back from a matched segment to the
        # catch-all, so paths below the parametrised ones need their own.
        "/requests/{name:str}/{rest:path}",
        "/services/{name:str}/{rest:path}",
        "/tokens/{name:str}/{rest:path}",
    ],
    http_method=["GET", "POST"],
    include_in_schema=False,
)
async def unknown(request: Req, rest: FromPath[str]) -> Response[bytes]:
    """Any other path under ``/open311/v2/``: 404 in the specification's format."""
    raise NotFound("The page was not found.", code="not_found")


ROUTER = Router(
    path="/open311/v2",
    route_handlers=[
        discovery,
        services,
        service_definition,
        list_requests,
        one_request,
        token,
        create_request,
        unknown,
    ],
    exception_handlers=EXCEPTION_HANDLERS,
)
