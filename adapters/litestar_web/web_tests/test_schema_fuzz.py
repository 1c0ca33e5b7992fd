"""Schemathesis against the served schema, in process: for nobody, a citizen, an
operator, an admin and the super admin (bearer tokens), every operation with a few
generated requests, then the stateful run along the schema's links. Required:
no server error, every answer in its documented schema, every status documented."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from aspirasi_core.security.crypto import Crypto
from aspirasi_core.storage import SqlDatabase, make_engine
from aspirasi_core.testing.databases import TEST_SECRET_KEY

from .api_support import ApiWorld, build_world

#: The roles the schema is walked as (None: nobody signed in).
ACTORS = {
    "anonymous": None,
    "citizen": "ani",
    "operator": "op_pupr",
    "admin": "admin",
    "super_admin": "root",
}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
]
#: Few examples per operation: five roles, some fifty operations, under a minute.
FEW = settings(
    max_examples=4,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiWorld]:
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    database = SqlDatabase(make_engine(f"sqlite:///{tmp}/aspirasi.db"), Crypto(TEST_SECRET_KEY))
    try:
        for w in build_world(database, tmp):
            w.seed_message()
            yield w
    finally:
        database.dispose()


@pytest.fixture(scope="module")
def auth(world: ApiWorld) -> dict[str, dict[str, str]]:
    return {role: world.bearer(username) if username else {} for role, username in ACTORS.items()}


@pytest.fixture(scope="module")
def api_schema(world: ApiWorld) -> Any:
    return schemathesis.openapi.from_asgi("/schema/openapi.json", world.app).include(
        path_regex="^/api/v1/"
    )


def test_every_operation_answers_as_documented(api_schema: Any, auth: dict[str, Any]) -> None:
    failures: list[str] = []
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @FEW
        @given(case=operation.as_strategy())
        def walk(case: Any) -> None:
            for headers in auth.values():
                case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            walk()
        except (Exception, BaseExceptionGroup) as exc:  # every operation's, not the first only
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("role", ["citizen", "super_admin"])
def test_the_links_lead_to_operations_that_answer_as_documented(
    api_schema: Any, auth: dict[str, Any], role: str
) -> None:
    """The stateful run: created resources are followed along the schema's links."""
    headers = auth[role]

    class Walk(api_schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": headers}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)

    Walk.run(
        settings=settings(
            max_examples=6,
            stateful_step_count=4,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )
