"""What the schema Litestar builds from the handlers cannot say by itself, added
once at start-up to the app's OpenAPI document (``app.openapi_schema``):

- every error answer as ``application/problem+json`` (RFC 9457), for the
  statuses an operation can answer, ``Retry-After`` on 429 and 503;
- both ways to authenticate: a bearer token, or the session cookie with its
  ``X-CSRF-Token`` header on unsafe requests;
- OpenAPI links from a created resource to the operations that act on it.
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Litestar
from litestar.openapi.spec import (
    Components,
    Link,
    OpenAPI,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    Operation,
    Reference,
    Schema,
    SecurityScheme,
)

from ..csrf import SESSION_COOKIE
from .common import API

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
            "`csrf-token` meta tag of any page) in this header, else 403 `csrf`."
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
    401: "No valid credentials (`login_required`, `invalid_token`)",
    403: "Not allowed (`forbidden`, `email_unverified`, `csrf`)",
    404: "Not found (or not visible to the caller)",
    408: "The body arrived too slowly",
    409: "A conflict: the state changed, a stale `If-Match`, a duplicate",
    413: "The body is too large",
    422: "Invalid input: `errors` names each field",
    429: "Too many attempts: try again after `Retry-After` seconds",
    503: "Temporarily unavailable: try again after `Retry-After` seconds",
    507: "No room to store the files",
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


def problem_response(status: int) -> OpenAPIResponse:
    headers: dict[str, Any] = {"Retry-After": RETRY_AFTER} if status in (429, 503) else {}
    if status == 401:
        headers["WWW-Authenticate"] = WWW_AUTHENTICATE
    return OpenAPIResponse(
        description=DESCRIPTIONS[status],
        content={PROBLEM: OpenAPIMediaType(schema=Reference("#/components/schemas/Problem"))},
        headers=headers or None,
    )


def statuses(path: str, method: str, op: Operation) -> set[int]:
    """The error statuses an API operation can answer."""
    out = {400, 503}
    public = op.security == [{}]
    if op.parameters or op.request_body:
        out.add(422)
    if not public:
        out |= {401, 403}
    if "{" in path:
        out.add(404)
    if method in UNSAFE:
        # wrong credentials at log-in; a form body without its CSRF token; a state that changed; a body past
        # the limits; the rate limits of log-in, registration, tracking, submission
        out |= {401, 403, 408, 409, 413, 422, 429}
    if method == "get" and path.endswith("/export"):
        out.add(429)
    if op.request_body and "multipart/form-data" in (getattr(op.request_body, "content", {}) or {}):
        out.add(507)
    return out


def _links(openapi: OpenAPI) -> None:
    """A ``201`` of ``POST <collection>`` links to each operation on
    ``<collection>/{id}`` (and below it) taking that one id, from the answer's ``id``."""
    paths = openapi.paths or {}
    for path, item in paths.items():
        created = item.post.responses.get("201") if item.post and item.post.responses else None
        if not isinstance(created, OpenAPIResponse):
            continue
        links: dict[str, Link | Reference] = {}
        for other, other_item in paths.items():
            names = re.findall(r"\{(\w+)\}", other)
            if len(names) != 1 or not other.startswith(f"{path}/{{"):
                continue
            for method in ("get", "post", "patch", "delete"):
                op = getattr(other_item, method)
                if op is not None and op.operation_id:
                    links[op.operation_id] = Link(
                        operation_id=op.operation_id,
                        parameters={names[0]: "$response.body#/id"},
                    )
        created.links = links or None


def document_api(app: Litestar) -> None:
    """``on_startup``: add the above to ``app.openapi_schema`` before it is served."""
    openapi = app.openapi_schema
    components = openapi.components if isinstance(openapi.components, Components) else Components()
    components.security_schemes = {**(components.security_schemes or {}), **SCHEMES}
    components.schemas = {**(components.schemas or {}), "Problem": PROBLEM_SCHEMA}
    openapi.components = components
    for path, item in (openapi.paths or {}).items():
        if not path.startswith(f"{API}/"):
            continue
        for method in ("get", "post", "put", "patch", "delete"):
            op: Operation | None = getattr(item, method)
            if op is None:
                continue
            if op.security != [{}]:
                op.security = SECURITY_UNSAFE if method in UNSAFE else SECURITY_SAFE
            responses = dict(op.responses or {})
            if method == "get" and path in DOWNLOADS:
                responses["200"] = download_response(DOWNLOADS[path])
            no_content = responses.get("204")
            if isinstance(no_content, OpenAPIResponse):
                no_content.content = None  # nothing follows, not JSON null
            for status in sorted(statuses(path, method, op)):
                responses[str(status)] = problem_response(status)
            op.responses = responses
    _links(openapi)
