"""Access matrix of the public, account and citizen pages and the file downloads
(pages/public.py, pages/verification.py, pages/account.py, pages/citizen.py,
pages/files.py).

Statuses as the TestClient sees them without following redirects, for the
requests ``access/__init__.py`` describes (bearer tokens for signed-in actors,
empty forms). 302 is the log-in redirect of the error handler (Unauthenticated),
303 the pages' own redirects (staff → /backoffice, language switch, logout…);
422 is an empty form refused by the core's validation.
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


_CITIZEN_ONLY = _row(302, (200, 200), (303, 303, 303, 303))
_SIGNED_IN_FORM = _row(302, (422, 422), (422, 422, 422, 422))

EXPECTED: dict[tuple[str, str], dict[str, int]] = {
    # public (pages/public.py)
    ("GET", "/"): _all(200),
    ("GET", "/lang/{code}"): _all(303),
    ("GET", "/brand/logo"): _all(200),
    ("GET", "/brand/hero"): _all(200),
    ("GET", "/help"): _all(200),
    ("GET", "/brand.css"): _all(200),
    ("GET", "/messages"): _all(200),
    ("GET", "/tracking"): _all(200),
    ("POST", "/tracking"): _all(422),  # no NIK
    # the public check of the tamper-evident record (pages/verification.py)
    ("GET", "/verifikasi"): _all(200),
    ("GET", "/verification"): _all(200),
    # accounts (pages/account.py)
    ("GET", "/login"): _all(200),
    ("POST", "/login"): _all(422),
    ("POST", "/logout"): _all(303),
    ("GET", "/register"): _all(200),
    ("POST", "/register"): _all(422),
    ("GET", "/verify-email"): _all(200),
    ("POST", "/verify-email"): _all(422),  # no token
    # anonymous → /login; verified accounts → their home page
    ("GET", "/verify-pending"): _all(303),
    ("POST", "/verify-pending"): _all(303),
    ("POST", "/verify-pending/email"): _all(303),
    ("GET", "/forgot-password"): _all(200),
    ("POST", "/forgot-password"): _all(422),
    ("GET", "/reset-password"): _all(200),
    ("POST", "/reset-password"): _all(422),
    # choosing one's own password (pages/password.py): an empty form is refused
    ("GET", "/account/password"): {**_all(200), "anonymous": 302},
    ("POST", "/account/password"): {**_all(422), "anonymous": 302},
    ("GET", "/invitation"): _all(200),
    ("POST", "/invitation"): _all(422),
    # citizens (pages/citizen.py); settings are for every signed-in account
    ("GET", "/dashboard"): _CITIZEN_ONLY,
    ("GET", "/settings"): _row(302, (200, 200), (200, 200, 200, 200)),
    ("POST", "/settings"): _SIGNED_IN_FORM,
    ("POST", "/settings/password"): _SIGNED_IN_FORM,
    # a citizen's own data: the export and the deletion are for citizens only
    ("GET", "/settings/export"): _row(302, (200, 200), (403, 403, 403, 403)),
    ("POST", "/settings/delete"): _row(302, (422, 422), (403, 403, 403, 403)),
    ("GET", "/my/messages/new"): _CITIZEN_ONLY,
    ("POST", "/my/messages/new"): _row(302, (422, 422), (303, 303, 303, 303)),
    ("GET", "/my/messages"): _CITIZEN_ONLY,
    # the message is forwarded to operator's agency: readable by its author and that
    # agency, not by the other citizen or the other agency
    ("GET", "/messages/{message_id}"): _row(302, (200, 404), (200, 200, 404, 200)),
    # forwarded: too late to withdraw (409)
    ("POST", "/my/messages/{message_id}/withdraw"): _row(302, (409, 404), (303, 303, 303, 303)),
    # no stars (422); the other citizen cannot see it (404)
    ("POST", "/my/messages/{message_id}/rating"): _row(302, (422, 404), (303, 303, 303, 303)),
    # files (pages/files.py)
    ("GET", "/files/{message_id}/{attachment_id}"): _row(302, (200, 404), (200, 200, 404, 200)),
    # the photo opened in place and its thumbnail: the download's check (issue 22)
    ("GET", "/files/{message_id}/{attachment_id}/view"): _row(
        302, (200, 404), (200, 200, 404, 200)
    ),
    ("GET", "/files/{message_id}/{attachment_id}/thumb"): _row(
        302, (200, 404), (200, 200, 404, 200)
    ),
}
