"""Access matrix of the privacy routes: the audited reveal of an anonymous
sender (``privacy.reveal``) and the audit log (``audit.read``), the super
admin's alone. The matrix's message is not anonymous and the request has no
reason: the super admin's reveal is refused as invalid (422) before anything
is read."""

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
    ("POST", "/api/v1/messages/{message_id}/reveal"): _row(401, 403, 403, 403, 403, 403, 422),
    ("GET", "/api/v1/admin/audit"): _row(401, 403, 403, 403, 403, 403, 200),
    ("POST", "/backoffice/messages/{message_id}/reveal"): _row(302, 403, 403, 403, 403, 403, 422),
    ("GET", "/admin/audit"): _row(302, 403, 403, 403, 403, 403, 200),
}
