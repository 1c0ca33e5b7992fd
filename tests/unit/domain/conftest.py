"""Shared fixtures of the pure-domain unit tests: a policy, a cast of actors, a message factory."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from aspirasi_core.domain.model import Actor, Message, Role, Status
from aspirasi_core.domain.policy import Policy, build_policy

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


@pytest.fixture
def policy() -> Policy:
    return build_policy()


@pytest.fixture
def actors() -> dict[str, Actor]:
    return {
        "citizen": Actor(account_id=1, role=Role.USER),
        "other_citizen": Actor(account_id=2, role=Role.USER),
        "admin": Actor(account_id=10, role=Role.ADMIN),
        "op1": Actor(account_id=21, role=Role.OPERATOR, agency_id=1),
        "op2": Actor(account_id=22, role=Role.OPERATOR, agency_id=2),
        "op_no_agency": Actor(account_id=23, role=Role.OPERATOR, agency_id=None),
        "super": Actor(account_id=30, role=Role.SUPER_ADMIN),
    }


@pytest.fixture
def make_message() -> Callable[..., Message]:
    def make(**overrides: Any) -> Message:
        fields: dict[str, Any] = {
            "id": 100,
            "ticket": "ASP-2026-000100",
            "author_id": 1,
            "subject": "Jalan rusak",
            "body": "Jalan di depan rumah rusak parah.",
            "status": Status.SUBMITTED,
            "confidential": False,
            "anonymous": False,
            "created_at": T0,
            "updated_at": T0,
        }
        fields.update(overrides)
        return Message(**fields)

    return make
