"""``/api/v1/regions``: the regencies/cities of the province and their districts a
message's location is chosen from (``ASPIRASI_REGIONS_FILE``, by default East
Kalimantan's, with Kemendagri codes). Public: it is public government data."""

from __future__ import annotations

from typing import Any

from litestar import Request, get

from ..context import core
from .common import API, PUBLIC
from .shapes import Shape

TAGS = ["public"]


class DistrictOut(Shape):
    code: str
    name: str


class RegencyOut(Shape):
    code: str
    name: str
    districts: list[DistrictOut]


class RegionsOut(Shape):
    items: list[RegencyOut]


@get(f"{API}/regions", tags=TAGS, summary="Regencies and districts", security=PUBLIC)
async def regions(request: Request[Any, Any, Any]) -> RegionsOut:
    """Every regency or city (``code`` like ``64.72``, ``name``) with its districts
    (``64.72.06``): the values of a message's ``regency`` and ``district``."""
    found = core(request).deps.regions
    return RegionsOut(
        items=[
            RegencyOut(
                code=r.code,
                name=r.name,
                districts=[DistrictOut(code=d.code, name=d.name) for d in r.districts],
            )
            for r in found.regencies
        ]
    )


ROUTES = [regions]
