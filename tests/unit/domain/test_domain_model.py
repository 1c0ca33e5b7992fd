"""Entities and codes (domain/model.py) against SPEC.md."""

from __future__ import annotations

from datetime import UTC, datetime

import attrs
import pytest

from aspirasi_core.domain.model import Account, Action, Actor, CategoryCode, Role, Status

T0 = datetime(2026, 1, 5, tzinfo=UTC)


def test_status_codes_are_the_spec_codes() -> None:
    assert {s.value for s in Status} == {
        "submitted",
        "forwarded",
        "in_progress",
        "done",
        "rejected",
        "withdrawn",
    }
    assert Status("in_progress") is Status.IN_PROGRESS
    assert str(Status.DONE) == "done"


def test_action_codes() -> None:
    assert {a.value for a in Action} == {
        "submit",
        "forward",
        "reforward",
        "reject",
        "withdraw",
        "start",
        "progress",
        "reply",
        "return",
        "reopen",
    }


def test_roles_and_categories() -> None:
    assert Role.BUILTIN == ("super_admin", "admin", "operator", "user")
    assert frozenset({"super_admin", "admin", "operator"}) == Role.STAFF
    assert (CategoryCode.ASPIRASI, CategoryCode.ADUAN) == ("aspirasi", "aduan")


def _account(**kw) -> Account:
    fields = {
        "id": 7,
        "email": "op@example.com",
        "username": "op",
        "full_name": "Operator Satu",
        "role": Role.OPERATOR,
        "agency_id": 3,
        "permissions": frozenset({"land_issue.monitor"}),
        "is_active": True,
        "email_verified_at": T0,
        "language": "id",
        "created_at": T0,
        "password_hash": "$argon2id$secret",
    }
    fields.update(kw)
    return Account(**fields)


def test_account_actor() -> None:
    assert _account().actor() == Actor(
        account_id=7,
        role=Role.OPERATOR,
        agency_id=3,
        permissions=frozenset({"land_issue.monitor"}),
        verified=True,
        active=True,
    )


def test_account_actor_unverified_and_inactive() -> None:
    acc = _account(email_verified_at=None, is_active=False)
    assert acc.verified is False
    actor = acc.actor()
    assert actor.verified is False
    assert actor.active is False


def test_account_repr_hides_password_hash() -> None:
    assert "$argon2id$secret" not in repr(_account())


def test_entities_are_frozen() -> None:
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        _account().role = Role.SUPER_ADMIN  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        Actor(1, Role.USER).role = Role.ADMIN  # type: ignore[misc]
