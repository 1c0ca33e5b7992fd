"""Access matrix of the evaluator plugin's routes (plugins/evaluator,
``aspirasi_evaluator.web``): the report, its drill-down and exports, reprimands, and
the public transparency page with its open data.

None of the seeded accounts holds ``evaluator.evaluate``; the super admin holds
every permission. Operators see their own agency's reprimands. The super admin's
422s are requests without an agency or with an empty body; the 404s name a
reprimand that does not exist.
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


def _row(*statuses: int) -> dict[str, int]:
    return dict(zip(ACTORS, statuses, strict=True))


EXPECTED: dict[tuple[str, str], dict[str, int]] = {
    ("GET", "/evaluator"): _row(302, 403, 403, 403, 403, 403, 200),
    ("GET", "/evaluator/messages"): _row(302, 403, 403, 403, 403, 403, 200),
    ("GET", "/evaluator/report.csv"): _row(302, 403, 403, 403, 403, 403, 200),
    ("GET", "/evaluator/report.xlsx"): _row(302, 403, 403, 403, 403, 403, 200),
    ("GET", "/evaluator/messages.csv"): _row(302, 403, 403, 403, 403, 403, 200),
    ("GET", "/evaluator/messages.xlsx"): _row(302, 403, 403, 403, 403, 403, 200),
    ("GET", "/evaluator/reprimands/new"): _row(302, 403, 403, 403, 403, 403, 422),
    ("POST", "/evaluator/reprimands"): _row(302, 403, 403, 403, 403, 403, 422),
    ("GET", "/reprimands"): _row(302, 403, 403, 403, 200, 200, 200),
    ("POST", "/reprimands/{reprimand_id}/acknowledge"): _row(302, 403, 403, 403, 404, 404, 404),
    # The dashboard's stylesheet, the public transparency page and its open data: everyone.
    ("GET", "/static/evaluator/{file_path}"): _row(200, 200, 200, 200, 200, 200, 200),
    ("GET", "/transparansi"): _row(200, 200, 200, 200, 200, 200, 200),
    ("GET", "/transparansi.csv"): _row(200, 200, 200, 200, 200, 200, 200),
    ("GET", "/transparansi.json"): _row(200, 200, 200, 200, 200, 200, 200),
    ("GET", "/api/v1/evaluator/report"): _row(401, 403, 403, 403, 403, 403, 200),
    ("GET", "/api/v1/evaluator/messages"): _row(401, 403, 403, 403, 403, 403, 200),
    ("POST", "/api/v1/evaluator/reprimands"): _row(401, 403, 403, 403, 403, 403, 422),
    ("GET", "/api/v1/reprimands"): _row(401, 403, 403, 403, 200, 200, 200),
    ("POST", "/api/v1/reprimands/{reprimand_id}/acknowledge"): _row(
        401, 403, 403, 403, 404, 404, 404
    ),
}
