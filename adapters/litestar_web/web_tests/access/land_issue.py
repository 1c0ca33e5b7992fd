"""Access matrix of the land_issue plugin's routes (plugins/land_issue,
``aspirasi_land_issue.web``): the monitor's page and its JSON list.

None of the seeded operators holds ``land_issue.monitor``; the super admin holds
every permission. The page sends anonymous visitors to the log-in page (302).
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
    ("GET", "/land-issues"): _row(302, 403, 403, 403, 403, 403, 200),
    ("GET", "/api/v1/land-issues"): _row(401, 403, 403, 403, 403, 403, 200),
}
