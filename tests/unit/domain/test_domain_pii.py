"""Personal data in free text (domain/pii.py): what is found, how it is masked,
and the properties the public pages rely on."""

from __future__ import annotations

import re
import string
from datetime import date

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from aspirasi_core.domain.pii import PiiKind, contains_pii, find_pii, mask_pii
from aspirasi_core.services.messages import new_ticket

# --------------------------------------------------------------------------- strategies

#: Province + regency + district codes python-stdnum knows.
REGIONS = ["647204", "647101", "640101", "317101", "110101", "530101", "647205", "647301"]
SEPARATORS = ["", " ", ".", "-"]


@st.composite
def niks(draw: st.DrawFn) -> str:
    """A valid NIK, written as people write it (maybe in groups)."""
    born = draw(st.dates(min_value=date(1930, 1, 1), max_value=date(2025, 12, 31)))
    day = born.day + (40 if draw(st.booleans()) else 0)
    serial = draw(st.integers(min_value=1, max_value=9999))
    digits = f"{draw(st.sampled_from(REGIONS))}{day:02d}{born:%m%y}{serial:04d}"
    sep = draw(st.sampled_from(SEPARATORS))
    grouping = draw(st.sampled_from([(16,), (6, 6, 4), (4, 4, 4, 4), (2, 2, 2, 6, 4)]))
    parts, at = [], 0
    for size in grouping:
        parts.append(digits[at : at + size])
        at += size
    return sep.join(parts)


@st.composite
def phones(draw: st.DrawFn) -> str:
    """An Indonesian mobile number in one of the usual spellings: 8, the operator's
    digit (not 0 or 4: no mobile range starts 80 or 84), then 7-10 digits."""
    operator = draw(st.sampled_from("1235678" + "9"))
    rest = "8" + operator + draw(st.text(alphabet=string.digits, min_size=7, max_size=10))
    sep = draw(st.sampled_from(SEPARATORS))
    country = draw(st.sampled_from(["", "62", "+62"]))
    left = rest if country else "0" + rest
    groups = []
    while len(left) > 6:  # groups of 3-4 digits, the last one 3-6
        size = draw(st.integers(min_value=3, max_value=4))
        groups.append(left[:size])
        left = left[size:]
    groups.append(left)
    prefix = country + (draw(st.sampled_from(SEPARATORS)) if country else "")
    return prefix + sep.join(groups)


LOWER = string.ascii_lowercase
label = st.tuples(st.sampled_from(LOWER), st.text(alphabet=LOWER + string.digits, max_size=10))


@st.composite
def emails(draw: st.DrawFn) -> str:
    first, rest = draw(label)
    local = first + draw(st.text(alphabet=LOWER + string.digits + "._", max_size=12)) + "a"
    labels = ["".join(draw(label)) for _ in range(draw(st.integers(1, 3)))]
    tld = draw(st.sampled_from(["id", "com", "org", "go.id", "co.id"]))
    return f"{local}{rest}@{'.'.join(labels)}.{tld}"


pii = st.one_of(niks(), phones(), emails())
words = st.text(alphabet=string.ascii_letters + ",;:!?()", min_size=0, max_size=12)
text_around = st.lists(words, max_size=4).map(" ".join)

MONTHS = ["Januari", "Februari", "Agustus", "Desember"]


@st.composite
def ordinary_numbers(draw: st.DrawFn) -> str:
    """Numbers that are not personal data: dates, times, amounts, tickets, landlines."""
    day = draw(st.dates(min_value=date(1950, 1, 1), max_value=date(2099, 12, 31)))
    hour, minute = draw(st.integers(0, 23)), draw(st.integers(0, 59))
    amount = draw(st.integers(min_value=0, max_value=10**15 - 1))
    small = draw(st.integers(min_value=0, max_value=10**9 - 1))
    area = draw(st.sampled_from(["0541", "0542", "021", "0543"]))
    local = draw(st.text(alphabet=string.digits, min_size=5, max_size=7))
    return draw(
        st.sampled_from(
            [
                f"{day:%d/%m/%Y}",
                f"{day:%d-%m-%Y}",
                f"{day:%d.%m.%Y}",
                f"{day:%Y-%m-%d}",
                f"{day:%d%m%Y}",
                f"{day.day} {MONTHS[day.month % 4]} {day.year}",
                f"{day:%d.%m.%Y} {hour:02d}.{minute:02d}",
                f"{day:%d-%m-%Y} {hour:02d}:{minute:02d}",
                f"{day:%d.%m.%Y} {hour:02d}.{minute:02d}.{minute:02d}",
                f"pukul {hour:02d}.{minute:02d} WITA",
                "Rp " + f"{amount:,}".replace(",", "."),
                "Rp" + str(amount),
                f"{amount:,}".replace(",", "."),
                f"{amount:,}",
                str(small),
                f"{small / 100:.2f}".replace(".", ","),
                new_ticket(day_time(day, hour, minute)),
                f"({area}) {local}",
                f"{area}-{local}",
                f"{small % 100}%",
            ]
        )
    )


