"""What the schema Litestar builds from the handlers cannot say by itself, added
once at start-up to the app's OpenAPI document (``app.openapi_schema``):

- every error answer as ``application/problem+json`` (RFC 9457), for the
  statuses an operation can really answer, ``Retry-After`` on 429, 503 and 507.
  :func:`statuses` derives what follows from the operation itself (credentials,
  an unsafe method, a path id, parameters, the ``Idempotency-Key`` and
  ``If-Match`` headers, the database); the rest a route handler declares with
  ``responses=problems(...)`` (:func:`problems`, Litestar's ``responses``): 409
  where its use case can meet a ``Conflict``, 429 where it runs a rate-limited
  use case (those the ``aspirasi_before_use_case`` hook is asked about), 401 or
  404 where the use case answers them without the operation saying so. Litestar's
  own error answers (its 400 for parameters) give way to these;
- both ways to authenticate: a bearer token, or the session cookie with its
  ``X-CSRF-Token`` header on unsafe requests;
- OpenAPI links from a created resource to the operations that act on it.
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    Components,
    Encoding,
    Link,
    OpenAPI,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    Operation,
    Parameter,
    Reference,
    Schema,
    SecurityScheme,
)
from litestar.routes import HTTPRoute

from ..csrf import SESSION_COOKIE
from ..guards import API_ALLOWED, PASSWORD_CHANGE_OPT
from .shapes import API

PROBLEM = "application/problem+json"
UNSAFE = ("post", "put", "patch", "delete")
#: Who may call an operation that needs an account (the ``security`` of the API).
SECURITY_SAFE: list[dict[str, list[str]]] = [{"bearer": []}, {"session": []}]
SECURITY_UNSAFE: list[dict[str, list[str]]] = [{"bearer": []}, {"session": [], "csrf": []}]

SCHEMES: dict[str, SecurityScheme | Reference] = {
    "bearer": SecurityScheme(
        type="http",
        scheme="bearer",
        description="The `token` of POST /api/v1/auth/login. Needs no CSRF token.",
    ),
    "session": SecurityScheme(
        type="apiKey",
        name=SESSION_COOKIE,
        security_scheme_in="cookie",
        description="The session cookie a log-in sets (browsers).",
    ),
    "csrf": SecurityScheme(
        type="apiKey",
        name="X-CSRF-Token",
        security_scheme_in="header",
        description=(
            "With the session cookie, unsafe requests repeat the CSRF token (the "
            "`csrf_token` of GET /api/v1/auth/csrf, or the `csrf-token` meta tag of any "
            "page) in this header, else 403 `csrf`."
        ),
    ),
}

_FIELD = Schema(
    type="object",  # type: ignore[arg-type]
    required=["field", "code", "message"],
    properties={
        "field": Schema(type="string"),  # type: ignore[arg-type]
        "code": Schema(type="string"),  # type: ignore[arg-type]
        "message": Schema(type="string", description="Translated."),  # type: ignore[arg-type]
    },
)
PROBLEM_SCHEMA = Schema(
    type="object",  # type: ignore[arg-type]
    title="Problem",
    description="RFC 9457 problem details; `detail` and `title` in the reader's language.",
    required=["type", "title", "status", "detail", "code"],
    properties={
        "type": Schema(type="string", description="`urn:aspirasi:problem:<code>`"),  # type: ignore[arg-type]
        "title": Schema(type="string"),  # type: ignore[arg-type]
        "status": Schema(type="integer"),  # type: ignore[arg-type]
        "detail": Schema(type="string"),  # type: ignore[arg-type]
        "code": Schema(type="string", description="What went wrong, for programs."),  # type: ignore[arg-type]
        "errors": Schema(type="array", items=_FIELD, description="One entry per field (422)."),  # type: ignore[arg-type]
    },
)
DESCRIPTIONS = {
    400: "The request cannot be read",
    401: "No valid credentials (`login_required`, `invalid_token`; wrong ones at log-in)",
    403: "Not allowed (`forbidden`, `email_unverified`, `password_change_required`, `csrf`)",
    404: "Not found (or not visible to the caller)",
    408: "The body arrived too slowly",
    409: (
        "A conflict: the state changed, a stale `If-Match`, a duplicate, or the first"
        " request with this `Idempotency-Key` still running"
    ),
    413: "The body is too large",
    422: "Invalid input: `errors` names each field",
    429: "Too many attempts: try again after `Retry-After` seconds",
    503: "Temporarily unavailable: try again after `Retry-After` seconds",
    507: "No room to store this: try again after `Retry-After` seconds",
}
RETRY_AFTER = OpenAPIHeader(
    schema=Schema(type="integer", minimum=0),  # type: ignore[arg-type]
    description="Seconds to wait before trying again.",
    required=True,
)


#: The downloads, by path: the media types their file can have.
DOWNLOADS = {
    f"{API}/messages/{{message_id}}/attachments/{{attachment_id}}": (
        "image/jpeg",
        "application/pdf",
    ),
    f"{API}/me/export": ("application/zip",),
}
_BINARY = Schema(type="string", format="binary")  # type: ignore[arg-type]


def download_response(media_types: tuple[str, ...]) -> OpenAPIResponse:
    return OpenAPIResponse(
        description="The file, as a download",
        content={media: OpenAPIMediaType(schema=_BINARY) for media in media_types},
        headers={
            "Content-Disposition": OpenAPIHeader(
                schema=Schema(type="string"),  # type: ignore[arg-type]
                description="`attachment`, with the file's name.",
            )
        },
    )


WWW_AUTHENTICATE = OpenAPIHeader(
    schema=Schema(type="string"),  # type: ignore[arg-type]
    description='`Bearer realm="api"`, with `error="invalid_token"` for a token not valid.',
    required=True,
)
#: The error statuses that come with ``Retry-After``.
RETRY_STATUSES = (429, 503, 507)
#: Header parameters whose use answers 409: a key still being worked on
#: (``idempotency_in_progress``), a stale message version (``message_changed``).
CONFLICT_HEADERS = frozenset({"idempotency-key", "if-match"})


#: The success answers of a JSON body: an old spelling was read (invalid.old_spelling).
DEPRECATION = OpenAPIHeader(
    schema=Schema(type="string", enum=["true"]),  # type: ignore[arg-type]
    description=(
        "`true` when the body spelled a number as a digit string or a flag as "
        '`"true"`/`"false"`: still read, for one release; send JSON numbers and booleans.'
    ),
)
#: Every operation: the language of the texts in the answer (see i18n.pick_language).
ACCEPT_LANGUAGE = Parameter(
    name="Accept-Language",
    param_in="header",  # type: ignore[arg-type]
    required=False,
    schema=Schema(type="string"),  # type: ignore[arg-type]
    description=(
        "`id` or `en`: the language of the answer's texts (`title`, `detail`, "
        "`errors[].message`, labels); a `lang` query parameter wins; without either, "
        "the signed-in account's language (`PATCH /api/v1/me`), else the province's."
    ),
)


def problem_response(status: int) -> OpenAPIResponse:
    """The documented answer of an error ``status``: problem+json, with
    ``Retry-After`` where one is sent (429; 503 and 507, see ``errors.retry_headers``),
    ``WWW-Authenticate`` on 401."""
    headers: dict[str, Any] = {"Retry-After": RETRY_AFTER} if status in RETRY_STATUSES else {}
    if status == 401:
        headers["WWW-Authenticate"] = WWW_AUTHENTICATE
    return OpenAPIResponse(
        description=DESCRIPTIONS[status],
        content={PROBLEM: OpenAPIMediaType(schema=Reference("#/components/schemas/Problem"))},
        headers=headers or None,
    )


def problems(*codes: int) -> dict[int, ResponseSpec]:
    """A route handler's ``responses=``: the error statuses its use cases can answer
    beyond those :func:`statuses` derives from the operation itself, e.g.
    ``@post(..., responses=problems(409, 429))`` for a command whose use case can
    meet a :class:`~aspirasi_core.domain.errors.Conflict` and is rate-limited.
    :func:`document_api` documents each as problem+json (with ``Retry-After`` on 429)."""
    return {
        code: ResponseSpec(data_container=None, description=DESCRIPTIONS[code]) for code in codes
    }


def statuses(
    path: str,
    method: str,
    op: Operation,
    declared: frozenset[int] = frozenset(),
    *,
    password_exempt: bool = False,
) -> set[int]:
    """The error statuses an API operation can answer: ``declared`` by its handler
    (:func:`problems`: 409 where its use case can conflict, 429 where it runs a
    rate-limited use case, 401 at log-in, 404 for a thing named in the body), and
    those that follow from the operation:

    - 503 and 507 everywhere: the database (or its disk) out of reach or full, met
      by any request with credentials (the authentication looks them up and records
      their use) and by every use case;
    - 400, 408 and 413 for unsafe methods: any of them may be sent a form, which is
      read before the handler runs (an unreadable one is 400, one arriving too slowly
      408, one too large 413);
    - 401 where credentials are needed (not ``security=PUBLIC``);
    - 403 for unsafe methods (a session cookie or a browser form without the CSRF
      token), and for every operation an account that must change its password may
      not use (``guards.password_changed``: all but :data:`~aspirasi_web.guards.API_ALLOWED`
      and the routes with ``PASSWORD_CHANGE_OPT``) — which covers the roles,
      permissions and ``email_unverified`` of the operations needing credentials;
    - 404 for an id in the path;
    - 409 for the ``Idempotency-Key`` and ``If-Match`` headers;
    - 422 for parameters (path numbers, query, headers) and bodies."""
    out = {503, 507, *declared}
    unsafe = method in UNSAFE
    if unsafe:
        out |= {400, 403, 408, 413}
    if op.security != [{}]:
        out.add(401)
    if not password_exempt:
        out.add(403)
    if "{" in path:
        out.add(404)
    headers = {
        p.name.lower()
        for p in op.parameters or []
        if not isinstance(p, Reference) and p.param_in == "header"
    }
    if headers & CONFLICT_HEADERS:
        out.add(409)
    if op.parameters or op.request_body:
        out.add(422)
    return out


def handlers_by_operation(app: Litestar) -> dict[tuple[str, str], HTTPRouteHandler]:
    """(path as the schema spells it, lower-case method) → its route handler."""
    found: dict[tuple[str, str], HTTPRouteHandler] = {}
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                for method in handler.http_methods:
                    found[(route.path_format, method.lower())] = handler
    return found


def declared_statuses(handler: HTTPRouteHandler | None) -> frozenset[int]:
    """The error statuses a handler declares with ``responses=`` (:func:`problems`)."""
    return (
        frozenset(int(s) for s in (handler.responses or {}) if int(s) >= 400)
        if handler
        else frozenset()
    )


def password_exempt(path: str, method: str, handler: HTTPRouteHandler | None) -> bool:
    """May an account that must change its password use the operation?"""
    return (method.upper(), path) in API_ALLOWED or bool(
        handler and handler.opt.get(PASSWORD_CHANGE_OPT)
    )


#: A ``POST`` handler's ``opt`` key: the collection path whose ``{id}`` operations act
#: on what it creates, when that is not its own path (``POST /admin/invitations``
#: makes an account of ``/admin/users``).
LINKS_TO = "links_to"


def _links(openapi: OpenAPI, handlers: dict[tuple[str, str], HTTPRouteHandler]) -> None:
    """A ``201`` of ``POST <collection>`` (or of the collection its handler names in
    ``opt[LINKS_TO]``) links to each operation on ``<collection>/{id}`` (and below it)
    taking that one id, from the answer's ``id``."""
    paths = openapi.paths or {}
    for path, item in paths.items():
        created = item.post.responses.get("201") if item.post and item.post.responses else None
        if not isinstance(created, OpenAPIResponse):
            continue
        created.description = "Created: the new resource"
        handler = handlers.get((path, "post"))
        collection = handler.opt.get(LINKS_TO, path) if handler else path
        links: dict[str, Link | Reference] = {}
        for other, other_item in paths.items():
            names = re.findall(r"\{(\w+)\}", other)
            if len(names) != 1 or not other.startswith(f"{collection}/{{"):
                continue
            for method in ("get", "post", "patch", "delete"):
                op = getattr(other_item, method)
                if op is not None and op.operation_id:
                    links[op.operation_id] = Link(
                        operation_id=op.operation_id,
                        parameters={names[0]: "$response.body#/id"},
                    )
        created.links = links or None


