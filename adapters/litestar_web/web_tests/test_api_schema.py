"""The served schema describes the API an integrator uses from it alone: typed
bodies (multipart for files), problem+json errors with ``Retry-After`` where one
is sent, both ways to authenticate, and links from created resources."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from aspirasi_core.domain.nik import NIK_DIGITS
from aspirasi_core.domain.sop import MAX_SOP_DAYS
from aspirasi_core.domain.validation import LIMITS, MAX_ID, MAX_STARS, MIN_STARS
from aspirasi_core.services import LANGUAGES
from aspirasi_evaluator.reprimands import MESSAGES_MAX, REASONS, TEXT_MAX
from aspirasi_web.api.bodies import Body, required_fields
from aspirasi_web.api.openapi import handlers_by_operation
from aspirasi_web.guards import API_ALLOWED

from .api_support import ApiWorld, build_world

PROBLEM = "application/problem+json"


@pytest.fixture
def schema(sqlite_database: Any, tmp_path: Any) -> Iterator[dict[str, Any]]:
    world: ApiWorld
    for world in build_world(sqlite_database, tmp_path):
        r = world.client.get("/schema/openapi.json")
        assert r.status_code == 200
        yield r.json()


@pytest.fixture
def api_world(sqlite_database: Any, tmp_path: Any) -> Iterator[ApiWorld]:
    yield from build_world(sqlite_database, tmp_path)


def operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in schema["paths"].items():
        if path.startswith("/api/v1/"):
            for method, op in item.items():
                if method in ("get", "post", "put", "patch", "delete"):
                    yield path, method, op


def test_every_error_is_a_problem_and_429_503_and_507_say_when_to_retry(
    schema: dict[str, Any],
) -> None:
    assert schema["components"]["schemas"]["Problem"]["required"] == [
        "type",
        "title",
        "status",
        "detail",
        "code",
    ]
    for path, method, op in operations(schema):
        responses = op["responses"]
        assert {"503", "507"} <= set(responses), (method, path)
        for status, answer in responses.items():
            if int(status) < 400:
                continue
            assert list(answer["content"]) == [PROBLEM], (method, path, status)
            if status in ("429", "503", "507"):
                assert "Retry-After" in answer["headers"], (method, path, status)
        if op.get("security") != [{}]:
            assert "401" in responses, (method, path)
        if (method.upper(), path) not in API_ALLOWED:  # guards.password_changed, at least
            assert "403" in responses, (method, path)
        if "{" in path:
            assert "404" in responses, (method, path)
        if method == "get":  # nothing reads a body, nothing is left unreadable
            assert not {"400", "408", "413"} & set(responses), (method, path)


def errors_of(op: dict[str, Any]) -> set[int]:
    return {int(status) for status in op["responses"] if int(status) >= 400}


#: What any request may meet: the database (or its disk) out of reach or full.
ANY = {503, 507}
#: What an unsafe request may meet before its handler: a form that cannot be read,
#: arrives too slowly or is too large, a missing CSRF token.
UNSAFE = {400, 403, 408, 413}


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        # Open to anyone, reads parameters: only a bad one, and an account that must
        # change its password first (403) — no 401, no 409.
        ("get", "/api/v1/public/messages", {403, 422}),
        ("get", "/api/v1/regions", {403}),
        # Open to anyone: wrong credentials are 401; rate-limited; nothing to conflict.
        ("post", "/api/v1/auth/login", {*UNSAFE, 401, 422, 429}),
        # Needs credentials but nothing else: no 403, no 422.
        ("get", "/api/v1/me", {401}),
        # A citizen's command that cannot conflict and is not rate-limited.
        ("patch", "/api/v1/me", {*UNSAFE, 401, 422}),
        # A staff command on the status machine (If-Match, Idempotency-Key).
        ("post", "/api/v1/messages/{message_id}/forward", {*UNSAFE, 401, 404, 409, 422}),
        # An admin command with nothing to conflict.
        ("delete", "/api/v1/admin/agencies/{agency_id}", {*UNSAFE, 401, 404, 422}),
        # A super admin's look-up of a NIK named in the body.
        ("post", "/api/v1/admin/nik-holder", {*UNSAFE, 401, 404, 422}),
        # The multipart upload: rate-limited, a duplicate ticket, an Idempotency-Key.
        ("post", "/api/v1/messages", {*UNSAFE, 401, 409, 422, 429}),
        # Plugins: the evaluator's second acknowledgement conflicts; a list of land issues.
        ("post", "/api/v1/reprimands/{reprimand_id}/acknowledge", {*UNSAFE, 401, 404, 409, 422}),
        ("post", "/api/v1/evaluator/reprimands", {*UNSAFE, 401, 422}),
        ("get", "/api/v1/land-issues", {401, 403, 422}),
    ],
)
def test_an_operation_documents_the_errors_it_can_answer(
    schema: dict[str, Any], method: str, path: str, expected: set[int]
) -> None:
    assert errors_of(schema["paths"][path][method]) == expected | ANY


#: The operations that run a use case the ``aspirasi_before_use_case`` hook may veto
#: (the rate limits: ``aspirasi_rate_limit.RULES``), or that pause themselves.
RATE_LIMITED = {
    ("post", "/api/v1/auth/register"),
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/resend-verification"),
    ("post", "/api/v1/auth/verification-email"),
    ("post", "/api/v1/auth/forgot-password"),
    ("post", "/api/v1/auth/reset-password"),
    ("post", "/api/v1/me/password"),
    ("get", "/api/v1/me/export"),
    ("delete", "/api/v1/me"),
    ("post", "/api/v1/messages"),
    ("post", "/api/v1/public/tracking"),
}


def test_409_and_429_only_where_declared(api_world: ApiWorld) -> None:
    """409 where the handler declares it (``responses=problems(409)``: its use case
    can meet a ``Conflict``) or takes ``Idempotency-Key`` or ``If-Match``; 429 only
    where declared, i.e. on the operations running a rate-limited use case."""
    schema = api_world.client.get("/schema/openapi.json").json()
    handlers = handlers_by_operation(api_world.app)
    limited = set()
    for path, method, op in operations(schema):
        handler = handlers[(path, method)]
        declared = {int(s) for s in handler.responses or {}}
        headers = {p["name"].lower() for p in op.get("parameters", []) if p["in"] == "header"}
        conflicts = 409 in declared or bool(headers & {"idempotency-key", "if-match"})
        assert ("409" in op["responses"]) == conflicts, (method, path)
        assert ("429" in op["responses"]) == (429 in declared), (method, path)
        if 429 in declared:
            limited.add((method, path))
    assert limited == RATE_LIMITED


def test_a_public_operation_answers_403_to_an_account_that_must_change_its_password(
    api_world: ApiWorld,
) -> None:
    """Why every operation but ``guards.API_ALLOWED`` documents 403, the public ones too."""
    world = api_world
    bearer = world.bearer("ani")
    world.core.deps.db.run_sync(
        lambda uow: uow.accounts.update(world.ids["ani"], must_change_password=True), write=True
    )
    refused = world.client.get("/api/v1/public/messages", headers=bearer)
    assert refused.status_code == 403
    assert refused.json()["code"] == "password_change_required"
    assert world.client.get("/api/v1/me", headers=bearer).status_code == 200


def test_both_ways_to_authenticate_are_documented(schema: dict[str, Any]) -> None:
    schemes = schema["components"]["securitySchemes"]
    assert schemes["bearer"]["scheme"] == "bearer"
    assert schemes["session"] == {**schemes["session"], "type": "apiKey", "in": "cookie"}
    assert schemes["csrf"]["in"] == "header" and schemes["csrf"]["name"] == "X-CSRF-Token"
    submit = schema["paths"]["/api/v1/messages"]["post"]
    assert {"session": [], "csrf": []} in submit["security"]
    assert {"bearer": []} in submit["security"]
    # log-in and tracking need no credentials
    assert schema["paths"]["/api/v1/auth/login"]["post"]["security"] == [{}]
    assert schema["paths"]["/api/v1/public/tracking"]["post"]["security"] == [{}]


def _body_schema(schema: dict[str, Any], op: dict[str, Any], media: str) -> dict[str, Any]:
    ref = op["requestBody"]["content"][media]["schema"]["$ref"]
    return schema["components"]["schemas"][ref.rsplit("/", 1)[1]]  # type: ignore[no-any-return]


def test_bodies_are_typed_files_as_multipart(schema: dict[str, Any]) -> None:
    paths = schema["paths"]
    login = _body_schema(schema, paths["/api/v1/auth/login"]["post"], "application/json")
    assert set(login["properties"]) == {"login", "password"}
    message = _body_schema(schema, paths["/api/v1/messages"]["post"], "multipart/form-data")
    assert message["properties"]["attachment"]["items"]["format"] == "binary"
    assert message["properties"]["anonymous"]["type"] == "boolean"
    reply = paths["/api/v1/messages/{message_id}/reply"]["post"]
    assert "multipart/form-data" in reply["requestBody"]["content"]
    forward = _body_schema(
        schema, paths["/api/v1/messages/{message_id}/forward"]["post"], "application/json"
    )
    assert {"internal", "sender"} <= set(forward["properties"]["visibility"]["enum"])
    rating = _body_schema(
        schema, paths["/api/v1/messages/{message_id}/rating"]["post"], "application/json"
    )
    assert "stars" in rating["properties"]


def test_form_operations_name_their_files_types_and_their_json_spelling(
    schema: dict[str, Any],
) -> None:
    """The file parts say which files they take, and the two form operations that
    also take JSON (no files) document that body too."""
    paths = schema["paths"]
    for path, media in (
        ("/api/v1/messages", "image/jpeg, application/pdf"),
        ("/api/v1/messages/{message_id}/reply", "application/pdf"),
    ):
        content = paths[path]["post"]["requestBody"]["content"]
        assert content["multipart/form-data"]["encoding"]["attachment"]["contentType"] == media
        as_json = content["application/json"]["schema"]
        assert "attachment" not in as_json["properties"]
        form = _body_schema(schema, paths[path]["post"], "multipart/form-data")
        assert set(as_json["properties"]) == set(form["properties"]) - {"attachment"}
        assert as_json.get("required") == [r for r in form.get("required", []) if r != "attachment"]


def test_bodies_say_what_the_core_requires_with_its_limits(schema: dict[str, Any]) -> None:
    """A client generated from the schema knows which fields the core refuses to
    go without and the bounds it enforces, taken from the core's constants."""
    paths = schema["paths"]

    def body(path: str, media: str = "application/json") -> dict[str, Any]:
        return _body_schema(schema, paths[path]["post"], media)

    register = body("/api/v1/auth/register")
    fields = {"email", "username", "full_name", "nik", "password", "password_confirm"}
    assert set(register["required"]) == fields
    props = register["properties"]
    assert not any("default" in props[name] for name in fields)
    assert props["nik"]["pattern"] == f"^[0-9]{{{NIK_DIGITS}}}$" == "^[0-9]{16}$"
    assert props["email"]["maxLength"] == LIMITS["email"]
    assert (props["username"]["minLength"], props["username"]["maxLength"]) == (
        LIMITS["username_min"],
        LIMITS["username_max"],
    )
    assert (props["password"]["minLength"], props["password"]["maxLength"]) == (
        LIMITS["password_min"],
        LIMITS["password_max"],
    )
    assert props["full_name"] == {"type": "string", "minLength": 1, "maxLength": 120}
    rating = body("/api/v1/messages/{message_id}/rating")
    assert rating["required"] == ["stars"]
    stars = rating["properties"]["stars"]
    assert (stars["minimum"], stars["maximum"]) == (MIN_STARS, MAX_STARS) == (1, 5)
    assert rating["properties"]["comment"]["maxLength"] == LIMITS["comment"]
    message = body("/api/v1/messages", "multipart/form-data")
    assert message["required"] == ["body", "subject"]
    assert message["properties"]["subject"]["maxLength"] == LIMITS["subject"] == 200
    assert message["properties"]["body"]["maxLength"] == LIMITS["body"]
    forward = body("/api/v1/messages/{message_id}/forward")
    assert forward["required"] == ["agency_id", "category_id", "subcategory_id"]
    assert forward["properties"]["agency_id"]["maximum"] == MAX_ID
    assert forward["properties"]["note"]["maxLength"] == LIMITS["note"]
    reject = body("/api/v1/messages/{message_id}/reject")
    assert reject["required"] == ["reason"]
    assert reject["properties"]["reason"]["maxLength"] == LIMITS["reason"]
    profile = _body_schema(schema, paths["/api/v1/me"]["patch"], "application/json")
    assert profile["required"] == []
    assert profile["properties"]["language"]["enum"] == [*LANGUAGES, None]
    days = _body_schema(
        schema, paths["/api/v1/admin/subcategories/{subcategory_id}"]["patch"], "application/json"
    )["properties"]["sop_reply_days"]
    assert (days["minimum"], days["maximum"]) == (1, MAX_SOP_DAYS)
    staff = body("/api/v1/admin/users")
    assert set(staff["required"]) == {"email", "full_name", "password", "role"}
    reprimand = body("/api/v1/evaluator/reprimands")
    assert reprimand["required"] == ["agency_id", "message_ids", "text"]
    assert reprimand["properties"]["reason"]["enum"] == list(REASONS)
    assert reprimand["properties"]["reason"]["default"] == "overdue"
    assert reprimand["properties"]["text"]["maxLength"] == TEXT_MAX
    assert reprimand["properties"]["message_ids"]["maxItems"] == MESSAGES_MAX


