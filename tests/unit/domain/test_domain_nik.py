"""NIK validation and masking (domain/nik.py), REFERENCE.md "NIK"."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from aspirasi_core.domain.errors import Invalid
from aspirasi_core.domain.nik import is_valid_nik, mask_nik, normalize_nik

MALE = "6472041504910001"  # Samarinda, born 15-04-1991
FEMALE = "6472045504910001"  # same date, day + 40
PREFIXES = ["647204", "647101", "640101", "317101", "110101", "530101"]


def nik_code(raw) -> str:
    with pytest.raises(Invalid) as info:
        normalize_nik(raw)
    assert len(info.value.errors) == 1
    assert info.value.errors[0].field == "nik"
    return info.value.errors[0].code


# -- accepted ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (MALE, MALE),
        (FEMALE, FEMALE),
        ("6472044101000001", "6472044101000001"),  # female, 1 Jan
        ("6472047112990001", "6472047112990001"),  # female, 31 Dec (day 71)
        ("6472040101009999", "6472040101009999"),  # serial 9999
        ("6472042902000001", "6472042902000001"),  # 29 Feb 2000 (leap year)
        ("6472046902000001", "6472046902000001"),  # same, female
        ("6472 04 150491 0001", MALE),
        ("6472.0415.0491.0001", MALE),
        ("6472-04-150491-0001", MALE),
        ("  6472 0455-0491.0001 ", FEMALE),
    ],
)
def test_valid_nik(raw, expected) -> None:
    assert normalize_nik(raw) == expected
    assert is_valid_nik(raw)


def test_custom_field_name() -> None:
    with pytest.raises(Invalid) as info:
        normalize_nik("123", field="tracking_nik")
    assert info.value.errors[0].field == "tracking_nik"


# -- rejected: format ------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        MALE[:15],  # 15 digits
        MALE + "1",  # 17 digits
        "٠" + MALE[1:],  # Arabic-Indic zero
        MALE[:15] + "١",  # Arabic-Indic one
        "６" + MALE[1:],  # fullwidth six
        MALE[:15] + "１",  # fullwidth one
        "۶" + MALE[1:],  # extended Arabic-Indic six
        MALE[:8] + "\t" + MALE[8:],  # tab is not a separator
        MALE[:8] + "_" + MALE[8:],
        MALE[:8] + "/" + MALE[8:],
        "6472O41504910001",  # letter O
        "abcdefghijklmnop",
        "+472041504910001",
    ],
)
def test_bad_format(raw) -> None:
    assert nik_code(raw) == "nik_format"
    assert not is_valid_nik(raw)


@pytest.mark.parametrize("raw", [None, 6472041504910001, "", "   ", " - . ", b"6472041504910001"])
def test_required(raw) -> None:
    assert nik_code(raw) == "nik_required"


@pytest.mark.parametrize("raw", [MALE + "\n", MALE + "\r\n", " " + MALE + " "])
def test_surrounding_whitespace_is_trimmed_and_never_kept(raw) -> None:
    # People paste NIKs with a trailing newline; the stored value is always clean.
    assert normalize_nik(raw) == MALE


# -- rejected: content ----------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "6472041504910000",  # serial 0000
        "6472043102910001",  # 31 Feb
        "6472047102910001",  # 31 Feb, female
        "6472042902010001",  # 29 Feb 2001 / 1901
        "6472047202910001",  # day 72
        "6472043204910001",  # day 32
        "6472044004910001",  # day 40
        "6472040004910001",  # day 00
        "6472048004910001",  # day 80
        "6472047504910001",  # day 75
        "6472041513910001",  # month 13
        "6472041500910001",  # month 00
        "9972041504910001",  # province 99
        "0072041504910001",  # province 00
        "1072041504910001",  # province 10 does not exist
    ],
)
def test_invalid_nik(raw) -> None:
    assert nik_code(raw) == "nik_invalid"


@pytest.mark.parametrize("day", [81, 85, 91, 99])
def test_day_above_80_rejected(day) -> None:
    with pytest.raises(Invalid):
        normalize_nik(f"647204{day:02d}04910001")


# -- masking --------------------------------------------------------------------------


def test_mask_nik() -> None:
    assert mask_nik(FEMALE) == "6472********0001"
    assert mask_nik("3171011708450123") == "3171********0123"
    assert mask_nik("12345") == "*****"
    assert mask_nik("") == ""
    assert mask_nik(MALE + "9") == "*" * 17


@given(st.text(alphabet="0123456789", min_size=16, max_size=16))
def test_mask_hides_the_middle(nik) -> None:
    masked = mask_nik(nik)
    assert len(masked) == 16
    assert masked[:4] == nik[:4] and masked[12:] == nik[12:]
    assert masked[4:12] == "*" * 8


# -- properties -----------------------------------------------------------------------


@st.composite
def valid_niks(draw) -> str:
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)))
    female = draw(st.booleans())
    serial = draw(st.integers(min_value=1, max_value=9999))
    prefix = draw(st.sampled_from(PREFIXES))
    day = born.day + (40 if female else 0)
    return f"{prefix}{day:02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"


def with_separators(draw, nik: str) -> str:
    out = []
    for ch in nik:
        out.append(draw(st.sampled_from(["", "", "", " ", ".", "-"])))
        out.append(ch)
    return "".join(out)


@given(valid_niks())
@settings(max_examples=400)
def test_generated_valid_niks_are_accepted(nik) -> None:
    assert normalize_nik(nik) == nik


@given(st.data())
@settings(max_examples=200)
def test_separators_are_ignored(data) -> None:
    nik = data.draw(valid_niks())
    typed = with_separators(data.draw, nik)
    assert normalize_nik(typed) == nik


@given(valid_niks())
def test_serial_0000_always_rejected(nik) -> None:
    with pytest.raises(Invalid):
        normalize_nik(nik[:12] + "0000")


NIKISH = st.one_of(
    st.text(),
    st.text(alphabet="0123456789 .-\n\t٠１", max_size=24),
    valid_niks(),
    st.builds(lambda n, t: n + t, valid_niks(), st.text(max_size=3)),
    st.builds(lambda t, n: t + n, st.text(max_size=3), valid_niks()),
)


@given(NIKISH)
@settings(max_examples=600)
@example(MALE)
@example("6472041504910001\n")
@example("６４７２０４１５０４９１０００１")
def test_accepted_means_sixteen_ascii_digits_and_round_trips(raw) -> None:
    try:
        nik = normalize_nik(raw)
    except Invalid:
        assert not is_valid_nik(raw)
        return
    assert len(nik) == 16
    assert all(c in "0123456789" for c in nik)
    assert nik.isascii()
    assert nik[12:] != "0000"
    assert normalize_nik(nik) == nik
    assert is_valid_nik(raw)


@given(
    st.one_of(st.text(), st.binary(), st.integers(), st.none(), st.floats(), st.lists(st.text()))
)
@settings(max_examples=400)
def test_anything_raises_only_invalid(raw) -> None:
    try:
        normalize_nik(raw)
    except Invalid as exc:
        assert exc.errors and exc.errors[0].code in {"nik_required", "nik_format", "nik_invalid"}
    assert isinstance(is_valid_nik(raw), bool)


@given(
    st.sampled_from(["64", "31", "11", "53", "99", "00", "65"]),
    st.text(alphabet="0123456789", min_size=2, max_size=2),
    st.text(alphabet="0123456789", min_size=12, max_size=12),
)
@settings(max_examples=400)
def test_the_fast_checks_agree_with_python_stdnum(province, regency, rest) -> None:
    """The region and date checks (cached for speed) accept exactly what
    python-stdnum's ``validate`` accepts, besides our stricter day and serial rules."""
    from stdnum.exceptions import ValidationError
    from stdnum.id import nik as stdnum_nik

    nik = province + regency + rest
    try:
        stdnum_nik.validate(nik)
        stdnum_ok = True
    except ValidationError:
        stdnum_ok = False
    day = int(nik[6:8])
    ours_extra = (1 <= day <= 31 or 41 <= day <= 71) and nik[12:] != "0000"
    assert is_valid_nik(nik) == (stdnum_ok and ours_extra)