def day_time(day: date, hour: int, minute: int):
    from datetime import UTC, datetime

    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


ordinary_text = st.lists(st.one_of(ordinary_numbers(), words), max_size=6).map(", ".join)


def digits_of(value: str) -> str:
    return re.sub(r"[^0-9]", "", value)


# --------------------------------------------------------------------------- properties


@given(before=text_around, value=pii, after=text_around)
@example(before="NIK", value="6472045504910001", after="")
@example(before="", value="0812-3456-7890", after="(WA)")
@example(before="email", value="budi.santoso@gmail.com", after="")
@example(before="(", value="0810000000", after="")  # the matcher took in "( "
def test_masked_output_never_contains_the_original(before: str, value: str, after: str) -> None:
    text = f"{before} {value} {after}"
    masked = mask_pii(text)
    assert value not in masked
    if "@" not in value:
        # nor the bare digits of a NIK or a phone number, however they were written
        assert digits_of(value) not in digits_of(masked)
    [found] = find_pii(text)
    assert text[found.start : found.end] == value
    assert masked.startswith(before) and masked.endswith(after)


@given(values=st.lists(pii, min_size=1, max_size=4), glue=text_around)
def test_every_value_of_a_text_is_masked(values: list[str], glue: str) -> None:
    text = f" {glue} ".join(values)
    masked = mask_pii(text)
    for value in values:
        assert value not in masked
    assert len(find_pii(text)) == len(values)


@given(st.one_of(st.text(), text_around, ordinary_text))
@example("6472 0455 0491 0001@a.co")
@example("0812 3456 789 12@x.id")
def test_masking_is_idempotent(text: str) -> None:
    once = mask_pii(text)
    assert mask_pii(once) == once
    assert not contains_pii(once)


@given(before=text_around, value=pii, after=text_around)
def test_masking_masked_text_changes_nothing(before: str, value: str, after: str) -> None:
    once = mask_pii(f"{before} {value} {after}")
    assert mask_pii(once) == once


@given(ordinary_text)
@example("Tanggal 08.12.2024 10.30, Rp 62.812.345.678, 1.500.000")
@example("tiket 2611-K7Q2M9XD, kantor (0541) 123456, 0541-7654321")
@example("Rp 62812345678, IDR 62812345678, 1234567890123456")
def test_text_without_personal_data_is_unchanged(text: str) -> None:
    assert find_pii(text) == []
    assert mask_pii(text) == text


# --------------------------------------------------------------------------- examples


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("NIK 6472045504910001.", "NIK 6472********0001."),
        ("NIK:6472045504910001", "NIK:6472********0001"),
        ("6472-0455-0491-0001 dan 6472 045504 910001", "6472********0001 dan 6472********0001"),
        ("nomor KK 1111 6472 0455 0491 0001", "nomor KK 1111 6472********0001"),
        ("HP 0812-3456-7890", "HP 0812*****890"),
        ("WA: +62 812 3456 7890", "WA: +6281******890"),
        ("hubungi 62812.3456.789", "hubungi 6281*****789"),
        ("tel:081234567890.", "tel:0812*****890."),
        ("Rp 081234567890", "Rp 0812*****890"),  # an amount never starts with 0
        ("0812 3456 789 12 x", "0812****789 12 x"),
        ("WA 62 812-3456-7890", "WA 6281******890"),
        ("HP (0812) 3456-7890.", "HP 0812*****890."),
        ("kantor 0541-123456, HP 0812 3456 7890", "kantor 0541-123456, HP 0812*****890"),
        ("budi.santoso@gmail.com", "b***@***.com"),
        ("Surat ke Humas@Kaltimprov.go.id!", "Surat ke H***@***.id!"),
    ],
)
def test_masks(text: str, masked: str) -> None:
    assert mask_pii(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "1234567890123456",  # 16 digits, but no NIK (no region 12, no day 90)
        "6472040000000001",  # a NIK's shape with no birth date
        "6472041504910000",  # serial 0000
        "kantor 0541-123456",
        "08 1234 5678",  # the first group is too short to be a phone's
        "rekening 0812345",  # too short
        "rekening 12345081234567890",  # a mobile number's shape inside a longer number
        "no.rek:1234508123456789 ok",
        "Rp 62.812.345.678",
        "IDR 62812345678",
        "x@y.z",  # not a domain
        "@budi",  # a handle, not an address
    ],
)
def test_leaves_alone(text: str) -> None:
    assert mask_pii(text) == text


def test_kinds_and_positions() -> None:
    text = "a 6472045504910001 b 0812-3456-7890 c x@example.org"
    found = find_pii(text)
    assert [m.kind for m in found] == [PiiKind.NIK, PiiKind.PHONE, PiiKind.EMAIL]
    assert [text[m.start : m.end] for m in found] == [
        "6472045504910001",
        "0812-3456-7890",
        "x@example.org",
    ]
    assert "6472045504910001" not in repr(found)  # values stay out of logs
