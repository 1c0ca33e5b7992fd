"""``/api/v1/admin/days-off``: the extra days off of the SOP calendar (the super
admin's), next to the country's public holidays."""

from __future__ import annotations

from typing import Annotated, Any, TypeAlias
from zoneinfo import ZoneInfo

from litestar import Request, delete, get, post
from litestar.openapi.spec import OpenAPIType
from litestar.params import FromPath, JSONBody, Parameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from aspirasi_core.domain.errors import Invalid
from aspirasi_core.domain.policy import Perm

from ..context import Core, Ctx, CurrentTranslator, core
from ..guards import requires
from .bodies import DayOffBody
from .common import API, STRICT_INT
from .openapi import problems
from .shapes import DayOffOut, DaysOff, Holiday, day_off_json

TAGS = ["admin"]
ADMIN = [requires(Perm.ADMIN_MANAGE)]


#: ``?year=``: read by :func:`query_year`, documented as the integer it must be.
Year: TypeAlias = Annotated[
    str | None,
    Parameter(
        description="The year, 1901 to 2199, in plain digits (default: this year).",
        schema_extra={
            "oneOf": None,
            "type": OpenAPIType.INTEGER,
            "minimum": 1901,
            "maximum": 2199,
        },
    ),
]


def query_year(request: Request[Any, Any, Any], value: str | None) -> int:
    """A ``?year=`` (absent or empty: this year in the province's time zone);
    anything but four plain digits (no sign, no space) naming a year from 1901 to
    2199 is refused (field ``year``). The page's number input sends just that."""
    app = core(request)
    if value is None or value == "":
        return app.deps.clock.now().astimezone(ZoneInfo(app.deps.settings.timezone)).year
    if not (len(value) == 4 and STRICT_INT.fullmatch(value)):
        raise Invalid.field("year", "bad_year", "Choose a year between 1901 and 2199.")
    year = int(value)
    app.sop.public_holidays(year)  # validates the range
    return year


@get(f"{API}/admin/days-off", guards=ADMIN, tags=TAGS, summary="Days off of a year")
async def list_days_off(
    request: Request[Any, Any, Any],
    core: Core,
    ctx: Ctx,
    translator: CurrentTranslator,
    year: Year = None,
) -> DaysOff:
    """The extra days off of ``year`` (default: this year) by date, and the
    country's public holidays of that year (read-only). Both are skipped when
    SOP deadlines are counted. Holiday names are in the request's language
    (Indonesian unless it asks for English)."""
    the_year = query_year(request, year)
    found = await core.sop.days_off(ctx, the_year)
    return DaysOff(
        items=[day_off_json(d) for d in found],
        next_cursor=None,
        year=the_year,
        public_holidays=[
            Holiday(day=day, name=name)
            for day, name in core.sop.public_holidays(the_year, translator.language)
        ],
    )


@post(
    f"{API}/admin/days-off",
    guards=ADMIN,
    tags=TAGS,
    status_code=HTTP_201_CREATED,
    summary="Add a day off",
    responses=problems(409),
)
async def create_day_off(core: Core, ctx: Ctx, data: JSONBody[DayOffBody]) -> DayOffOut:
    """Body ``{day: "YYYY-MM-DD", name}``: an extra day off (cuti bersama, a local
    holiday). The open messages' deadlines move; 409 ``duplicate_day_off`` when
    the day is already off."""
    added = await core.sop.add_day_off(ctx, data.day, data.name)
    return day_off_json(added)


@delete(
    f"{API}/admin/days-off/{{day_off_id:int}}",
    guards=ADMIN,
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Remove a day off",
)
async def delete_day_off(core: Core, ctx: Ctx, day_off_id: FromPath[int]) -> None:
    """The open messages' deadlines move back; 404 for an unknown id."""
    await core.sop.remove_day_off(ctx, day_off_id)


ROUTES = [list_days_off, create_day_off, delete_day_off]
