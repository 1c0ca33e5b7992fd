"""Where a message happened: the province's regencies and cities (kabupaten/kota)
and their districts (kecamatan), and the checks of a location a citizen gives.

The regions come from a CSV file of two columns, ``code`` and ``name``, one row
per regency or district, with the codes of the Ministry of Home Affairs
(Kemendagri): ``64.72`` is a regency or city (province ``64``, regency ``72``),
``64.72.06`` one of its districts. A district's regency is its code without the
last part, and must have its own row. The project ships East Kalimantan's
(``regions_64.csv``, from the codes of Kepmendagri 100.1.1-6117/2022, public
government data); ``ASPIRASI_REGIONS_FILE`` names another province's file.

A location is a regency, optionally one of its districts, and optionally
coordinates (WGS84 decimal degrees, both or neither); coordinates may also come
alone. Coordinates are checked to
be valid WGS84 only, not to lie inside the province: a phone near a border, or a
message about a neighbouring place, is not refused for that; staff see them next
to the regency the sender chose. Coordinates are for the staff: what the public
sees of a location stops at the district (see the web pages and Open311).
"""

from __future__ import annotations

import csv
import functools
import io
import math
import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import attrs

from .errors import Invalid
from .validation import Collector

#: The file the project ships: East Kalimantan (province code 64).
DEFAULT_REGIONS_FILE = "regions_64.csv"

_REGENCY_CODE = re.compile(r"\A[0-9]{2}\.[0-9]{2}\Z")
_DISTRICT_CODE = re.compile(r"\A[0-9]{2}\.[0-9]{2}\.[0-9]{2}\Z")
#: A decimal number as people type it: optional sign, digits, optional fraction
#: (a comma is taken as the decimal point, as Indonesian keyboards write it).
_DECIMAL = re.compile(r"\A[+-]?[0-9]{1,3}(?:[.,][0-9]{1,15})?\Z")


class RegionsFileError(ValueError):
    """The regions file cannot be read or breaks the format (the message says where)."""


@attrs.frozen
class District:
    """A kecamatan: its Kemendagri code (``64.72.06``), name and regency's code."""

    code: str
    name: str
    regency_code: str


@attrs.frozen
class Regency:
    """A kabupaten or kota: its Kemendagri code (``64.72``), name and districts."""

    code: str
    name: str
    districts: tuple[District, ...] = ()


@attrs.frozen
class Location:
    """A checked location: a regency, optionally a district of it, and optionally
    coordinates (both or neither); or coordinates alone."""

    regency_code: str | None
    district_code: str | None = None
    latitude: float | None = None
    longitude: float | None = None


