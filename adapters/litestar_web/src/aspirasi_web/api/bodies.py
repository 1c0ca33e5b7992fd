"""The request bodies of the JSON API, as msgspec structs: Litestar decodes and
type-checks them before the handler runs and documents them in the schema.

Only types are checked here (a wrong type answers 422 with the field and a
translated message, see :mod:`aspirasi_web.errors`); what the text must say
(length, format, the NIK's digits) is the core's business, which answers every
field at once with its own codes. So the text fields default to ``""`` and the
core says which are missing.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from litestar.datastructures import UploadFile
from msgspec import UNSET, Meta, UnsetType

#: Who may read a note, a reason or an answer: the staff only, or the sender too.
Visibility = Literal["internal", "sender"]
#: What any other value of a ``visibility`` field answers: the core's code and text.
VISIBILITY_ERROR = {
    "error": (
        "visibility_unknown",
        "Choose who may read the text: internal (staff only) or sender.",
    )
}
Id = Annotated[int, Meta(description="An id (a positive whole number).")]


class Body(msgspec.Struct, kw_only=True, frozen=True):
    """Unknown fields are ignored (a newer client may send more).

    msgspec passes ``frozen`` on to subclasses, but type checkers read each
    class's own keywords (PEP 681), so every body repeats ``frozen=True``."""


class RegisterBody(Body, frozen=True):
    email: str = ""
    username: str = ""
    full_name: str = ""
    nik: Annotated[str, Meta(description="The 16-digit NIK (KTP number).")] = ""
    password: str = ""
    password_confirm: str = ""


class VerifyBody(Body, frozen=True):
    token: Annotated[str, Meta(description="The token of the link in the verification mail.")] = ""
    username: Annotated[
        str | None, Meta(description="Another username, when the one chosen was taken meanwhile.")
    ] = None


class LoginBody(Body, frozen=True):
    login: Annotated[str, Meta(description="The username or the e-mail address.")] = ""
    password: str = ""


class ForgotBody(Body, frozen=True):
    email: str = ""


class PendingEmailBody(Body, frozen=True):
    email: Annotated[str, Meta(description="The corrected address the link goes to.")] = ""


class ResetBody(Body, frozen=True):
    token: Annotated[str, Meta(description="The token of the link in the reset mail.")] = ""
    password: str = ""
    password_confirm: str = ""


class ProfileBody(Body, frozen=True):
    full_name: str | None = None
    language: Annotated[str | None, Meta(description='``"id"`` or ``"en"``.')] = None


class PasswordBody(Body, frozen=True):
    current_password: str = ""
    password: str = ""
    password_confirm: str = ""


class PasswordOnlyBody(Body, frozen=True):
    password: str = ""


#: An account deletion sent with no body: the core answers (a staff account 403).
NO_PASSWORD = PasswordOnlyBody()


class TrackingBody(Body, frozen=True):
    nik: Annotated[str, Meta(description="The sender's 16-digit NIK.")] = ""


#: A coordinate: a number, or its text as a form sends it (the core parses it).
Coordinate = Annotated[
    float | str | None,
    Meta(description="WGS84 decimal degrees (with the other coordinate, or neither)."),
]


class MessageForm(Body, frozen=True):
    """A message sent as multipart/form-data, with its files."""

    subject: str = ""
    body: str = ""
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
    stars: Annotated[int | None, Meta(description="1 to 5.")] = None
    comment: str = ""


class ForwardBody(Body, frozen=True):
    category_id: Id | None = None
    subcategory_id: Id | None = None
    agency_id: Id | None = None
    note: str = ""
    visibility: Annotated[
        Visibility | None,
        Meta(description="Who may read the note (default ``internal``).", extra=VISIBILITY_ERROR),
    ] = None


class RejectBody(Body, frozen=True):
    reason: str = ""
    visibility: Annotated[
        Visibility | None,
        Meta(description="Who may read the reason (default ``sender``).", extra=VISIBILITY_ERROR),
    ] = None


