"""Access matrix entries of the JSON API, the OpenAPI pages, /healthz, /readyz and /static."""

from __future__ import annotations

from typing import Any

#: Bodies sent instead of an empty one, so that the answer shows the access rule
#: rather than a missing field (for the roles that may act at all, validation
#: comes before the message is looked at; the other roles get 403 first).
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/messages/{message_id}/reject"): {"reason": "Tidak jelas"},
    ("POST", "/api/v1/messages/{message_id}/progress"): {"note": "Sedang dikerjakan"},
    ("POST", "/api/v1/messages/{message_id}/reply"): {"answer": "Sudah selesai"},
    ("POST", "/api/v1/messages/{message_id}/rating"): {"stars": 5, "comment": "Baik"},
    ("POST", "/api/v1/messages/{message_id}/followups"): {"body": "Di RT berapa?"},
    ("POST", "/api/v1/messages/{message_id}/return"): {"reason": "Bukan kewenangan kami"},
    ("POST", "/api/v1/messages/{message_id}/reopen"): {"reason": "Periksa lagi"},
}

ACTORS = (
    "anonymous",
    "citizen",
    "other_citizen",
    "admin",
    "operator",
    "other_operator",
    "super_admin",
)


def _row(*statuses: int) -> dict[str, int]:
    return dict(zip(ACTORS, statuses, strict=True))


