"""The request bodies of the JSON API, as msgspec structs: Litestar decodes and
type-checks them before the handler runs and documents them in the schema.

Only types are checked here (a wrong type answers 422 with the field and a
translated message, see :mod:`aspirasi_web.errors`); what the text must say
(length, format, the NIK's digits) is the core's business, which answers every
field at once with its own codes. So the text fields default to ``""`` and the
core says which are missing — after it has checked that the caller may act at
all (a citizen sending ``{}`` to a staff command learns 403, not the fields).

The schema still says what the core enforces: the bounds of a field are
``Parameter(...)`` in its annotation, taken from the core's constants (Litestar
documents them, msgspec ignores them: the core stays the one that refuses), and
the fields the core refuses to go without are ``Parameter(required=True)``,
which :func:`document_required` turns into the schema's ``required``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

import msgspec
from litestar import Litestar
from litestar.datastructures import UploadFile
from litestar.openapi.spec import Schema
from litestar.params import Parameter, ParameterKwarg
from msgspec import UNSET, Meta, UnsetType

from aspirasi_core.domain.nik import NIK_DIGITS
from aspirasi_core.domain.sop import MAX_SOP_DAYS
from aspirasi_core.domain.validation import LIMITS, MAX_ID, MAX_STARS, MIN_STARS
from aspirasi_core.services import LANGUAGES

#: Who may read a note, a reason or an answer: the staff only, or the sender too.
Visibility = Literal["internal", "sender"]
#: What any other value of a ``visibility`` field answers: the core's code and text.
VISIBILITY_ERROR = {
    "error": (
        "visibility_unknown",
        "Choose who may read the text: internal (staff only) or sender.",
    )
}
#: The pattern of a NIK as the schema documents it (the core also drops the
#: spaces, dots and dashes people type between the groups).
NIK_PATTERN = f"^[0-9]{{{NIK_DIGITS}}}$"


def text(
    limit: int,
    description: str | None = None,
    *,
    required: bool = False,
    min_length: int | None = None,
    pattern: str | None = None,
) -> Any:
    """The schema of a text field the core bounds by ``limit`` characters (it
    counts them after stripping the text); a ``required`` one must not be empty."""
    return Parameter(
        description=description,
        min_length=min_length if min_length is not None else (1 if required else None),
        max_length=limit,
        pattern=pattern,
        required=True if required else None,
    )


def number(low: int, high: int, description: str | None = None, *, required: bool = False) -> Any:
    """The schema of a whole number the core accepts from ``low`` to ``high``."""
    return Parameter(description=description, ge=low, le=high, required=True if required else None)


def one_of(values: tuple[str, ...], description: str | None = None, *, nullable: bool) -> Any:
    """The schema of a text the core accepts only as one of ``values`` (it answers
    any other with its own code, so the type stays ``str``)."""
    return Parameter(
        description=description,
        schema_extra={"enum": [*values, None] if nullable else list(values)},
    )


#: A field the core refuses to go without (an empty text, a missing id: 422 ``required``).
REQUIRED = Parameter(required=True)

#: An id the core requires (``required`` when missing).
RequiredId = Annotated[
    int | None, number(1, MAX_ID, "An id (a positive whole number).", required=True)
]
#: An optional id.
OptionalId = Annotated[int | None, number(1, MAX_ID, "An id (a positive whole number).")]

Email = Annotated[str, text(LIMITS["email"], "An e-mail address.", required=True)]
Username = Annotated[
    str,
    text(LIMITS["username_max"], required=True, min_length=LIMITS["username_min"]),
]
FullName = Annotated[str, text(LIMITS["full_name"], required=True)]
Password = Annotated[
    str, text(LIMITS["password_max"], required=True, min_length=LIMITS["password_min"])
]
#: The password again: it must equal ``password``.
PasswordConfirm = Annotated[str, text(LIMITS["password_max"], "The password again.", required=True)]
Nik = Annotated[
    str,
    Parameter(
        description=f"The {NIK_DIGITS}-digit NIK (KTP number).", pattern=NIK_PATTERN, required=True
    ),
]
Reason = Annotated[str, text(LIMITS["reason"], required=True)]


class Body(msgspec.Struct, kw_only=True, frozen=True):
    """Unknown fields are ignored (a newer client may send more).

    msgspec passes ``frozen`` on to subclasses, but type checkers read each
    class's own keywords (PEP 681), so every body repeats ``frozen=True``."""


class RegisterBody(Body, frozen=True):
    email: Email = ""
    username: Username = ""
    full_name: FullName = ""
    nik: Nik = ""
    password: Password = ""
    password_confirm: PasswordConfirm = ""


class VerifyBody(Body, frozen=True):
    token: Annotated[
        str,
        Parameter(description="The token of the link in the verification mail.", required=True),
    ] = ""
    username: Annotated[
        str | None,
        text(
            LIMITS["username_max"],
            "Another username, when the one chosen was taken meanwhile.",
            min_length=LIMITS["username_min"],
        ),
    ] = None