@attrs.frozen
class Regions:
    """The regencies of one province, in the file's order, with their districts."""

    regencies: tuple[Regency, ...]
    _by_code: Mapping[str, Regency] = attrs.field(init=False, repr=False, eq=False)
    _districts: Mapping[str, District] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_by_code", {r.code: r for r in self.regencies})
        object.__setattr__(
            self, "_districts", {d.code: d for r in self.regencies for d in r.districts}
        )

    def regency(self, code: str | None) -> Regency | None:
        """The regency with this code, or None."""
        return self._by_code.get(code) if code else None

    def district(self, code: str | None) -> District | None:
        """The district with this code, or None."""
        return self._districts.get(code) if code else None

    def regency_name(self, code: str | None) -> str | None:
        """The name of the regency with this code (None: no such regency)."""
        found = self.regency(code)
        return found.name if found else None

    def district_name(self, code: str | None) -> str | None:
        """The name of the district with this code (None: no such district)."""
        found = self.district(code)
        return found.name if found else None

    def find(self, text: str) -> tuple[str | None, str | None]:
        """The regency and district codes a free-text address names without doubt
        (``"Jl. Juanda, Samarinda Ulu, Samarinda"`` → ``("64.72", "64.72.03")``),
        or the regency alone when it names no district, else ``(None, None)``.

        Names match whole words, case-insensitively; a regency matches with or
        without its "Kabupaten"/"Kota" and a name inside a longer one that matches
        too does not count ("Loa Janan" in "Loa Janan Ilir", "Penajam" in "Penajam
        Paser Utara"). Two districts, two regencies, or a district of another
        regency than the one named: nothing is guessed."""
        haystack = " ".join(text.casefold().split())
        found: list[tuple[int, int, str, str]] = []  # start, end, kind, code
        names: list[tuple[str, str, str]] = []
        for r in self.regencies:
            names.append((r.name, "regency", r.code))
            bare = re.sub(r"\A(kabupaten|kab\.|kota)\s+", "", r.name, flags=re.IGNORECASE)
            if bare != r.name:
                names.append((bare, "regency", r.code))
            names.extend((d.name, "district", d.code) for d in r.districts)
        for name, kind, code in names:
            pattern = r"(?<!\w)" + re.escape(" ".join(name.casefold().split())) + r"(?!\w)"
            found.extend((m.start(), m.end(), kind, code) for m in re.finditer(pattern, haystack))
        kept = [
            f
            for f in found
            if not any(
                g[0] <= f[0] and f[1] <= g[1] and (g[1] - g[0]) > (f[1] - f[0]) for g in found
            )
        ]
        regencies = {code for _, _, kind, code in kept if kind == "regency"}
        districts = {code for _, _, kind, code in kept if kind == "district"}
        if len(districts) == 1:
            (district,) = districts
            parent = self._districts[district].regency_code
            return (parent, district) if regencies <= {parent} else (None, None)
        if len(regencies) == 1 and not districts:
            (regency,) = regencies
            return regency, None
        return None, None

    def describe(self, regency_code: str | None, district_code: str | None) -> str:
        """``"District, Regency"`` (or the regency alone; ``""`` for none): the
        place as the public may read it."""
        parts = [self.district_name(district_code), self.regency_name(regency_code)]
        return ", ".join(p for p in parts if p)