def _subclasses(cls: type[Body]) -> Iterator[type[Body]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_body_schema_lists_the_fields_marked_required(schema: dict[str, Any]) -> None:
    """Each body (the plugins' too) is documented with the fields its annotations
    mark required, and a field's description does not hide its bounds."""
    by_title = {s.get("title"): s for s in schema["components"]["schemas"].values()}
    bodies = [cls for cls in _subclasses(Body) if cls.__name__ in by_title]
    assert len(bodies) >= 30
    unbounded = set()
    for cls in bodies:
        documented = by_title[cls.__name__]
        assert documented["required"] == sorted(required_fields(cls)), cls
        for name, prop in documented["properties"].items():
            if prop.get("type") == "string" and not {"maxLength", "pattern", "enum"} & set(prop):
                unbounded.add(f"{cls.__name__}.{name}")
    # what the core compares (a password, a token) or checks against its own
    # lists (the roles of the policy, which plugins may extend) has no bound
    assert unbounded == {
        "InvitationBody.role",
        "LoginBody.login",
        "LoginBody.password",
        "PasswordBody.current_password",
        "PasswordOnlyBody.password",
        "ResetBody.token",
        "StaffBody.role",
        "VerifyBody.token",
    }


def test_a_created_message_links_to_what_acts_on_it(schema: dict[str, Any]) -> None:
    created = schema["paths"]["/api/v1/messages"]["post"]["responses"]["201"]
    targets = {link["operationId"]: link["parameters"] for link in created["links"].values()}
    get_one = schema["paths"]["/api/v1/messages/{message_id}"]["get"]["operationId"]
    forward = schema["paths"]["/api/v1/messages/{message_id}/forward"]["post"]["operationId"]
    assert targets[get_one] == {"message_id": "$response.body#/id"}
    assert forward in targets
    assert created["description"] == "Created: the new resource"


@pytest.mark.parametrize(
    ("created_by", "acted_on"),
    [
        # what is made elsewhere than under its own collection (opt LINKS_TO)
        ("/api/v1/admin/invitations", "/api/v1/admin/users/{account_id}"),
        ("/api/v1/evaluator/reprimands", "/api/v1/reprimands/{reprimand_id}/acknowledge"),
    ],
)
def test_what_a_post_creates_elsewhere_links_to_where_it_lives(
    schema: dict[str, Any], created_by: str, acted_on: str
) -> None:
    created = schema["paths"][created_by]["post"]["responses"]["201"]
    targets = {link["operationId"]: link["parameters"] for link in created["links"].values()}
    (name,) = (n.strip("{}") for n in acted_on.split("/") if n.startswith("{"))
    for op in schema["paths"][acted_on].values():
        assert targets[op["operationId"]] == {name: "$response.body#/id"}, (created_by, op)


def test_downloads_are_files_of_their_media_types(schema: dict[str, Any]) -> None:
    paths = schema["paths"]
    attachment = paths["/api/v1/messages/{message_id}/attachments/{attachment_id}"]["get"]
    content = attachment["responses"]["200"]["content"]
    assert set(content) == {"image/jpeg", "application/pdf"}
    assert content["application/pdf"]["schema"] == {"type": "string", "format": "binary"}
    export = paths["/api/v1/me/export"]["get"]["responses"]["200"]
    assert set(export["content"]) == {"application/zip"}
    assert "Content-Disposition" in export["headers"]


def _untyped(schema: dict[str, Any], node: Any, where: str, seen: set[str]) -> Iterator[str]:
    """Where ``node`` (followed through its ``$ref``s) has an object of unknown fields."""
    if isinstance(node, list):
        for n, item in enumerate(node):
            yield from _untyped(schema, item, f"{where}[{n}]", seen)
        return
    if not isinstance(node, dict):
        return
    if node == {}:
        yield where
    ref = node.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[1]
        if name not in seen:
            seen.add(name)
            yield from _untyped(schema, schema["components"]["schemas"][name], name, seen)
        return
    if (
        node.get("type") == "object"
        and "properties" not in node
        and node.get("additionalProperties") in (None, {}, True)
    ):
        yield where
    for name, field in node.get("properties", {}).items():
        yield from _untyped(schema, field, f"{where}.{name}", seen)
    for key in ("items", "oneOf", "anyOf", "allOf", "additionalProperties"):
        if key in node:
            yield from _untyped(schema, node[key], f"{where}/{key}", seen)


def test_every_success_answer_documents_its_fields(schema: dict[str, Any]) -> None:
    """No 2xx JSON answer is a bare ``object`` (nor an object inside one): an
    integrator reads every field of every answer from the schema (plugins' too)."""
    untyped = []
    for path, method, op in operations(schema):
        for status, answer in op["responses"].items():
            if int(status) >= 300:
                continue
            for media, content in answer.get("content", {}).items():
                if media.endswith("json"):
                    found = _untyped(schema, content["schema"], "", set())
                    untyped += [(method, path, status, at) for at in found]
    assert untyped == []


def test_every_operation_says_what_it_does(schema: dict[str, Any]) -> None:
    """A summary and a description (the handler's docstring) on every operation,
    and no Sphinx cross-reference (``:func:`…```) leaking into it."""
    for path, method, op in operations(schema):
        assert op.get("summary") and op.get("description"), (method, path)
        assert ":func:" not in op["description"] and ":class:" not in op["description"]


def test_every_operation_documents_the_language_of_its_texts(schema: dict[str, Any]) -> None:
    for path, method, op in operations(schema):
        names = [p["name"] for p in op.get("parameters", []) if p["in"] == "header"]
        assert "Accept-Language" in names, (method, path)


def _answer_objects(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every named object schema a 2xx JSON answer reaches, by name (plugins' too)."""
    found: dict[str, dict[str, Any]] = {}

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                name = ref.rsplit("/", 1)[1]
                if name not in found:
                    found[name] = schema["components"]["schemas"][name]
                    walk(found[name])
                return
            for value in node.values():
                walk(value)

    for _path, _method, op in operations(schema):
        for status, answer in op["responses"].items():
            if int(status) < 300:
                for media, content in answer.get("content", {}).items():
                    if media.endswith("json"):
                        walk(content["schema"])
    return found


def _resolved(schema: dict[str, Any], field: dict[str, Any]) -> list[dict[str, Any]]:
    """A property's non-null alternatives, ``$ref`` followed."""
    out = []
    for alt in field.get("oneOf", [field]):
        if "$ref" in alt:
            alt = schema["components"]["schemas"][alt["$ref"].rsplit("/", 1)[1]]
        if alt.get("type") != "null":
            out.append(alt)
    return out


DATE_FIELDS = {"day", "due_date", "from", "to"}
STATUS_FIELDS = {"status", "from_status", "to_status", "visibility", "side", "outcome"}


def test_answers_type_their_times_statuses_and_cursors(schema: dict[str, Any]) -> None:
    """A client generated from the schema gets real types: every instant
    (``at``, ``*_at``) is a ``date-time``, every day a ``date``, every status (and
    the other closed sets: visibility, side, outcome) lists its values, and
    ``next_cursor`` is required in every list (present, null on the last page)."""
    loose = []
    pages = 0
    for name, obj in _answer_objects(schema).items():
        props = obj.get("properties", {})
        for prop, field in props.items():
            alts = _resolved(schema, field)
            if prop == "at" or prop.endswith("_at"):
                typed = all(a.get("format") == "date-time" for a in alts)
            elif prop in DATE_FIELDS:
                typed = all(a.get("format") == "date" for a in alts)
            elif prop in STATUS_FIELDS:
                typed = all(a.get("enum") or "const" in a for a in alts)
            else:
                continue
            if not typed:
                loose.append((name, prop))
        if "next_cursor" in props:
            pages += 1
            if "next_cursor" not in obj.get("required", []):
                loose.append((name, "next_cursor"))
    assert loose == []
    assert pages >= 10  # the lists were found (core and plugins)