class LoginBody(Body, frozen=True):
    login: Annotated[
        str, Parameter(description="The username or the e-mail address.", required=True)
    ] = ""
    password: Annotated[str, REQUIRED] = ""


class ForgotBody(Body, frozen=True):
    email: Email = ""


class PendingEmailBody(Body, frozen=True):
    email: Annotated[
        str, text(LIMITS["email"], "The corrected address the link goes to.", required=True)
    ] = ""


class ResetBody(Body, frozen=True):
    token: Annotated[
        str, Parameter(description="The token of the link in the reset mail.", required=True)
    ] = ""
    password: Password = ""
    password_confirm: PasswordConfirm = ""


class ProfileBody(Body, frozen=True):
    full_name: Annotated[str | None, text(LIMITS["full_name"])] = None
    language: Annotated[str | None, one_of(LANGUAGES, "Indonesian or English.", nullable=True)] = (
        None
    )


class PasswordBody(Body, frozen=True):
    current_password: Annotated[str, REQUIRED] = ""
    password: Password = ""
    password_confirm: PasswordConfirm = ""


class PasswordOnlyBody(Body, frozen=True):
    password: Annotated[str, Parameter(description="A citizen's password.", required=True)] = ""


#: An account deletion sent with no body: the core answers (a staff account 403).
NO_PASSWORD = PasswordOnlyBody()


class TrackingBody(Body, frozen=True):
    nik: Nik = ""


#: A coordinate: a number, or its text as a form sends it (the core parses it).
Coordinate = Annotated[
    float | str | None,
    Meta(description="WGS84 decimal degrees (with the other coordinate, or neither)."),
]


class MessageForm(Body, frozen=True):
    """A message sent as multipart/form-data, with its files."""

    subject: Annotated[str, text(LIMITS["subject"], required=True)] = ""
    body: Annotated[str, text(LIMITS["body"], required=True)] = ""
    confidential: bool = False
    anonymous: bool = False
    regency: Annotated[
        str | None,
        Meta(
            description="Where it happened: the Kemendagri code of a regency or city"
            " (``GET /api/v1/regions``), e.g. ``64.72``. Optional."
        ),
    ] = None
    district: Annotated[
        str | None,
        Meta(description="A district of that regency (``64.72.06``). Optional."),
    ] = None
    latitude: Coordinate = None
    longitude: Coordinate = None
    attachment: Annotated[
        list[UploadFile],
        Meta(description="JPG or PDF; repeat the part for several files."),
    ] = msgspec.field(default_factory=list)


class RatingBody(Body, frozen=True):
    stars: Annotated[int | None, number(MIN_STARS, MAX_STARS, required=True)] = None
    comment: Annotated[str, text(LIMITS["comment"])] = ""


class ForwardBody(Body, frozen=True):
    category_id: RequiredId = None
    subcategory_id: RequiredId = None
    agency_id: RequiredId = None
    note: Annotated[str, text(LIMITS["note"])] = ""
    visibility: Annotated[
        Visibility | None,
        Meta(description="Who may read the note (default ``internal``).", extra=VISIBILITY_ERROR),
    ] = None


class RejectBody(Body, frozen=True):
    reason: Reason = ""
    visibility: Annotated[
        Visibility | None,
        Meta(description="Who may read the reason (default ``sender``).", extra=VISIBILITY_ERROR),
    ] = None


class NoteBody(Body, frozen=True):
    note: Annotated[
        str, text(LIMITS["note"], "Required to record progress; optional to start.")
    ] = ""
    visibility: Annotated[
        Visibility | None,
        Meta(description="Who may read the note (default ``sender``).", extra=VISIBILITY_ERROR),
    ] = None


#: A confirmation may come with no body at all.
NO_NOTE = NoteBody()


class ReplyBody(Body, frozen=True):
    """A reply sent as JSON (no attachment)."""

    answer: Annotated[str, text(LIMITS["answer"], required=True)] = ""
    visibility: Annotated[
        Visibility | None,
        Meta(description="Who may read the answer (default ``sender``).", extra=VISIBILITY_ERROR),
    ] = None


class ReplyForm(Body, frozen=True):
    """A reply sent as multipart/form-data, with its file."""

    answer: Annotated[str, text(LIMITS["answer"], required=True)] = ""
    attachment: Annotated[UploadFile | None, Meta(description="A PDF.")] = None
    visibility: Annotated[
        Visibility | None,
        Meta(description="Who may read the answer (default ``sender``).", extra=VISIBILITY_ERROR),
    ] = None


class ReasonBody(Body, frozen=True):
    reason: Reason = ""


class FollowupBody(Body, frozen=True):
    """A follow-up's text."""

    body: Annotated[str, text(LIMITS["note"], required=True)] = ""