#: A form route's ``opt`` key: ``async (request) -> Response`` answering the route's
#: JSON spelling (no files), run instead of the route for a JSON body.
JSON_VARIANT = "json_variant"


#: The multipart operations' file parts, by path: the media types they take.
FILE_PARTS = {
    f"{API}/messages": ("attachment", "image/jpeg, application/pdf"),
    f"{API}/messages/{{message_id}}/reply": ("attachment", "application/pdf"),
}


def _form_bodies(path: str, op: Operation, components: Components, json_too: bool) -> None:
    """A multipart body names its file part's media types (``encoding``), and an
    operation that also takes its form as JSON (``opt[JSON_VARIANT]``) documents
    that body: the same fields without the files."""
    content = getattr(op.request_body, "content", None) or {}
    form = content.get("multipart/form-data")
    if form is None or path not in FILE_PARTS:
        return
    part, media = FILE_PARTS[path]
    form.encoding = {part: Encoding(content_type=media)}
    ref = form.schema
    schemas = components.schemas or {}
    named = schemas.get(ref.ref.rsplit("/", 1)[-1]) if isinstance(ref, Reference) else None
    if json_too and isinstance(named, Schema):
        fields = {k: v for k, v in (named.properties or {}).items() if k != part}
        required = [r for r in named.required or [] if r != part] or None
        content["application/json"] = OpenAPIMediaType(
            schema=Schema(type=named.type, properties=fields, required=required)
        )


