"""Idempotency keys and expected versions, as the API and the forms send them.

* ``Idempotency-Key`` (API header) or the hidden ``idempotency_key`` field (forms):
  a request sent again with the same key gets the first answer and creates nothing
  (:mod:`aspirasi_core.services.idempotency`). The key is scoped to the signed-in
  account, or for anonymous requests (registration) to a fingerprint of the client.
* ``If-Match`` (API header) or the hidden ``version`` field (forms): the message
  version the client acted on; a stale one answers 409 ``message_changed``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any, TypeVar

import attrs
import msgspec
import structlog
from litestar import Request, Response
from litestar.params import HeaderParameter

from aspirasi_core.domain.errors import FieldError, Invalid
from aspirasi_core.services import (
    Context,
    IdempotencyClaim,
    IdempotencyRequest,
    StoredResponse,
    Upload,
    check_key,
)

from . import csrf
from .context import account, context, core, info

T = TypeVar("T")
log = structlog.get_logger("aspirasi.web.idempotency")

HEADER = "Idempotency-Key"
#: Set on an answer given again for a resent key.
REPLAYED_HEADER = "Idempotent-Replayed"
#: Seconds a form's resend waits for the first request with its key to finish.
FORM_WAIT_SECONDS = 15.0

KEY_DOC = (
    "Optional. A unique value per logical request (a UUID, at most 255 visible ASCII"
    " characters). Sent again within 24 hours by the same account (or, signed out, the"
    " same client) with the same request, it returns the first answer (same status and"
    " body, with `Idempotent-Replayed: true`) and creates nothing. With another request"
    " it answers 422 `idempotency_key_reused`; while the first is still running, 409"
    " `idempotency_in_progress` (try again shortly)."
)
IF_MATCH_DOC = (
    'Optional. The message `version` the client acted on (as `"3"` or `3`). When the'
    " message has changed since, the request answers 409 `message_changed` and changes"
    " nothing."
)

#: The ``Idempotency-Key`` header parameter (documented in the OpenAPI document).
IdempotencyKey = Annotated[
    str | None, HeaderParameter(name=HEADER, required=False, description=KEY_DOC)
]
#: The ``If-Match`` header parameter of the requests that change a message.
IfMatch = Annotated[
    str | None, HeaderParameter(name="If-Match", required=False, description=IF_MATCH_DOC)
]


def _version_error() -> Invalid:
    message = "The version is not valid."
    return Invalid(
        message, code="version_invalid", errors=[FieldError("version", "version_invalid", message)]
    )


def parse_version(value: str | None) -> int | None:
    """An expected version from ``If-Match`` (``"3"``, ``3``; ``*`` or absent: None)
    or a form's ``version`` field; anything else (``03``, ``"３"``) is 422
    ``version_invalid``. The spaces around a header's value are HTTP's (optional
    whitespace), not the number's: those are dropped."""
    if value is None:
        return None
    text = value.strip()
    if text in ("", "*"):
        return None
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    # Plain ASCII digits without a leading zero, as every number of the API
    # (api.common.STRICT_INT; not imported: the api package imports this module).
    if not (text.isascii() and text.isdigit()) or text[0] == "0" or len(text) > 9:
        raise _version_error()
    return int(text)


def _canonical(value: Any) -> Any:
    if isinstance(value, Upload):
        return ["file", value.filename, hashlib.sha256(value.data).hexdigest()]
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


def canonical_request(request: Request[Any, Any, Any], data: Mapping[str, Any]) -> bytes:
    """What a request asks for: method, path and its parsed body (files by their
    name and SHA-256; the form's key and CSRF token left out), as canonical JSON.
    A resend of the same form, even with another multipart boundary, gives the
    same bytes."""
    fields = {k: v for k, v in data.items() if k not in ("idempotency_key", csrf.FIELD)}
    return msgspec.json.encode(
        [request.method, request.url.path, _canonical(fields)], order="sorted"
    )


def _client(request: Request[Any, Any, Any]) -> str:
    """A fingerprint of an anonymous client: its address and user agent, hashed."""
    agent = request.headers.get("user-agent", "")
    return hashlib.sha256(f"{info(request).client_ip or ''}\0{agent}".encode()).hexdigest()


