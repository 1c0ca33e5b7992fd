"""The super admin's privacy routes: the audited reveal of an anonymous sender
(``POST /api/v1/messages/{id}/reveal``) and the audit log
(``GET /api/v1/admin/audit``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK

from aspirasi_core.domain.audit import AuditEntry
from aspirasi_core.domain.policy import Perm
from aspirasi_core.services import AuditQuery

from ..context import Core, Ctx
from ..guards import requires
from .bodies import ReasonBody
from .common import API, Limit, QueryDay, QueryId, query_date, query_int, query_limit
from .openapi import problems
from .shapes import Page, Shape, page_of, utc


class RevealedSenderOut(Shape):
    """The sender of an anonymous message (never the raw NIK). ``deleted``: the
    sender deleted their account, and the other fields hold nothing of them."""

    id: int
    full_name: str
    username: str
    email: str
    nik_masked: str | None
    deleted: bool


class RevealOut(Shape):
    message_id: int
    ticket: str
    sender: RevealedSenderOut
    revealed_at: datetime | None
    #: the audit entry that records this reveal
    audit_id: int


@post(
    f"{API}/messages/{{message_id:int}}/reveal",
    guards=[requires(Perm.PRIVACY_REVEAL)],
    tags=["privacy"],
    status_code=HTTP_200_OK,
    summary="Reveal an anonymous sender (audited)",
    responses=problems(409),
)
async def reveal(
    core: Core, ctx: Ctx, message_id: FromPath[int], data: JSONBody[ReasonBody]
) -> Response[RevealOut]:
    """Super admin (``privacy.reveal``). Body ``{reason}`` (at least 10
    characters). Answers who sent the anonymous message; the reveal, its reason,
    the time and the caller's address are in the audit log first. 409
    ``message_not_anonymous`` for a message that is not anonymous."""
    r = await core.privacy.reveal_sender(ctx, message_id, data.reason)
    body = RevealOut(
        message_id=r.message_id,
        ticket=r.ticket,
        sender=RevealedSenderOut(
            id=r.account_id,
            full_name=r.full_name,
            username=r.username,
            email=r.email,
            nik_masked=r.nik_masked,
            deleted=r.deleted,
        ),
        revealed_at=utc(r.revealed_at),
        audit_id=r.audit_id,
    )
    return Response(content=body, headers={"Cache-Control": "no-store"})


class AuditActorOut(Shape):
    id: int
    username: str | None


class AuditMessageOut(Shape):
    id: int
    ticket: str | None


class AuditEntryOut(Shape):
    """A line of the audit log: ``actor`` null for the system (a sweep, the CLI),
    ``message`` null when no message was concerned."""

    id: int
    at: datetime | None
    action: str
    actor: AuditActorOut | None
    subject_account_id: int | None
    message: AuditMessageOut | None
    reason: str
    client_ip: str | None
    #: small extra facts, as text
    details: dict[str, str]


def audit_json(e: AuditEntry) -> AuditEntryOut:
    return AuditEntryOut(
        id=e.id,
        at=utc(e.at),
        action=e.action,
        actor=AuditActorOut(id=e.actor_id, username=e.actor_username) if e.actor_id else None,
        subject_account_id=e.subject_account_id,
        message=AuditMessageOut(id=e.subject_message_id, ticket=e.message_ticket)
        if e.subject_message_id
        else None,
        reason=e.reason,
        client_ip=e.client_ip,
        details=dict(e.details),
    )


@get(
    f"{API}/admin/audit",
    guards=[requires(Perm.AUDIT_READ)],
    tags=["privacy"],
    summary="The audit log",
)
async def audit(
    core: Core,
    ctx: Ctx,
    # "actor" in the query: the name ``actor`` is the signed-in actor (a dependency).
    who: Annotated[str | None, QueryParameter(name="actor")] = None,
    action: FromQuery[str | None] = None,
    subject_account_id: QueryId = None,
    message_id: QueryId = None,
    ticket: FromQuery[str | None] = None,
    date_from: QueryDay = None,
    date_to: QueryDay = None,
    cursor: FromQuery[str | None] = None,
    limit: Limit = None,
) -> Page[AuditEntryOut]:
    """Super admin (``audit.read``): staff reads of personal data and other
    audited acts, newest first. Filters: ``actor`` (account id, username or
    e-mail), ``action`` (e.g. ``message.sender_reveal``), ``subject_account_id``,
    ``message_id`` or ``ticket``, ``date_from``/``date_to`` (``YYYY-MM-DD``,
    both days included, in the province's time zone)."""
    tz = core.deps.settings.timezone
    query = AuditQuery(
        actor=who or None,
        action=action or None,
        subject_account_id=query_int(subject_account_id, "subject_account_id"),
        subject_message_id=query_int(message_id, "message_id"),
        ticket=ticket or None,
        at_from=query_date(date_from, "date_from", tz),
        at_to=query_date(date_to, "date_to", tz, end=True),
    )
    result = await core.audit.list(ctx, query, cursor=cursor, limit=query_limit(limit))
    return page_of(result, audit_json)


ROUTES = [reveal, audit]
