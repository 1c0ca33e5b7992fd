"""Access matrix of the back-office, super-admin and development-mailbox pages
(pages/backoffice/, pages/admin/, pages/devmail.py).

Statuses as the TestClient sees them without following redirects, for the
requests ``access/__init__.py`` describes (bearer tokens for signed-in actors,
forms with nothing but the CSRF token). 302 is the log-in redirect of the error
handler (Unauthenticated); 303 the pages' own redirects after a POST; 422 an
empty form refused by validation (the state never changes: the "start" button
must send ``confirm=1`` and the (de)activate buttons ``active=0|1``); 404 a
message outside the operator's agency, an unknown outbox item, or any
``/dev/mailbox`` page while demo mode is off.
"""

from __future__ import annotations

ACTORS = (
    "anonymous",
    "citizen",
    "other_citizen",
    "admin",
    "operator",
    "other_operator",
    "super_admin",
)


def _all(status: int) -> dict[str, int]:
    return dict.fromkeys(ACTORS, status)


def _row(
    anonymous: int, citizens: tuple[int, int], staff: tuple[int, int, int, int]
) -> dict[str, int]:
    """anonymous; (citizen, other_citizen); (admin, operator, other_operator, super_admin)."""
    values = (anonymous, *citizens, *staff)
    return dict(zip(ACTORS, values, strict=True))


_STAFF_PAGE = _row(302, (403, 403), (200, 200, 200, 200))
_MESSAGE_FORM = _row(302, (403, 403), (422, 422, 404, 422))
_HANDLE_FORM = _row(302, (403, 403), (403, 422, 404, 422))
_SUPER_PAGE = _row(302, (403, 403), (403, 403, 403, 200))
_SUPER_FORM = _row(302, (403, 403), (403, 403, 403, 422))

EXPECTED: dict[tuple[str, str], dict[str, int]] = {
    # back office (pages/backoffice/)
    ("GET", "/backoffice"): _STAFF_PAGE,
    ("GET", "/backoffice/messages"): _STAFF_PAGE,
    ("GET", "/backoffice/messages/{message_id}"): _row(302, (403, 403), (200, 200, 404, 200)),
    ("POST", "/backoffice/messages/{message_id}/forward"): _row(
        302, (403, 403), (422, 403, 404, 422)
    ),
    # An empty form: 403 for a role that may never take the action (checked
    # first), else the missing field (422) or the scope (404).
    ("POST", "/backoffice/messages/{message_id}/reject"): _row(
        302, (403, 403), (422, 403, 404, 422)
    ),
    ("POST", "/backoffice/messages/{message_id}/start"): _MESSAGE_FORM,
    ("POST", "/backoffice/messages/{message_id}/progress"): _HANDLE_FORM,
    ("POST", "/backoffice/messages/{message_id}/reply"): _HANDLE_FORM,
    # work that continues (pages/followups.py): an empty form is refused (422);
    # dismissing a review the seeded message does not have is a conflict (409)
    ("POST", "/backoffice/messages/{message_id}/return"): _row(
        302, (403, 403), (403, 422, 404, 422)
    ),
    ("POST", "/backoffice/messages/{message_id}/reopen"): _row(
        302, (403, 403), (422, 403, 403, 422)
    ),
    ("POST", "/backoffice/messages/{message_id}/review/dismiss"): _row(
        302, (403, 403), (409, 403, 403, 409)
    ),
    ("POST", "/backoffice/messages/{message_id}/followups"): _row(
        302, (403, 403), (422, 422, 404, 422)
    ),
    ("POST", "/messages/{message_id}/followups"): _row(302, (422, 404), (422, 422, 404, 422)),
    ("GET", "/backoffice/reviews"): _row(302, (403, 403), (200, 403, 403, 200)),
    ("GET", "/backoffice/notifications"): _STAFF_PAGE,
    ("GET", "/backoffice/notifications/count"): _all(200),
    ("POST", "/backoffice/notifications/read"): _row(302, (403, 403), (422, 422, 422, 422)),
    ("POST", "/backoffice/notifications/read-all"): _row(302, (403, 403), (303, 303, 303, 303)),
    # super admin (pages/admin/)
    ("GET", "/admin/users"): _SUPER_PAGE,
    ("POST", "/admin/users"): _SUPER_FORM,
    ("GET", "/admin/users/{account_id}"): _SUPER_PAGE,
    ("POST", "/admin/users/{account_id}"): _row(302, (403, 403), (403, 403, 403, 303)),
    ("POST", "/admin/users/{account_id}/active"): _SUPER_FORM,
    ("GET", "/admin/users/new"): _SUPER_PAGE,
    ("GET", "/admin/users/{account_id}/deactivate"): _SUPER_PAGE,
    # the throw-away account has a password: no invitation to send again
    ("POST", "/admin/users/{account_id}/invitation"): _row(302, (403, 403), (403, 403, 403, 409)),
    ("GET", "/admin/agencies/{agency_id}"): _SUPER_PAGE,
    ("GET", "/admin/agencies/{agency_id}/deactivate"): _SUPER_PAGE,
    ("GET", "/admin/categories/{category_id}"): _SUPER_PAGE,
    ("GET", "/admin/subcategories/{subcategory_id}"): _SUPER_PAGE,
    ("GET", "/admin/subcategories/{subcategory_id}/deactivate"): _SUPER_PAGE,
    ("GET", "/admin/agencies"): _SUPER_PAGE,
    ("POST", "/admin/agencies"): _SUPER_FORM,
    ("POST", "/admin/agencies/{agency_id}"): _SUPER_FORM,
    ("POST", "/admin/agencies/{agency_id}/active"): _SUPER_FORM,
    ("GET", "/admin/categories"): _SUPER_PAGE,
    ("POST", "/admin/categories"): _SUPER_FORM,
    ("POST", "/admin/categories/{category_id}"): _SUPER_FORM,
    ("POST", "/admin/subcategories"): _SUPER_FORM,
    ("POST", "/admin/subcategories/{subcategory_id}"): _SUPER_FORM,
    ("POST", "/admin/subcategories/{subcategory_id}/active"): _SUPER_FORM,
    ("GET", "/admin/days-off"): _SUPER_PAGE,
    ("POST", "/admin/days-off"): _SUPER_FORM,
    ("POST", "/admin/days-off/{day_off_id}/delete"): _row(302, (403, 403), (403, 403, 403, 404)),
    ("GET", "/admin/nik-release"): _SUPER_PAGE,
    ("POST", "/admin/nik-release"): _SUPER_FORM,
    ("GET", "/admin/outbox"): _SUPER_PAGE,
    ("POST", "/admin/outbox/retry"): _row(302, (403, 403), (403, 403, 403, 303)),
    ("POST", "/admin/outbox/{item_id}/retry"): _row(302, (403, 403), (403, 403, 403, 404)),
    # development mailbox (pages/devmail.py): demo mode is off in the tests
    ("GET", "/dev/mailbox"): _all(404),
    ("GET", "/dev/mailbox/{mail_id}"): _all(404),
}