def key_request(
    request: Request[Any, Any, Any], key: str | None, data: Mapping[str, Any]
) -> IdempotencyRequest | None:
    """The :class:`IdempotencyRequest` of a request with a key (None without one)."""
    if key is None:
        return None
    key = check_key(key)
    acc = account(request)
    return IdempotencyRequest(
        key=key,
        request=canonical_request(request, data),
        account_id=acc.id if acc is not None else None,
        client="" if acc is not None else _client(request),
    )


@attrs.frozen
class Outcome:
    """What an idempotent call answered: the fresh result (``replay`` None) or the
    stored answer of the first request with the key (``replay``)."""

    result: Any = None
    replay: StoredResponse | None = None


async def run(
    request: Request[Any, Any, Any],
    key: str | None,
    data: Mapping[str, Any],
    call: Callable[[Context], Awaitable[T]],
    render: Callable[[T], StoredResponse],
    *,
    wait_seconds: float = 0,
) -> Outcome:
    """Run the use case ``call`` once per key: with a key, claim it first (a stored
    answer is returned as ``replay`` instead), hand the claim bound to ``render``
    to the use case, and release it when the use case fails."""
    ctx = context(request)
    wanted = key_request(request, key, data)
    if wanted is None:
        return Outcome(result=await call(ctx))
    service = core(request).idempotency
    claimed = await service.begin(wanted, wait_seconds=wait_seconds)
    if isinstance(claimed, StoredResponse):
        return Outcome(replay=claimed)
    claim: IdempotencyClaim = claimed.bind(render)
    try:
        result = await call(attrs.evolve(ctx, idempotency=claim))
    except BaseException:
        await _release(service, claim)
        raise
    if claim.response is None:  # a use case that does not store answers
        await _release(service, claim)
    return Outcome(result=result)


async def _release(service: Any, claim: IdempotencyClaim) -> None:
    """Free the key of a request that created nothing. If that fails too (the
    database is gone), the claim simply runs out after its 60 seconds."""
    try:
        await service.release(claim)
    except Exception:
        log.warning("idempotency_release_failed", exc_info=True)


def json_answer(status: int, body: Any) -> StoredResponse:
    """A JSON answer to keep for a key."""
    return StoredResponse(status=status, body=msgspec.json.encode(body))


async def api_call(
    request: Request[Any, Any, Any],
    key: str | None,
    data: Mapping[str, Any],
    call: Callable[[Context], Awaitable[T]],
    shape: Callable[[T], Any],
    status: int,
) -> Response[Any]:
    """An API handler's use case with its ``Idempotency-Key``: the JSON answer
    ``shape(result)`` with ``status``, or the first answer for a resent key."""
    outcome = await run(request, key, data, call, lambda r: json_answer(status, shape(r)))
    if outcome.replay is not None:
        return Response(
            content=msgspec.json.decode(outcome.replay.body),
            status_code=outcome.replay.status,
            headers={REPLAYED_HEADER: "true"},
        )
    return Response(content=shape(outcome.result), status_code=status)


def redirect_answer(location: str, flash: str) -> StoredResponse:
    """A form's answer to keep for a key: where it redirected, with which notice."""
    return StoredResponse(status=303, body=flash.encode(), headers={"location": location})


def form_key(form: Mapping[str, Any]) -> str | None:
    """The hidden ``idempotency_key`` of a posted form (None when it has none)."""
    value = form.get("idempotency_key")
    return value if isinstance(value, str) and value else None


async def form_call(
    request: Request[Any, Any, Any],
    form: Mapping[str, Any],
    call: Callable[[Context], Awaitable[T]],
    location: Callable[[T], str],
    flash: str,
) -> Response[Any]:
    """A form's use case, once per ``idempotency_key`` field: a redirect to
    ``location(result)`` with the notice ``flash``. A resend (a double click, a
    reload after a time-out) waits for the first request with the key and gets the
    same redirect. Domain errors propagate (the page shows the form again)."""
    from .templating import redirect

    outcome = await run(
        request,
        form_key(form),
        form,
        call,
        lambda result: redirect_answer(location(result), flash),
        wait_seconds=FORM_WAIT_SECONDS,
    )
    if outcome.replay is not None:
        stored = outcome.replay
        return redirect(request, stored.headers["location"], flash=stored.body.decode())
    return redirect(request, location(outcome.result), flash=flash)