def parse_regions(text: str, source: str = "regions file") -> Regions:
    """The regions of a CSV text (see the module's docstring for the format)."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or [h.strip().lower() for h in header[:2]] != ["code", "name"]:
        raise RegionsFileError(f"{source}: the first line must be the header 'code,name'")
    regencies: dict[str, tuple[str, list[District]]] = {}
    districts: list[tuple[int, str, str]] = []
    seen: set[str] = set()
    for line, row in enumerate(reader, start=2):
        if not row or not any(cell.strip() for cell in row):
            continue
        if len(row) < 2:
            raise RegionsFileError(f"{source}, line {line}: expected a code and a name")
        code, name = row[0].strip(), row[1].strip()
        if not name or len(name) > 100:
            raise RegionsFileError(f"{source}, line {line}: the name is empty or too long")
        if code in seen:
            raise RegionsFileError(f"{source}, line {line}: the code {code} appears twice")
        seen.add(code)
        if _REGENCY_CODE.match(code):
            regencies[code] = (name, [])
        elif _DISTRICT_CODE.match(code):
            districts.append((line, code, name))
        else:
            raise RegionsFileError(
                f"{source}, line {line}: {code!r} is neither a regency code (64.72)"
                " nor a district code (64.72.06)"
            )
    for line, code, name in districts:
        parent = code.rsplit(".", 1)[0]
        if parent not in regencies:
            raise RegionsFileError(
                f"{source}, line {line}: the district {code} has no regency {parent}"
            )
        regencies[parent][1].append(District(code=code, name=name, regency_code=parent))
    if not regencies:
        raise RegionsFileError(f"{source}: no regency")
    if len({code.split(".")[0] for code in regencies}) > 1:
        raise RegionsFileError(f"{source}: the regencies belong to more than one province")
    return Regions(
        regencies=tuple(
            Regency(code=code, name=name, districts=tuple(ds))
            for code, (name, ds) in regencies.items()
        )
    )


@functools.cache
def load_regions(path: str | None = None) -> Regions:
    """The regions of the CSV file at ``path``; None: the shipped East Kalimantan
    file. Read once per path; :class:`RegionsFileError` when it is unreadable or
    breaks the format."""
    if path is None:
        text = resources.files(__package__).joinpath(DEFAULT_REGIONS_FILE).read_text("utf-8")
        return parse_regions(text, DEFAULT_REGIONS_FILE)
    try:
        text = Path(path).read_text("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise RegionsFileError(f"{path}: cannot be read ({exc})") from None
    return parse_regions(text, path)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_coordinate(value: Any, field: str, limit: float) -> float:
    """A coordinate in decimal degrees from -``limit`` to ``limit``: a number (not a
    bool, not NaN or infinite) or its text (ASCII digits, an optional sign, a
    point or a comma before the fraction; no exponent, no spaces inside)."""
    number: float | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if text.isascii() and _DECIMAL.match(text):
            number = float(text.replace(",", "."))
    if number is None or not math.isfinite(number):
        raise Invalid.field(
            field, "coordinate_invalid", "Type the coordinate as a decimal number, like -0.5021."
        )
    if not -limit <= number <= limit:
        raise Invalid.field(
            field,
            "coordinate_range",
            "The coordinate must lie between -%(limit)s and %(limit)s.",
            limit=int(limit),
        )
    return number


def check_location(
    regions: Regions,
    regency: Any,
    district: Any = None,
    latitude: Any = None,
    longitude: Any = None,
    *,
    fields: tuple[str, str, str, str] = ("regency", "district", "latitude", "longitude"),
) -> Location | None:
    """The location a sender gave, or None when they gave none (every part blank).

    The regency must be one of ``regions``; the district, when given, one of its
    districts (a district needs its regency); latitude and longitude come both or
    neither, with or without a regency (an Open311 client may send only them).
    Every problem is
    raised at once (:class:`Invalid`); ``fields`` names the four inputs in the
    errors."""
    f_regency, f_district, f_lat, f_long = fields
    if all(_blank(v) for v in (regency, district, latitude, longitude)):
        return None
    collector = Collector()
    regency_code: str | None = None
    district_code: str | None = None
    if _blank(regency):
        if not _blank(district):
            collector.add(
                f_regency, "regency_required", "Choose the regency or city where it happened."
            )
    elif not isinstance(regency, str) or regions.regency(regency.strip()) is None:
        collector.add(f_regency, "regency_unknown", "Choose a regency or city from the list.")
    else:
        regency_code = regency.strip()
    if not _blank(district):
        found = regions.district(district.strip()) if isinstance(district, str) else None
        if found is None:
            collector.add(f_district, "district_unknown", "Choose a district from the list.")
        elif regency_code is not None and found.regency_code != regency_code:
            collector.add(
                f_district,
                "district_not_in_regency",
                "This district is not in the regency or city chosen.",
            )
        else:
            district_code = found.code
    lat = lon = None
    if _blank(latitude) != _blank(longitude):
        missing = f_lat if _blank(latitude) else f_long
        collector.add(
            missing,
            "coordinates_incomplete",
            "Give both the latitude and the longitude, or neither.",
        )
    elif not _blank(latitude):
        lat = collector.check(parse_coordinate, latitude, f_lat, 90.0)
        lon = collector.check(parse_coordinate, longitude, f_long, 180.0)
    collector.raise_if_any()
    return Location(
        regency_code=regency_code, district_code=district_code, latitude=lat, longitude=lon
    )


__all__ = [
    "DEFAULT_REGIONS_FILE",
    "District",
    "Location",
    "Regency",
    "Regions",
    "RegionsFileError",
    "check_location",
    "load_regions",
    "parse_coordinate",
    "parse_regions",
]
