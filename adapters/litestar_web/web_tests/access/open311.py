"""Access matrix of the open311 plugin's routes (plugins/open311,
``aspirasi_open311.web``): the GeoReport v2 endpoints and the keys page.

The Open311 reads are public (the same for everyone: what the public list
shows); filing needs an ``api_key`` (an empty form: 400), not an account. The
``{name}`` and ``{rest}`` parameters get ``1``, which has no format suffix: 404. The keys page
is the super admin's (``open311.manage_keys``, held by no level); the 422 is the
empty form, the 404 a key that does not exist.
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


def _all(status: int) -> dict[str, int]:
    return _row(*(status,) * len(ACTORS))


EXPECTED: dict[tuple[str, str], dict[str, int]] = {
    **{
        ("GET", f"/open311/v2/{p}.{f}"): _all(200)
        for p in ("discovery", "services", "requests")
        for f in ("json", "xml")
    },
    **{("POST", f"/open311/v2/requests.{f}"): _all(400) for f in ("json", "xml")},
    ("GET", "/open311/v2/services/{name}"): _all(404),
    ("GET", "/open311/v2/requests/{name}"): _all(404),
    ("GET", "/open311/v2/tokens/{name}"): _all(404),
    # Any other path under /open311/v2/: 404 in the specification's format.
    ("GET", "/open311/v2/{rest}"): _all(404),
    ("POST", "/open311/v2/{rest}"): _all(404),
    # …and below the parametrised paths (Litestar's router does not fall back).
    **{
        (method, f"/open311/v2/{p}/{{name}}/{{rest}}"): _all(404)
        for p in ("requests", "services", "tokens")
        for method in ("GET", "POST")
    },
    ("GET", "/admin/open311"): _row(302, 403, 403, 403, 403, 403, 200),
    ("POST", "/admin/open311/keys"): _row(302, 403, 403, 403, 403, 403, 422),
    ("POST", "/admin/open311/keys/{key_id}/revoke"): _row(302, 403, 403, 403, 403, 403, 404),
}
