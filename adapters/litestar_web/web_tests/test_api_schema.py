"""The served schema describes the API an integrator uses from it alone: typed
bodies (multipart for files), problem+json errors with ``Retry-After`` where one
is sent, both ways to authenticate, and links from created resources."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .api_support import ApiWorld, build_world

PROBLEM = "application/problem+json"


@pytest.fixture
def schema(sqlite_database: Any, tmp_path: Any) -> Iterator[dict[str, Any]]:
    world: ApiWorld
    for world in build_world(sqlite_database, tmp_path):
        r = world.client.get("/schema/openapi.json")
        assert r.status_code == 200
        yield r.json()


def operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in schema["paths"].items():
        if path.startswith("/api/v1/"):
            for method, op in item.items():
                if method in ("get", "post", "put", "patch", "delete"):
                    yield path, method, op


def test_every_error_is_a_problem_and_429_and_503_say_when_to_retry(
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
        assert "503" in responses, (method, path)
        for status, answer in responses.items():
            if int(status) < 400:
                continue
            assert list(answer["content"]) == [PROBLEM], (method, path, status)
            if status in ("429", "503"):
                assert "Retry-After" in answer["headers"], (method, path, status)
        if op.get("security") != [{}]:
            assert {"401", "403"} <= set(responses), (method, path)
        if "{" in path:
            assert "404" in responses, (method, path)


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


def test_a_created_message_links_to_what_acts_on_it(schema: dict[str, Any]) -> None:
    created = schema["paths"]["/api/v1/messages"]["post"]["responses"]["201"]
    targets = {link["operationId"]: link["parameters"] for link in created["links"].values()}
    get_one = schema["paths"]["/api/v1/messages/{message_id}"]["get"]["operationId"]
    forward = schema["paths"]["/api/v1/messages/{message_id}/forward"]["post"]["operationId"]
    assert targets[get_one] == {"message_id": "$response.body#/id"}
    assert forward in targets


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
