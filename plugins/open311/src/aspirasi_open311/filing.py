"""``POST requests``: the input checked, and what the message cannot hold written
in the same transaction as the message.

The core files the message (:meth:`aspirasi_core.services.MessageService.submit`,
as the key's citizen account). The Open311 row — token, asked-for service,
location, ``media_url`` — is written by the plugin's ``aspirasi_in_transaction``
hook on the :class:`~aspirasi_core.domain.events.MessageSubmitted` event, inside
the submission's transaction: both are written, or neither. The handler hands the
row over in :data:`PENDING`, a context variable (the core's transaction runs in
a worker thread, which gets a copy of the request's context).

The personal data Open311 lets a client send — ``email``, ``first_name``,
``last_name``, ``phone``, ``device_id``, ``account_id`` — is accepted and dropped:
the message's sender is the client's account, the client keeps its own users.
"""

from __future__ import annotations

import math
import secrets
from contextvars import ContextVar
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import attrs
from sqlalchemy import insert

from aspirasi_core.domain.errors import Invalid
from aspirasi_core.domain.events import MessageSubmitted
from aspirasi_core.domain.validation import Collector, clean_text
from aspirasi_core.plugin_api import Transaction

from .reads import SERVICE_CODE
from .tables import requests

#: The core's longest subject; a subject is the service's name and the
#: description's beginning.
SUBJECT_MAX = 300
SUBJECT_EXCERPT = 120
DESCRIPTION_MAX = 5000
ADDRESS_MAX = 500
URL_MAX = 1000


@attrs.frozen
class RequestInput:
    """A ``POST requests`` as checked (location and ``media_url`` may be None)."""

    service_code: int
    description: str
    lat: float | None = None
    long: float | None = None
    address_string: str | None = None
    media_url: str | None = None


@attrs.frozen
class PendingRequest:
    """The Open311 row of a message being filed."""

    key_id: int
    account_id: int
    token: str
    data: RequestInput
    at: datetime


#: The request being filed by this task (see the module docstring).
PENDING: ContextVar[PendingRequest | None] = ContextVar("open311_pending", default=None)


def new_token() -> str:
    return secrets.token_urlsafe(18)


def _coordinate(value: Any, field: str, bound: float) -> float | None:
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or abs(number) > bound:
        raise Invalid.field(field, "coordinate_invalid", "Enter a valid coordinate.")
    return number


def _url(value: Any) -> str | None:
    text = clean_text(value, "media_url", max_length=URL_MAX, required=False)
    if not text:
        return None
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise Invalid.field("media_url", "url_invalid", "Enter a web address (http or https).")
    return text


def _service_code(value: Any) -> int:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise Invalid.field("service_code", "required", "This field is required.")
    if not SERVICE_CODE.fullmatch(text):
        raise Invalid.field("service_code", "service_unknown", "Choose a known service.")
    return int(text)


def check_input(form: Any) -> RequestInput:
    """The fields of a ``POST requests`` (a form), every problem at once."""
    errors = Collector()
    code = errors.check(_service_code, form.get("service_code"))
    description = errors.check(
        clean_text,
        form.get("description"),
        "description",
        max_length=DESCRIPTION_MAX,
        multiline=True,
    )
    lat = errors.check(_coordinate, form.get("lat"), "lat", 90.0)
    long = errors.check(_coordinate, form.get("long"), "long", 180.0)
    if (lat is None) != (long is None) and not errors.errors:
        errors.add("lat", "coordinates_pair", "Send both lat and long, or neither.")
    address = errors.check(
        clean_text,
        form.get("address_string"),
        "address_string",
        max_length=ADDRESS_MAX,
        required=False,
    )
    media_url = errors.check(_url, form.get("media_url"))
    errors.raise_if_any()
    assert code is not None and description
    return RequestInput(
        service_code=code,
        description=description,
        lat=lat,
        long=long,
        address_string=address or None,
        media_url=media_url,
    )


def subject_of(service_name: str, description: str) -> str:
    """``"<service>: <the description's first line, cut at a word>"``."""
    first = description.splitlines()[0].strip()
    if len(first) > SUBJECT_EXCERPT:
        first = first[:SUBJECT_EXCERPT].rsplit(" ", 1)[0].rstrip(" ,.;:") + "…"
    return f"{service_name}: {first}"[:SUBJECT_MAX]


def write_pending(event: Any, tx: Transaction) -> None:
    """The ``aspirasi_in_transaction`` part: the Open311 row of the message this
    task is filing (nothing for any other event or message)."""
    pending = PENDING.get()
    if (
        pending is None
        or not isinstance(event, MessageSubmitted)
        or event.author_id != pending.account_id
    ):
        return
    data = pending.data
    tx.execute(
        insert(requests).values(
            message_id=event.message_id,
            api_key_id=pending.key_id,
            token=pending.token,
            service_code=data.service_code,
            lat=data.lat,
            long=data.long,
            address_string=data.address_string,
            media_url=data.media_url,
            created_at=pending.at,
        )
    )
