"""Expected answers of every route for every kind of actor (the access matrix).

Each module of this package defines ``EXPECTED: dict[tuple[str, str], dict[str, int]]``
mapping ``(method, path template)`` — the template as Litestar shows it without
the type, e.g. ``("GET", "/api/v1/messages/{message_id}")`` — to the status each
actor gets, one entry for each name in :data:`ACTORS`. ``test_access_matrix.py``
merges them all and fails for a route of the app that no module lists.

How the test asks: authenticated actors with a fresh bearer token (no CSRF
needed); anonymous with cookies and the CSRF token. Unsafe requests carry an
empty body (``{}`` for ``/api/``, a form with only ``_csrf_token`` elsewhere); no
redirect is followed. Path parameters are filled in per request (see
``SUBSTITUTIONS`` in the test): ``message_id`` is a fresh message of ``citizen``
forwarded to ``operator``'s agency (with a JPG for ``attachment_id``),
``notification_id`` the admin's notification of it, ``account_id``,
``agency_id`` and ``subcategory_id`` fresh throw-away records, ``category_id``
the ``aspirasi`` category; any other parameter gets ``1``.
"""

from __future__ import annotations

#: Who asks: citizen (``ani``, the author), other_citizen (``budi``), admin,
#: operator (of the message's agency), other_operator (another agency), super_admin.
ACTORS: tuple[str, ...] = (
    "anonymous",
    "citizen",
    "other_citizen",
    "admin",
    "operator",
    "other_operator",
    "super_admin",
)

#: Every route must have an entry: a new route without one fails the matrix test.
PENDING_PREFIXES: list[str] = []


def is_pending(path: str) -> bool:
    for prefix in PENDING_PREFIXES:
        if prefix == "/":
            if path == "/":
                return True
        elif (
            path == prefix
            or path.startswith(prefix.rstrip("/") + "/")
            or path.startswith(prefix + ".")
        ):
            return True
    return False