class ReasonStepBody(Body, frozen=True):
    """A reason for a step back (return to the admin, reopen for the agency)."""

    reason: Reason = ""
    visibility: Annotated[
        Visibility | None,
        Meta(
            description="Who may read the reason (return: default ``internal``).",
            extra=VISIBILITY_ERROR,
        ),
    ] = None


class NikBody(Body, frozen=True):
    nik: Nik = ""


class NikReleaseBody(Body, frozen=True):
    nik: Nik = ""
    reason: Reason = ""


#: A staff level (the roles of the policy: plugins may add some, so no list here).
StaffRole = Annotated[str, Parameter(description='``"admin"`` or ``"operator"``.', required=True)]
#: The operator's agency.
AgencyOfOperator = Annotated[
    int | None, number(1, MAX_ID, "The operator's agency (required for an operator).")
]


class StaffBody(Body, frozen=True):
    email: Email = ""
    username: Annotated[
        str,
        text(LIMITS["username_max"], "Optional: made from the e-mail address when empty."),
    ] = ""
    full_name: FullName = ""
    password: Password = ""
    role: StaffRole = ""
    agency_id: AgencyOfOperator = None
    permissions: list[str] = msgspec.field(default_factory=list)


class InvitationBody(Body, frozen=True):
    """A staff member to invite: the account is made without a password, and a
    link to choose one is mailed to ``email``."""

    email: Email = ""
    full_name: FullName = ""
    role: StaffRole = ""
    agency_id: AgencyOfOperator = None
    username: Annotated[
        str,
        text(LIMITS["username_max"], "Optional: made from the e-mail address when empty."),
    ] = ""
    permissions: list[str] = msgspec.field(default_factory=list)


class AccountChangesBody(Body, frozen=True):
    """Every field optional; ``{"is_active": false}`` deactivates."""

    role: str | None = None
    agency_id: OptionalId = None
    permissions: list[str] | None = None
    is_active: bool | None = None
    full_name: Annotated[str | None, text(LIMITS["full_name"])] = None


Code = Annotated[
    str,
    text(LIMITS["code"], "Lower-case letters, digits and dashes.", required=True),
]
Name = Annotated[str, text(LIMITS["name"], required=True)]


class EntryBody(Body, frozen=True):
    code: Code = ""
    name: Name = ""


class EntryChangesBody(Body, frozen=True):
    name: Annotated[str | None, text(LIMITS["name"])] = None
    is_active: bool | None = None


class SubcategoryBody(Body, frozen=True):
    category_id: RequiredId = None
    code: Code = ""
    name: Name = ""


#: Working days (1 to MAX_SOP_DAYS, a number or its digits: the core checks them
#: with the other fields); null or "" returns to the default of the settings.
SopDays = Annotated[
    int | str | UnsetType | None,
    number(1, MAX_SOP_DAYS, f'Working days, 1 to {MAX_SOP_DAYS}; null or "" for the default.'),
]


class SubcategoryChangesBody(Body, frozen=True):
    name: Annotated[str | None, text(LIMITS["name"])] = None
    is_active: bool | None = None
    sop_confirm_days: SopDays = UNSET
    sop_reply_days: SopDays = UNSET


class DayOffBody(Body, frozen=True):
    day: Annotated[
        str,
        Parameter(description="YYYY-MM-DD", pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", required=True),
    ] = ""
    name: Name = ""


def fields_of(body: Body) -> dict[str, object]:
    """The body as a plain mapping (what an ``Idempotency-Key`` is checked against)."""
    return msgspec.structs.asdict(body)


def _bodies(cls: type[Body]) -> Iterator[type[Body]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _bodies(sub)


def required_fields(cls: type[msgspec.Struct]) -> list[str]:
    """The fields of ``cls`` (by their JSON names) marked ``Parameter(required=True)``:
    the core refuses the body without them."""
    return [
        field.encode_name
        for field in msgspec.structs.fields(cls)
        if any(
            isinstance(meta, ParameterKwarg) and meta.required
            for meta in getattr(field.type, "__metadata__", ())
        )
    ]


def document_required(app: Litestar) -> None:
    """``on_startup``: the schema of every :class:`Body` (the plugins' too) lists
    its required fields, without a default. They keep their msgspec default, so
    that a missing one is the core's to answer, after the caller's rights."""
    components = app.openapi_schema.components
    schemas = getattr(components, "schemas", None) or {}
    for cls in _bodies(Body):
        names = required_fields(cls)
        for schema in schemas.values():
            if not isinstance(schema, Schema) or schema.title != cls.__name__:
                continue
            properties = schema.properties or {}
            if not set(names) <= set(properties):
                continue
            schema.required = sorted({*(schema.required or ()), *names})
            for name in names:
                prop = properties[name]
                if isinstance(prop, Schema):
                    prop.default = None  # not serialized: no default
