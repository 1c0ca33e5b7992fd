"""The regions of the province and the checks of a message's location."""

from __future__ import annotations

import math

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from aspirasi_core.domain.errors import Invalid
from aspirasi_core.domain.regions import (
    Location,
    RegionsFileError,
    check_location,
    load_regions,
    parse_coordinate,
    parse_regions,
)

KALTIM = load_regions()


def codes(exc: pytest.ExceptionInfo[Invalid]) -> list[tuple[str, str]]:
    return [(e.field, e.code) for e in exc.value.errors]


def test_the_shipped_file_holds_east_kalimantan() -> None:
    names = {r.code: r.name for r in KALTIM.regencies}
    assert names == {
        "64.01": "Kabupaten Paser",
        "64.02": "Kabupaten Kutai Kartanegara",
        "64.03": "Kabupaten Berau",
        "64.07": "Kabupaten Kutai Barat",
        "64.08": "Kabupaten Kutai Timur",
        "64.09": "Kabupaten Penajam Paser Utara",
        "64.11": "Kabupaten Mahakam Ulu",
        "64.71": "Kota Balikpapan",
        "64.72": "Kota Samarinda",
        "64.74": "Kota Bontang",
    }
    per_regency = {r.code: len(r.districts) for r in KALTIM.regencies}
    assert per_regency == {
        "64.01": 10,
        "64.02": 20,
        "64.03": 13,
        "64.07": 16,
        "64.08": 18,
        "64.09": 4,
        "64.11": 5,
        "64.71": 6,
        "64.72": 10,
        "64.74": 3,
    }
    assert KALTIM.district_name("64.72.06") == "Sungai Kunjang"
    assert KALTIM.describe("64.72", "64.72.06") == "Sungai Kunjang, Kota Samarinda"
    assert KALTIM.describe("64.09", None) == "Kabupaten Penajam Paser Utara"
    assert KALTIM.describe(None, None) == ""


def test_a_location_is_a_regency_a_district_of_it_and_coordinates() -> None:
    assert check_location(KALTIM, "", None, " ", None) is None
    assert check_location(KALTIM, "64.72", "64.72.06", "-0.5021", "117,1536") == Location(
        "64.72", "64.72.06", -0.5021, 117.1536
    )
    assert check_location(KALTIM, " 64.74 ", "", 0.13, 117.5) == Location(
        "64.74", None, 0.13, 117.5
    )
    assert check_location(KALTIM, None, None, "-0.5", "117") == Location(None, None, -0.5, 117.0)


def test_every_problem_is_said_at_once() -> None:
    with pytest.raises(Invalid) as exc:
        check_location(KALTIM, "64.72", "64.71.01", "north", "117")
    assert codes(exc) == [
        ("district", "district_not_in_regency"),
        ("latitude", "coordinate_invalid"),
    ]
    with pytest.raises(Invalid) as exc:
        check_location(KALTIM, "", "64.72.06", "-0.5", None)
    assert codes(exc) == [
        ("regency", "regency_required"),
        ("longitude", "coordinates_incomplete"),
    ]
    with pytest.raises(Invalid) as exc:
        check_location(KALTIM, "99.01", "99.01.01", "91", "181")
    assert codes(exc) == [
        ("regency", "regency_unknown"),
        ("district", "district_unknown"),
        ("latitude", "coordinate_range"),
        ("longitude", "coordinate_range"),
    ]
    with pytest.raises(Invalid) as exc:
        check_location(KALTIM, ["64.72"], 5, None, None)
    assert codes(exc) == [("regency", "regency_unknown"), ("district", "district_unknown")]


@given(st.floats(min_value=-90, max_value=90, allow_nan=False))
def test_a_latitude_in_range_is_accepted_as_a_number_and_as_its_text(value: float) -> None:
    assert parse_coordinate(value, "lat", 90) == value
    text = f"{value:.6f}"
    assert parse_coordinate(text, "lat", 90) == pytest.approx(float(text))


@given(st.one_of(st.text(max_size=30), st.floats(), st.booleans(), st.none(), st.integers()))
@example("1e5")
@example("٣.٥")
@example("nan")
@example(" - 1.5")
@example("0x10")
@example(True)
@example(float("inf"))
def test_anything_else_is_refused_with_a_field_error_never_another_exception(value: object) -> None:
    try:
        number = parse_coordinate(value, "lat", 90)
    except Invalid as exc:
        assert exc.errors[0].field == "lat"
        assert exc.errors[0].code in ("coordinate_invalid", "coordinate_range")
        return
    # What is accepted is a plain decimal in range.
    assert math.isfinite(number) and -90 <= number <= 90
    assert not isinstance(value, bool)
    if isinstance(value, str):
        assert value.strip().isascii() and "e" not in value.lower()


def test_another_province_replaces_the_file(tmp_path) -> None:
    path = tmp_path / "regions.csv"
    path.write_text(
        "code,name\n63.71,Kota Banjarmasin\n63.71.01,Banjarmasin Selatan\n\n", encoding="utf-8"
    )
    regions = load_regions(str(path))
    assert [r.code for r in regions.regencies] == ["63.71"]
    assert check_location(regions, "63.71", "63.71.01") == Location("63.71", "63.71.01")
    with pytest.raises(Invalid):
        check_location(regions, "64.72")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("kode,nama\n64.72,Kota Samarinda\n", "header"),
        ("code,name\n", "no regency"),
        ("code,name\n64.72,Kota Samarinda\n64.72,Samarinda\n", "twice"),
        ("code,name\n64.72.01,Palaran\n", "no regency 64.72"),
        ("code,name\n6472,Kota Samarinda\n", "neither"),
        ("code,name\n64.72,\n", "empty"),
        ("code,name\n64.72,Kota Samarinda\n63.71,Kota Banjarmasin\n", "more than one province"),
    ],
)
def test_a_broken_file_is_refused_saying_where(text: str, fragment: str) -> None:
    with pytest.raises(RegionsFileError, match=fragment):
        parse_regions(text, "x.csv")


def test_a_missing_file_is_refused(tmp_path) -> None:
    with pytest.raises(RegionsFileError, match="cannot be read"):
        load_regions(str(tmp_path / "missing.csv"))


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("Jl. Juanda, Samarinda Ulu, Samarinda", ("64.72", "64.72.03")),
        ("kecamatan  SUNGAI KUNJANG", ("64.72", "64.72.06")),
        ("Loa Janan Ilir", ("64.72", "64.72.10")),
        ("Loa Janan, Kutai Kartanegara", ("64.02", "64.02.03")),
        ("Kabupaten Penajam Paser Utara", ("64.09", None)),
        ("Penajam", ("64.09", "64.09.01")),
        ("Kota Balikpapan", ("64.71", None)),
        ("Balikpapan Kota, Balikpapan", ("64.71", "64.71.06")),
        # A district of another regency than the one named, two regencies, two
        # districts, nothing known: no guess.
        ("Palaran, Bontang", (None, None)),
        ("Samarinda atau Bontang", (None, None)),
        ("Palaran atau Sambutan", (None, None)),
        ("Jl. Merdeka 17, Jakarta", (None, None)),
        ("Sungai Kunjangan", (None, None)),
    ],
)
def test_an_address_names_a_place_only_without_doubt(
    address: str, expected: tuple[str | None, str | None]
) -> None:
    assert KALTIM.find(address) == expected
