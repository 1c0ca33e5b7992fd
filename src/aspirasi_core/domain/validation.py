"""Validation and normalization of what people type.

Every function returns the clean value or raises :class:`Invalid` carrying one
:class:`FieldError` per problem, with a stable code and a gettext msgid. Use
:class:`Collector` to gather the errors of a whole form before raising, so a
person sees every problem at once.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date
from importlib import resources
from typing import Any, TypeVar

import attrs
from email_validator import EmailNotValidError, validate_email

from .errors import FieldError, Invalid
from .model import Visibility

T = TypeVar("T")

#: Limits of the inputs; the web layer shows them next to the fields.
LIMITS = {
    "email": 254,
    "username_min": 3,
    "username_max": 32,
    "full_name": 120,
    "password_min": 8,
    "password_max": 128,
    "subject": 200,
    "body": 5000,
    "note": 2000,
    "reason": 2000,
    "answer": 5000,
    "comment": 1000,
    "name": 150,
    "code": 64,
}
#: The stars of a rating.
MIN_STARS = 1
MAX_STARS = 5
#: The largest record id :func:`check_id` accepts.
MAX_ID = 2**62

_USERNAME_RE = re.compile(r"\A[a-z0-9][a-z0-9_.\-]*\Z")
_CODE_RE = re.compile(r"\A[a-z0-9][a-z0-9\-]*\Z")


@attrs.define
class Collector:
    """Collects field errors across several checks, then raises them together."""

    errors: list[FieldError] = attrs.field(factory=list)

    def check(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """Run ``fn``; on :class:`Invalid` keep its errors and return None."""
        try:
            return fn(*args, **kwargs)
        except Invalid as exc:
            self.errors.extend(exc.errors)
            return None

    def add(self, field: str, code: str, message: str, **params: Any) -> None:
        self.errors.append(FieldError(field, code, message, params))

    def raise_if_any(self) -> None:
        if self.errors:
            raise Invalid(errors=self.errors, code=self.errors[0].code)


_ASCII_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ASCII_CONTROL_BUT_NEWLINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


_ZWJ = "\u200d"
_VARIATION_SELECTOR_16 = "\ufe0f"


def _is_pictographic(ch: str) -> bool:
    """A pictograph as emoji sequences use them (Unicode's Extended_Pictographic, near
    enough): a symbol (``So``), or any code point of the emoji planes' blocks —
    including those not assigned yet, which Unicode keeps for future emoji (U+1FAE9
    reached phones before this Python's Unicode tables)."""
    cp = ord(ch)
    return 0x1F000 <= cp <= 0x1FAFF or 0x1FC00 <= cp <= 0x1FFFD or unicodedata.category(ch) == "So"


def _has_control_chars(value: str, allow_newlines: bool) -> bool:
    """Whether ``value`` holds a character people cannot see or should not send:
    controls, format characters (bidi overrides, tags, soft hyphens…), surrogates,
    private-use and unassigned code points — except what emoji sequences phones send
    are made of: a zero-width joiner between two pictographs (👩‍💻, 🏳️‍🌈) and
    pictographs newer than this Python's Unicode tables."""
    if value.isascii():
        # The same rule without a Python loop: in ASCII, only \x00-\x1f and \x7f
        # are controls (category Cc), and nothing is Cf, Cs, Co, Cn, Zl or Zp.
        pattern = _ASCII_CONTROL_BUT_NEWLINES if allow_newlines else _ASCII_CONTROL
        return pattern.search(value) is not None
    last = len(value) - 1
    for i, ch in enumerate(value):
        if allow_newlines and ch in "\n\r\t":
            continue
        category = unicodedata.category(ch)
        if category == "Cn" and _is_pictographic(ch):
            continue
        if ch == _ZWJ and 0 < i < last and _is_pictographic(value[i + 1]):
            before = value[i - 1]
            if before == _VARIATION_SELECTOR_16 or _is_pictographic(before):
                continue
        if category in ("Cc", "Cf", "Cs", "Co", "Cn"):
            return True
        if not allow_newlines and category in ("Zl", "Zp"):
            return True
    return False


def clean_text(
    value: Any,
    field: str,
    *,
    max_length: int,
    required: bool = True,
    multiline: bool = False,
    label: str | None = None,
) -> str:
    """Strip, NFC-normalize and bound a text; refuse control characters."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise Invalid.field(field, "text_type", "This field must be text.")
    text = unicodedata.normalize("NFC", value.replace("\r\n", "\n")).strip()
    if not text:
        if required:
            raise Invalid.field(field, "required", "This field is required.")
        return ""
    if len(text) > max_length:
        raise Invalid.field(
            field, "too_long", "At most %(max)s characters are allowed.", max=max_length
        )
    if _has_control_chars(text, allow_newlines=multiline):
        raise Invalid.field(
            field, "bad_characters", "This field contains characters that are not allowed."
        )
    return text


def normalize_email(value: Any, field: str = "email") -> str:
    """Validate an address with email-validator (no DNS) and return it normalized, lower-case."""
    if not isinstance(value, str) or not value.strip():
        raise Invalid.field(field, "required", "This field is required.")
    if len(value) > LIMITS["email"]:
        raise Invalid.field(field, "email_invalid", "Enter a valid e-mail address.")
    try:
        result = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError:
        raise Invalid.field(field, "email_invalid", "Enter a valid e-mail address.") from None
    return result.normalized.lower()


def normalize_username(value: Any, field: str = "username") -> str:
    """3–32 characters: letters, digits, ``_ . -``; stored lower-case."""
    if not isinstance(value, str) or not value.strip():
        raise Invalid.field(field, "required", "This field is required.")
    name = value.strip().lower()
    if not (LIMITS["username_min"] <= len(name) <= LIMITS["username_max"]):
        raise Invalid.field(
            field,
            "username_length",
            "A username has %(min)s to %(max)s characters.",
            min=LIMITS["username_min"],
            max=LIMITS["username_max"],
        )
    if not _USERNAME_RE.match(name) or "@" in name:
        raise Invalid.field(
            field,
            "username_format",
            "Use only letters, digits, dots, dashes and underscores, starting with a letter or digit.",
        )
    return name


def normalize_code(value: Any, field: str = "code") -> str:
    """A short machine code (agency, category): lower-case letters, digits and dashes."""
    if not isinstance(value, str) or not value.strip():
        raise Invalid.field(field, "required", "This field is required.")
    code = value.strip().lower()
    if len(code) > LIMITS["code"] or not _CODE_RE.match(code):
        raise Invalid.field(
            field, "code_format", "Use lower-case letters, digits and dashes (at most 64)."
        )
    return code


def _load_common_passwords() -> frozenset[str]:
    text = resources.files(__package__).joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower()
        for line in text.splitlines()
        if line.strip() and not line.startswith("#")
    )


COMMON_PASSWORDS: frozenset[str] = _load_common_passwords()


def check_password(
    password: Any,
    confirm: Any,
    *,
    field: str = "password",
    confirm_field: str = "password_confirm",
    personal: tuple[str, ...] = (),
) -> str:
    """ASVS rules: 8–128 characters, no composition rules, not a common password,
    not the username or e-mail; ``confirm`` must match."""
    collector = Collector()
    if not isinstance(password, str) or not password:
        collector.add(field, "required", "This field is required.")
        collector.raise_if_any()
    assert isinstance(password, str)
    if len(password) < LIMITS["password_min"]:
        collector.add(
            field,
            "password_too_short",
            "Use at least %(min)s characters.",
            min=LIMITS["password_min"],
        )
    elif len(password) > LIMITS["password_max"]:
        collector.add(
            field,
            "password_too_long",
            "Use at most %(max)s characters.",
            max=LIMITS["password_max"],
        )
    else:
        lowered = password.lower()
        if lowered in COMMON_PASSWORDS or any(p and lowered == p.lower() for p in personal):
            collector.add(
                field,
                "password_common",
                "This password is too easy to guess. Choose a less common one.",
            )
    if not isinstance(confirm, str) or confirm != password:
        collector.add(confirm_field, "password_mismatch", "The two passwords do not match.")
    collector.raise_if_any()
    return password


_ASCII_INT = re.compile(r"\A[0-9]{1,19}\Z")


def _as_int(value: Any) -> Any:
    """Digit strings (ASCII only) become ints; anything else is returned unchanged."""
    if isinstance(value, str) and _ASCII_INT.match(value.strip()):
        return int(value.strip())
    return value


_TRUE = ("1", "true", "on", "yes")
_FALSE = ("0", "false", "off", "no", "")


def check_flag(value: Any, field: str) -> bool:
    """A yes/no input: a bool, or the words forms and JSON clients send
    (``1/0``, ``true/false``, ``on/off``, ``yes/no``; absent is no)."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE or word in _FALSE:
            return word in _TRUE
    raise Invalid.field(field, "flag_invalid", "Choose yes or no.")


def check_stars(value: Any, field: str = "stars") -> int:
    """A rating: a whole number from 1 to 5."""
    if isinstance(value, bool):
        value = None
    value = _as_int(value)
    if not isinstance(value, int) or not MIN_STARS <= value <= MAX_STARS:
        raise Invalid.field(field, "stars_range", "Choose from 1 to 5 stars.")
    return value


def check_visibility(value: Any, default: Visibility, field: str = "visibility") -> Visibility:
    """``"internal"`` or ``"sender"`` (see :class:`~.model.Visibility`); None is
    ``default``. Anything else is refused (code ``visibility_unknown``)."""
    if value is None:
        return default
    if isinstance(value, str):
        try:
            return Visibility(value.strip().lower())
        except ValueError:
            pass
    raise Invalid.field(
        field,
        "visibility_unknown",
        "Choose who may read the text: internal (staff only) or sender.",
    )


def check_id(value: Any, field: str) -> int:
    """A positive record id, as given by a form or a JSON body."""
    value = _as_int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0 or value > MAX_ID:
        raise Invalid.field(field, "required", "This field is required.")
    return value


#: The days date filters accept: a day far outside them is a typing error, and
#: shifting it by the province's time zone would leave the calendar.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)


#: The one spelling of a day people and clients send: ``YYYY-MM-DD`` in ASCII
#: digits, nothing around it (``date.fromisoformat`` also takes ``20270102`` and
#: week dates; a form that forgives spaces trims them itself).
DAY_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def check_day(value: Any, field: str) -> date:
    """A day spelled as :data:`DAY_TEXT`, from :data:`FIRST_DAY` to :data:`LAST_DAY`."""
    text = value if isinstance(value, str) else ""
    try:
        if not DAY_TEXT.fullmatch(text):
            raise ValueError(text)
        day = date.fromisoformat(text)
    except ValueError:
        raise Invalid.field(field, "date_format", "Use the date format YYYY-MM-DD.") from None
    check_day_range(day, field)
    return day


def check_day_range(day: date, field: str) -> date:
    """``day`` when it lies from :data:`FIRST_DAY` to :data:`LAST_DAY`."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise Invalid.field(
            field,
            "date_range",
            "Choose a date between %(first)s and %(last)s.",
            first=FIRST_DAY,  # days: an adapter shows them in its date style
            last=LAST_DAY,
        )
    return day
