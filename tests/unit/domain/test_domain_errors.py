"""Domain errors (domain/errors.py)."""

from __future__ import annotations

import pytest

from aspirasi_core.domain.errors import (
    Conflict,
    DomainError,
    FieldError,
    IllegalTransition,
    Invalid,
    NotAllowed,
    NotFound,
    Throttled,
    Unauthenticated,
)


@pytest.mark.parametrize(
    ("cls", "code"),
    [
        (DomainError, "domain_error"),
        (Invalid, "invalid"),
        (NotFound, "not_found"),
        (NotAllowed, "not_allowed"),
        (Unauthenticated, "unauthenticated"),
        (Conflict, "conflict"),
    ],
)
def test_default_codes(cls, code) -> None:
    exc = cls("Something happened.")
    assert exc.code == code
    assert exc.message == "Something happened."
    assert exc.params == {}
    assert str(exc) == "Something happened."
    assert issubclass(cls, DomainError)
    assert isinstance(exc, Exception)


def test_explicit_code_wins() -> None:
    assert NotFound("x", code="message_not_found").code == "message_not_found"


def test_render_with_params() -> None:
    exc = Conflict("Agency %(name)s has %(n)d open messages.", params={"name": "DLH", "n": 3})
    assert exc.render() == "Agency DLH has 3 open messages."
    assert str(exc) == "Agency DLH has 3 open messages."
    # the msgid stays untranslated and unformatted for gettext
    assert exc.message == "Agency %(name)s has %(n)d open messages."
    assert exc.params == {"name": "DLH", "n": 3}


def test_render_without_params_leaves_percent_alone() -> None:
    assert DomainError("100% done").render() == "100% done"


@pytest.mark.parametrize(
    ("message", "params"),
    [
        ("Missing %(other)s key.", {"name": "x"}),  # KeyError
        ("Number %(n)d please.", {"n": "not a number"}),  # TypeError
        ("Broken %(n)z format.", {"n": 1}),  # ValueError
    ],
)
def test_render_falls_back_to_the_msgid(message, params) -> None:
    exc = DomainError(message, params=params)
    assert exc.render() == message
    assert str(exc) == message


def test_params_are_copied() -> None:
    params = {"n": 1}
    exc = DomainError("%(n)s", params=params)
    params["n"] = 2
    assert exc.render() == "1"


def test_invalid_default_and_errors() -> None:
    exc = Invalid()
    assert exc.message == "The input is not valid."
    assert exc.errors == ()
    assert exc.code == "invalid"
    errs = [FieldError("a", "c1", "m1"), FieldError("b", "c2", "m2")]
    exc = Invalid(errors=iter(errs), code="c1")
    assert exc.errors == tuple(errs)
    assert exc.code == "c1"


def test_invalid_field_shortcut() -> None:
    exc = Invalid.field(
        "stars", "stars_range", "Choose from %(min)s to %(max)s stars.", min=1, max=5
    )
    assert isinstance(exc, Invalid)
    assert exc.code == "stars_range"
    assert exc.errors == (
        FieldError(
            "stars", "stars_range", "Choose from %(min)s to %(max)s stars.", {"min": 1, "max": 5}
        ),
    )
    assert exc.errors[0].render() == "Choose from 1 to 5 stars."
    assert str(exc) == "The input is not valid."


def test_field_error_render_fallback_and_frozen() -> None:
    fe = FieldError("x", "c", "Needs %(what)s.", {"other": 1})
    assert fe.render() == "Needs %(what)s."
    assert FieldError("x", "c", "plain 50%").render() == "plain 50%"
    assert FieldError("x", "c", "m").params == {}
    with pytest.raises(AttributeError):
        fe.code = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("given", "expected"),
    [(60, 60), (1, 1), (0, 1), (-5, 1), (3600, 3600)],
)
def test_throttled_retry_after(given, expected) -> None:
    exc = Throttled(retry_after=given)
    assert exc.retry_after == expected
    assert exc.params == {"seconds": expected}
    assert exc.code == "throttled"
    assert str(exc) == f"Too many attempts. Please try again in {expected} seconds."


def test_throttled_custom_message_and_code() -> None:
    exc = Throttled("Wait %(seconds)s s.", retry_after=0, code="resend_throttled")
    assert exc.code == "resend_throttled"
    assert str(exc) == "Wait 1 s."


def test_illegal_transition_fields() -> None:
    exc = IllegalTransition("done", "reply")
    assert (exc.status, exc.action) == ("done", "reply")
    assert exc.code == "illegal_transition"
    assert exc.params == {"status": "done", "action": "reply"}
    assert str(exc) == "The action 'reply' is not possible while the message is 'done'."
    assert isinstance(exc, Conflict)
    # msgid stays fixed for translation
    assert "%(action)s" in exc.message and "%(status)s" in exc.message


def test_error_classes_are_distinct() -> None:
    """The web adapter maps classes to statuses: 404 and 403 must never be confused."""
    assert not issubclass(NotFound, NotAllowed)
    assert not issubclass(NotAllowed, NotFound)
    assert not issubclass(Invalid, Conflict)
    assert not issubclass(Throttled, Conflict)