class NoteBody(Body, frozen=True):
    note: str = ""
    visibility: Annotated[
        Visibility | None,
        Meta(description="Who may read the note (default ``sender``).", extra=VISIBILITY_ERROR),
    ] = None


#: A confirmation may come with no body at all.
NO_NOTE = NoteBody()


class ReplyBody(Body, frozen=True):
    """A reply sent as JSON (no attachment)."""

    answer: str = ""
    visibility: Annotated[
        Visibility | None,
        Meta(description="Who may read the answer (default ``sender``).", extra=VISIBILITY_ERROR),
    ] = None


class ReplyForm(Body, frozen=True):
    """A reply sent as multipart/form-data, with its file."""

    answer: str = ""
    attachment: Annotated[UploadFile | None, Meta(description="A PDF.")] = None
    visibility: Annotated[
        Visibility | None,
        Meta(description="Who may read the answer (default ``sender``).", extra=VISIBILITY_ERROR),
    ] = None


class ReasonBody(Body, frozen=True):
    reason: str = ""


class FollowupBody(Body, frozen=True):
    """A follow-up's text."""

    body: str = ""


class ReasonStepBody(Body, frozen=True):
    """A reason for a step back (return to the admin, reopen for the agency)."""

    reason: str = ""
    visibility: Annotated[
        Visibility | None,
        Meta(
            description="Who may read the reason (return: default ``internal``).",
            extra=VISIBILITY_ERROR,
        ),
    ] = None


class NikBody(Body, frozen=True):
    nik: str = ""


class NikReleaseBody(Body, frozen=True):
    nik: str = ""
    reason: str = ""


class StaffBody(Body, frozen=True):
    email: str = ""
    username: str = ""
    full_name: str = ""
    password: str = ""
    role: Annotated[str, Meta(description='``"admin"`` or ``"operator"``.')] = ""
    agency_id: Annotated[Id | None, Meta(description="The operator's agency.")] = None
    permissions: list[str] = msgspec.field(default_factory=list)


class InvitationBody(Body, frozen=True):
    """A staff member to invite: the account is made without a password, and a
    link to choose one is mailed to ``email``."""

    email: str = ""
    full_name: str = ""
    role: Annotated[str, Meta(description='``"admin"`` or ``"operator"``.')] = ""
    agency_id: Annotated[Id | None, Meta(description="The operator's agency.")] = None
    username: Annotated[
        str, Meta(description="Optional: made from the e-mail address when empty.")
    ] = ""
    permissions: list[str] = msgspec.field(default_factory=list)


class AccountChangesBody(Body, frozen=True):
    """Every field optional; ``{"is_active": false}`` deactivates."""

    role: str | None = None
    agency_id: Id | None = None
    permissions: list[str] | None = None
    is_active: bool | None = None
    full_name: str | None = None


class EntryBody(Body, frozen=True):
    code: str = ""
    name: str = ""


class EntryChangesBody(Body, frozen=True):
    name: str | None = None
    is_active: bool | None = None


class SubcategoryBody(Body, frozen=True):
    category_id: Id | None = None
    code: str = ""
    name: str = ""


#: Working days (1 to 365, a number or its digits: the core checks them with the
#: other fields); null or "" returns to the default of the settings.
SopDays = Annotated[
    int | str | UnsetType | None,
    Meta(description='Working days, 1 to 365; null or "" for the default.'),
]


class SubcategoryChangesBody(Body, frozen=True):
    name: str | None = None
    is_active: bool | None = None
    sop_confirm_days: SopDays = UNSET
    sop_reply_days: SopDays = UNSET


class DayOffBody(Body, frozen=True):
    day: Annotated[str, Meta(description="YYYY-MM-DD")] = ""
    name: str = ""


def fields_of(body: Body) -> dict[str, object]:
    """The body as a plain mapping (what an ``Idempotency-Key`` is checked against)."""
    return msgspec.structs.asdict(body)