def document_api(app: Litestar) -> None:
    """``on_startup``: add the above to ``app.openapi_schema`` before it is served."""
    openapi = app.openapi_schema
    components = openapi.components if isinstance(openapi.components, Components) else Components()
    components.security_schemes = {**(components.security_schemes or {}), **SCHEMES}
    components.schemas = {**(components.schemas or {}), "Problem": PROBLEM_SCHEMA}
    openapi.components = components
    handlers = handlers_by_operation(app)
    for path, item in (openapi.paths or {}).items():
        if not path.startswith(f"{API}/"):
            continue
        for method in ("get", "post", "put", "patch", "delete"):
            op: Operation | None = getattr(item, method)
            if op is None:
                continue
            if op.security != [{}]:
                op.security = SECURITY_UNSAFE if method in UNSAFE else SECURITY_SAFE
            # Litestar's own error answers (its 400 for a parameter, the declared
            # ones without content) give way to the problem+json ones.
            responses = {k: v for k, v in (op.responses or {}).items() if int(k) < 400}
            if method == "get" and path in DOWNLOADS:
                responses["200"] = download_response(DOWNLOADS[path])
            no_content = responses.get("204")
            if isinstance(no_content, OpenAPIResponse):
                no_content.content = None  # nothing follows, not JSON null
            handler = handlers.get((path, method))
            _form_bodies(path, op, components, bool(handler and handler.opt.get(JSON_VARIANT)))
            found = statuses(
                path,
                method,
                op,
                declared_statuses(handler),
                password_exempt=password_exempt(path, method, handler),
            )
            for status in sorted(found):
                responses[str(status)] = problem_response(status)
            if "application/json" in (getattr(op.request_body, "content", None) or {}):
                for code, answer in responses.items():
                    if code < "300" and isinstance(answer, OpenAPIResponse):
                        answer.headers = {"Deprecation": DEPRECATION, **(answer.headers or {})}
            op.responses = responses
            # after statuses(): the header is never refused (an unknown language: the default)
            op.parameters = [*(op.parameters or []), ACCEPT_LANGUAGE]
    _links(openapi, handlers)
