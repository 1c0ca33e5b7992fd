"""The shapes of a message in the JSON API (see :mod:`.shapes`): its summary in
the lists, and everything its reader may see of it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from msgspec import UNSET, UnsetType

from aspirasi_core.domain.model import Actor, Attachment, LogEntry, Message, Status, Visibility
from aspirasi_core.services import MessageDetail

from .shapes import (
    API,
    AgencyOut,
    CategoryOut,
    Shape,
    SubcategoryOut,
    agency_json,
    category_json,
    subcategory_json,
    utc,
)


class AttachmentOut(Shape):
    """``url`` is null once the file was removed; ``removed_reason`` then says why:
    ``retention``, ``account_deleted`` or ``removed``."""

    id: int
    kind: str
    filename: str
    content_type: str
    size: int
    url: str | None
    removed_at: datetime | UnsetType | None = UNSET
    removed_reason: str | UnsetType | None = UNSET


def attachment_json(a: Attachment) -> AttachmentOut:
    out = AttachmentOut(
        id=a.id,
        kind=a.kind,
        filename=a.filename,
        content_type=a.content_type,
        size=a.size,
        url=None if a.removed else f"{API}/messages/{a.message_id}/attachments/{a.id}",
    )
    if a.removed:
        out.removed_at = utc(a.removed_at)
        out.removed_reason = a.removed_reason
    return out


class MessageSummary(Shape):
    """``due_at`` is the current stage's SOP deadline (null once final);
    ``version`` goes back as ``If-Match`` with a change (a stale one: 409)."""

    id: int
    ticket: str
    subject: str
    status: Status
    created_at: datetime | None
    updated_at: datetime | None
    confidential: bool
    anonymous: bool
    category_id: int | None
    subcategory_id: int | None
    agency_id: int | None
    due_at: datetime | None
    version: int
    overdue: bool | UnsetType = UNSET
    #: Where it happened: Kemendagri codes of the regency or city and the district
    #: (``GET /api/v1/regions`` names them); null without a location.
    regency_code: str | None = None
    district_code: str | None = None


def _summary_fields(m: Message, now: datetime | None) -> dict[str, Any]:
    return {
        "id": m.id,
        "ticket": m.ticket,
        "subject": m.subject,
        "status": m.status,
        "created_at": utc(m.created_at),
        "updated_at": utc(m.updated_at),
        "confidential": m.confidential,
        "anonymous": m.anonymous,
        "category_id": m.category_id,
        "subcategory_id": m.subcategory_id,
        "agency_id": m.agency_id,
        "due_at": utc(m.due_at),
        "version": m.version,
        "overdue": m.is_overdue(now) if now is not None else UNSET,
        "regency_code": m.regency_code,
        "district_code": m.district_code,
    }


def message_summary(m: Message, now: datetime | None = None) -> MessageSummary:
    return MessageSummary(**_summary_fields(m, now))


class LogEntryOut(Shape):
    """For staff also who acted and ``visibility`` (``internal`` or ``sender``)."""

    id: int
    action: str
    from_status: Status | None
    to_status: Status
    note: str | None
    at: datetime | None
    agency_id: int | None
    actor_id: int | UnsetType | None = UNSET
    visibility: Visibility | UnsetType = UNSET


def log_json(e: LogEntry, *, staff: bool) -> LogEntryOut:
    return LogEntryOut(
        id=e.id,
        action=e.action,
        from_status=e.from_status,
        to_status=e.to_status,
        note=e.note,
        at=utc(e.at),
        agency_id=e.agency_id,
        actor_id=e.actor_id if staff else UNSET,
        visibility=e.note_visibility if staff else UNSET,
    )


class AuthorOut(Shape):
    id: int
    full_name: str | None
    username: str | None
    email: str | UnsetType = UNSET


class ReplyOut(Shape):
    id: int
    answer: str
    created_at: datetime | None
    attachment: AttachmentOut | None
    visibility: Visibility | UnsetType = UNSET


class RatingOut(Shape):
    id: int
    stars: int
    comment: str | None
    created_at: datetime | None
    message_id: int | UnsetType = UNSET


class ReplacedRatingOut(Shape):
    """A rating of an earlier outcome, which a new one replaced."""

    stars: int
    comment: str
    created_at: datetime | None
    replaced_at: datetime | None


class MessageDetailOut(MessageSummary, kw_only=True):
    body: str
    category: CategoryOut | None
    subcategory: SubcategoryOut | None
    agency: AgencyOut | None
    attachments: list[AttachmentOut]
    #: The sender deleted their account: no author, and no "anonymous" either.
    author_deleted: bool
    reply: ReplyOut | None
    rating: RatingOut | None
    #: The ratings of earlier outcomes (the message was reopened by oversight,
    #: done again and rated anew), oldest first; seen by whoever sees ``rating``.
    replaced_ratings: list[ReplacedRatingOut]
    log: list[LogEntryOut]
    #: What the reader may do now.
    actions: list[str]
    author: AuthorOut | UnsetType = UNSET
    #: WGS84 coordinates of the place, for the staff who read the message as
    #: staff only (absent for its sender and when it has none).
    latitude: float | UnsetType = UNSET
    longitude: float | UnsetType = UNSET


def message_detail(d: MessageDetail, actor: Actor, now: datetime | None = None) -> MessageDetailOut:
    m = d.message
    author: AuthorOut | UnsetType = UNSET
    if d.author is not None:
        author = AuthorOut(id=d.author.id, full_name=d.author.full_name, username=d.author.username)
        if d.author.email is not None:
            author.email = d.author.email
    reply = None
    if d.reply:
        reply = ReplyOut(
            id=d.reply.id,
            answer=d.reply.answer,
            created_at=utc(d.reply.created_at),
            attachment=attachment_json(d.reply.attachment) if d.reply.attachment else None,
            visibility=d.reply.visibility if actor.is_staff else UNSET,
        )
    rating = None
    if d.rating:
        rating = RatingOut(
            id=d.rating.message_id,
            stars=d.rating.stars,
            comment=d.rating.comment,
            created_at=utc(d.rating.created_at),
        )
    return MessageDetailOut(
        **_summary_fields(m, now),
        body=m.body,
        category=category_json(d.category) if d.category else None,
        subcategory=subcategory_json(d.subcategory) if d.subcategory else None,
        agency=agency_json(d.agency) if d.agency else None,
        attachments=[attachment_json(a) for a in m.attachments],
        author=author,
        author_deleted=d.author_deleted,
        reply=reply,
        rating=rating,
        replaced_ratings=[
            ReplacedRatingOut(
                stars=r.stars,
                comment=r.comment,
                created_at=utc(r.created_at),
                replaced_at=utc(r.replaced_at),
            )
            for r in d.replaced_ratings
        ],
        log=[log_json(e, staff=actor.is_staff) for e in d.log],
        actions=sorted(d.actions),
        latitude=UNSET if m.latitude is None else m.latitude,
        longitude=UNSET if m.longitude is None else m.longitude,
    )