#: Columns: anonymous, citizen (the author), other_citizen, admin, operator (of the
#: message's agency), other_operator, super_admin.
EXPECTED: dict[tuple[str, str], dict[str, int]] = {
    ("GET", "/healthz"): _row(200, 200, 200, 200, 200, 200, 200),
    ("GET", "/readyz"): _row(200, 200, 200, 200, 200, 200, 200),
    ("GET", "/api/v1/auth/csrf"): _row(200, 200, 200, 200, 200, 200, 200),
    ("POST", "/api/v1/auth/register"): _row(422, 422, 422, 422, 422, 422, 422),
    ("POST", "/api/v1/auth/verify-email"): _row(422, 422, 422, 422, 422, 422, 422),
    ("POST", "/api/v1/auth/resend-verification"): _row(401, 409, 409, 409, 409, 409, 409),
    ("POST", "/api/v1/auth/verification-email"): _row(401, 409, 409, 409, 409, 409, 409),
    ("POST", "/api/v1/auth/login"): _row(422, 422, 422, 422, 422, 422, 422),
    ("POST", "/api/v1/auth/logout"): _row(401, 204, 204, 204, 204, 204, 204),
    ("POST", "/api/v1/auth/forgot-password"): _row(422, 422, 422, 422, 422, 422, 422),
    ("POST", "/api/v1/auth/reset-password"): _row(422, 422, 422, 422, 422, 422, 422),
    ("GET", "/api/v1/me"): _row(401, 200, 200, 200, 200, 200, 200),
    ("PATCH", "/api/v1/me"): _row(401, 200, 200, 200, 200, 200, 200),
    ("POST", "/api/v1/me/password"): _row(401, 422, 422, 422, 422, 422, 422),
    # a citizen's own data (UU 27/2022); the deletion without a password is refused
    ("GET", "/api/v1/me/export"): _row(401, 200, 200, 403, 403, 403, 403),
    ("DELETE", "/api/v1/me"): _row(401, 422, 422, 403, 403, 403, 403),
    ("POST", "/api/v1/messages"): _row(401, 422, 422, 403, 403, 403, 422),
    ("GET", "/api/v1/me/messages"): _row(401, 200, 200, 200, 200, 200, 200),
    ("DELETE", "/api/v1/messages/{message_id}"): _row(401, 409, 404, 403, 403, 403, 404),
    ("GET", "/api/v1/messages/{message_id}"): _row(401, 200, 404, 200, 200, 404, 200),
    ("GET", "/api/v1/messages/{message_id}/log"): _row(401, 200, 404, 200, 200, 404, 200),
    ("GET", "/api/v1/messages/{message_id}/attachments/{attachment_id}"): _row(
        401, 200, 404, 200, 200, 404, 200
    ),
    # an operator may never rate: 403 before the message is looked up
    ("POST", "/api/v1/messages/{message_id}/rating"): _row(401, 409, 404, 403, 403, 403, 404),
    ("GET", "/api/v1/public/messages"): _row(200, 200, 200, 200, 200, 200, 200),
    # the regencies and districts a location is chosen from: public government data
    ("GET", "/api/v1/regions"): _row(200, 200, 200, 200, 200, 200, 200),
    ("POST", "/api/v1/public/tracking"): _row(422, 422, 422, 422, 422, 422, 422),
    # "1" is no hash: 422 bad_hash for everyone (api/record.py)
    ("GET", "/api/v1/public/record/entries/{entry_hash}"): _row(422, 422, 422, 422, 422, 422, 422),
    ("GET", "/api/v1/public/record/roots"): _row(200, 200, 200, 200, 200, 200, 200),
    ("GET", "/api/v1/backoffice/messages"): _row(401, 403, 403, 200, 200, 200, 200),
    # the ids a forward and the list's filters take: as the back-office list
    ("GET", "/api/v1/backoffice/directory"): _row(401, 403, 403, 200, 200, 200, 200),
    ("POST", "/api/v1/messages/{message_id}/forward"): _row(401, 403, 403, 422, 403, 403, 422),
    ("POST", "/api/v1/messages/{message_id}/reject"): _row(401, 403, 403, 409, 403, 403, 409),
    ("POST", "/api/v1/messages/{message_id}/start"): _row(401, 403, 403, 403, 200, 404, 200),
    ("POST", "/api/v1/messages/{message_id}/progress"): _row(401, 403, 403, 403, 409, 404, 409),
    ("POST", "/api/v1/messages/{message_id}/reply"): _row(401, 403, 403, 403, 409, 404, 409),
    # work that continues (api/followups.py); the seeded message has no open review (409)
    ("GET", "/api/v1/messages/{message_id}/followups"): _row(401, 200, 404, 200, 200, 404, 200),
    ("POST", "/api/v1/messages/{message_id}/followups"): _row(401, 201, 404, 201, 201, 404, 201),
    ("POST", "/api/v1/messages/{message_id}/return"): _row(401, 403, 403, 403, 200, 404, 200),
    ("POST", "/api/v1/messages/{message_id}/reopen"): _row(401, 403, 403, 409, 403, 403, 409),
    ("GET", "/api/v1/reviews"): _row(401, 403, 403, 200, 403, 403, 200),
    ("POST", "/api/v1/messages/{message_id}/review/dismiss"): _row(
        401, 403, 403, 409, 403, 403, 409
    ),
    ("GET", "/api/v1/notifications"): _row(401, 403, 403, 200, 200, 200, 200),
    ("POST", "/api/v1/notifications/{notification_id}/read"): _row(
        401, 403, 403, 204, 404, 404, 404
    ),
    ("GET", "/api/v1/admin/users"): _row(401, 403, 403, 403, 403, 403, 200),
    ("POST", "/api/v1/admin/users"): _row(401, 403, 403, 403, 403, 403, 422),
    ("POST", "/api/v1/admin/invitations"): _row(401, 403, 403, 403, 403, 403, 422),
    ("DELETE", "/api/v1/admin/users/{account_id}"): _row(401, 403, 403, 403, 403, 403, 204),
    ("GET", "/api/v1/admin/users/{account_id}"): _row(401, 403, 403, 403, 403, 403, 200),
    ("PATCH", "/api/v1/admin/users/{account_id}"): _row(401, 403, 403, 403, 403, 403, 200),
    ("GET", "/api/v1/admin/agencies"): _row(401, 403, 403, 403, 403, 403, 200),
    ("POST", "/api/v1/admin/agencies"): _row(401, 403, 403, 403, 403, 403, 422),
    ("DELETE", "/api/v1/admin/agencies/{agency_id}"): _row(401, 403, 403, 403, 403, 403, 204),
    ("PATCH", "/api/v1/admin/agencies/{agency_id}"): _row(401, 403, 403, 403, 403, 403, 200),
    ("GET", "/api/v1/admin/categories"): _row(401, 403, 403, 403, 403, 403, 200),
    ("POST", "/api/v1/admin/categories"): _row(401, 403, 403, 403, 403, 403, 422),
    ("PATCH", "/api/v1/admin/categories/{category_id}"): _row(401, 403, 403, 403, 403, 403, 422),
    ("GET", "/api/v1/admin/subcategories"): _row(401, 403, 403, 403, 403, 403, 200),
    ("POST", "/api/v1/admin/subcategories"): _row(401, 403, 403, 403, 403, 403, 422),
    ("DELETE", "/api/v1/admin/subcategories/{subcategory_id}"): _row(
        401, 403, 403, 403, 403, 403, 204
    ),
    ("PATCH", "/api/v1/admin/subcategories/{subcategory_id}"): _row(
        401, 403, 403, 403, 403, 403, 200
    ),
    ("GET", "/api/v1/admin/days-off"): _row(401, 403, 403, 403, 403, 403, 200),
    ("POST", "/api/v1/admin/days-off"): _row(401, 403, 403, 403, 403, 403, 422),
    ("DELETE", "/api/v1/admin/days-off/{day_off_id}"): _row(401, 403, 403, 403, 403, 403, 404),
    # NIK release (api/nik_claims.py): an empty body is a missing NIK
    ("POST", "/api/v1/admin/nik-holder"): _row(401, 403, 403, 403, 403, 403, 422),
    ("POST", "/api/v1/admin/nik-releases"): _row(401, 403, 403, 403, 403, 403, 422),
    ("GET", "/static/{file_path}"): _row(200, 200, 200, 200, 200, 200, 200),
    ("GET", "/schema"): _row(200, 200, 200, 200, 200, 200, 200),
    ("GET", "/schema/openapi.json"): _row(200, 200, 200, 200, 200, 200, 200),
    ("GET", "/schema/{path}"): _row(404, 404, 404, 404, 404, 404, 404),
}
