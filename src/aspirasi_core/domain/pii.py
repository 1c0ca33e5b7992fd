"""Personal data typed into free text: finding it and masking it.

A citizen writes "hubungi saya di 0812-3456-7890" or copies their NIK into a
message; an operator puts a phone number into a note. Where such text is shown
to people who may not see the original (the public list, its search, the home
page, public tracking, e-mails), it passes through :func:`mask_pii`:

- a **NIK**: 16 digits, possibly split by single spaces, dots or hyphens, that
  pass the NIK rules of :func:`~.nik.normalize_nik` (region code, birth date,
  serial) → ``6472********0001``;
- an **Indonesian mobile number**, as Google's libphonenumber (the
  ``phonenumbers`` package) validates it: ``08…``, ``62 8…`` or ``+62 8…``, in
  groups of at least three digits split by single spaces, dots or hyphens (or as
  libphonenumber finds it: ``(0812) 3456-7890``) → ``0812*****890`` (the first
  four and the last three digits stay); a number starting ``62`` is an amount
  instead when it is written in thousands (``62.812.345.678``) or follows
  ``Rp``/``IDR``;
- an **e-mail address** → ``b***@***.com`` (the first character and the
  top-level domain stay).

What is *not* personal data stays as it is: dates and times (``08.12.2024 10.30``),
amounts (``Rp 62.812.345.678``, ``1.500.000``), ticket numbers
(``2611-K7Q2M9XD``), landline numbers (``0541-123456``) and any run of digits
that is not one of the above. A 16-digit number that fails the NIK rules is not
a NIK; a run of digits starting ``08`` or ``628`` that libphonenumber takes for a
mobile number is one.

The masker is pure and idempotent (masking masked text changes nothing), and its
output never contains what it masked.
"""

from __future__ import annotations

import bisect
import enum
import functools
import re
from collections.abc import Iterable, Iterator

import attrs
import phonenumbers

from .nik import is_valid_nik, mask_nik


class PiiKind(enum.StrEnum):
    """The kinds of personal data :func:`find_pii` recognises."""

    NIK = "nik"
    PHONE = "phone"
    EMAIL = "email"


@attrs.frozen
class PiiMatch:
    """One piece of personal data in a text: ``text[start:end]``."""

    kind: PiiKind
    start: int
    end: int
    value: str = attrs.field(repr=False)


#: Every start of 16 digits split by at most single separators (overlapping, so a
#: NIK inside a longer run of grouped digits is found at its own alignment).
_NIK_CANDIDATE = re.compile(r"(?<![0-9])(?=([0-9](?:[ .\-]?[0-9]){15})(?![0-9]))")
#: A mobile number begins with the country code or the trunk 0 (a bare "812…" is
#: a count or an amount, not a phone number someone can be called on).
_PHONE_START = re.compile(r"(?:\+62|62|0)8")
#: Where a run of digits may be a mobile number: the country code or the trunk
#: 0, then an 8; the digits after it, each after at most one separator; at most
#: this many (a national number has at most 12 digits).
_PHONE_RUN_START = re.compile(r"(?<![0-9+])(?:\+62[ .\-]?|62[ .\-]?|0)8")
_PHONE_DIGIT = re.compile(r"[ .\-]?[0-9]")
_PHONE_RUN_MAX = 11
#: A country code written without its plus: ``62`` starting a run of digits,
#: then a mobile number's 8.
_BARE_COUNTRY_CODE = re.compile(r"(?<![0-9+])62(?=[ .\-]?8)")
#: Where libphonenumber's matcher is asked (see ``_matched_phones``), and how far
#: around it.
_MOBILE_HINT = re.compile(r"(?:62|0)[ .\-()]{0,2}8")
_STRETCH = 40
#: Brackets libphonenumber accepts around an area or operator code.
_BRACKETS = re.compile(r"[()]")
#: What phonenumbers calls a mobile number (Indonesia has no shared ranges, but
#: a plan change could introduce them).
_MOBILE = frozenset(
    {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
)
_GROUP_SPLIT = re.compile(r"[ .\-]")
#: Thousands written with dots (``62.812.345.678``): an amount, not a phone.
_THOUSANDS = re.compile(r"[1-9][0-9]{0,2}(?:\.[0-9]{3})+")
#: An amount follows a currency: ``Rp 62812345678``.
_CURRENCY_BEFORE = re.compile(r"(?:rp|idr)\.?\s*$", re.IGNORECASE)
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]{1,64}@" + _LABEL + r"(?:\." + _LABEL + r")*"
    r"\.[A-Za-z]{2,24}(?![A-Za-z0-9\-])"
)
_DIGIT = re.compile(r"[0-9]")


@functools.lru_cache(maxsize=1024)
def _is_nik(value: str) -> bool:
    """:func:`~.nik.is_valid_nik`, remembered: a text of repeated digits asks the
    same question at every position."""
    return is_valid_nik(value)


def _niks(text: str) -> Iterator[PiiMatch]:
    for found in _NIK_CANDIDATE.finditer(text):
        value = found.group(1)
        if _is_nik(value):
            start = found.start(1)
            yield PiiMatch(PiiKind.NIK, start, start + len(value), value)


def _groups(value: str) -> list[str]:
    """The digit groups of a phone number after its country code."""
    digits_part = value[3:] if value.startswith("+62") else value
    groups = [g for g in _GROUP_SPLIT.split(digits_part) if g]
    if value.startswith("62") and len(groups) > 1 and groups[0] == "62":
        groups = groups[1:]  # "62 812 …": the country code is a group of its own
    return groups


def _is_phone(text: str, start: int, value: str) -> bool:
    value = _BRACKETS.sub("", value)
    if not _PHONE_START.match(_GROUP_SPLIT.sub("", value)):
        return False
    groups = _groups(value)
    if any(len(g) < 3 for g in groups):
        return False  # dates and times: 08.12.2024 10.30
    if value[0] in "+0":
        return True  # an amount never starts with these
    # "62…": an amount when written in thousands or after a currency
    return not (
        _THOUSANDS.fullmatch(value) or _CURRENCY_BEFORE.search(text, max(0, start - 8), start)
    )


def _is_mobile(value: str) -> bool:
    """Whether libphonenumber takes ``value`` for a valid Indonesian mobile number."""
    try:
        number = phonenumbers.parse(value, "ID")
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in _MOBILE


def _phone_at(text: str, start: int, value: str) -> str | None:
    """``value`` (a number libphonenumber found at ``start``) or the longest
    reading of it without its last groups that is a phone number: "0812 3456 789
    12" may be a number and a count, or "08.12.2024 10.30" a date (None)."""
    while True:
        if _is_phone(text, start, value):
            return value
        cut = max(value.rfind(" "), value.rfind("."), value.rfind("-"))
        if cut <= 0:
            return None
        value = value[:cut]
        if not _is_mobile(value.replace("62", "+62", 1) if value.startswith("62") else value):
            return None


def _phones(text: str) -> Iterator[PiiMatch]:
    """Indonesian mobile numbers, as Google's libphonenumber (``phonenumbers``)
    validates them, less what reads as a date, a time or an amount.

    Two finders, whose overlaps :func:`find_pii` settles: libphonenumber's own
    matcher, for the spellings it knows (``(0812) 3456-7890``, ``+62 (812) …``),
    and a scan of every run of digits that starts like a mobile number (``08``,
    ``62 8``, ``+62 8``), which also finds the numbers the matcher reads as part
    of a longer candidate (two numbers side by side, a number in brackets).

    People write the country code without its plus (``62 812…``, as WhatsApp
    shows it), which libphonenumber reads as a national number: the matcher is
    given the text with a ``+`` before such a ``62``, and its matches are mapped
    back to the text as written."""
    yield from _matched_phones(text)
    yield from _phone_runs(text)


def _phone_runs(text: str) -> Iterator[PiiMatch]:
    for found in _PHONE_RUN_START.finditer(text):
        start, pos = found.start(), found.end()
        ends: list[int] = []  # after the 1st, 2nd, … digit following the 8
        while len(ends) < _PHONE_RUN_MAX and (digit := _PHONE_DIGIT.match(text, pos)):
            pos = digit.end()
            ends.append(pos)
        # The longest reading that is a mobile number, not a date or an amount.
        for end in reversed(ends):
            if end < len(text) and "0" <= text[end] <= "9":
                continue
            value = text[start:end]
            number = "+" + value if value.startswith("62") else value
            if _is_phone(text, start, value) and _is_mobile(number):
                yield PiiMatch(PiiKind.PHONE, start, end, value)
                break


def _matched_phones(text: str) -> Iterator[PiiMatch]:
    """libphonenumber's matches. Its matcher costs some 10 µs a character, so it
    reads only stretches around where a mobile number may start (``08``, ``62 8``,
    ``(08``), from the start of the word before to well past any number's end."""
    stretches: list[tuple[int, int]] = []
    for hint in _MOBILE_HINT.finditer(text):
        lo = max(0, hint.start() - 4)
        floor = max(0, hint.start() - _STRETCH)
        while lo > floor and not text[lo - 1].isspace():
            lo -= 1
        hi = min(len(text), hint.start() + _STRETCH)
        if stretches and lo <= stretches[-1][1]:
            stretches[-1] = (stretches[-1][0], hi)
        else:
            stretches.append((lo, hi))
    for lo, hi in stretches:
        for match in _matched_in(text, lo, text[lo:hi]):
            if match.start == 0 or not text[match.start - 1].isdigit():
                yield match


def _matched_in(text: str, offset: int, stretch: str) -> Iterator[PiiMatch]:
    inserted = [m.start() for m in _BARE_COUNTRY_CODE.finditer(stretch)]
    searched = stretch
    for shift, at in enumerate(inserted):
        searched = searched[: at + shift] + "+" + searched[at + shift :]
    moved = [at + shift for shift, at in enumerate(inserted)]  # the pluses in ``searched``

    def original(x: int) -> int:
        return offset + x - bisect.bisect_left(moved, x)  # less the pluses before it

    for found in phonenumbers.PhoneNumberMatcher(searched, "ID"):
        if phonenumbers.number_type(found.number) not in _MOBILE:
            continue  # landlines, toll-free and service numbers stay as typed
        start, end = original(found.start), original(found.end)
        # The matcher may take in an opening bracket it does not close, and spaces,
        # before the number ("( 0812…"); the match is the number, so the text around
        # it stays as typed. "(0812) 3456-7890" is masked whole, brackets included.
        if ")" not in text[start:end]:
            while start < end and not (text[start].isdigit() or text[start] == "+"):
                start += 1
        value = _phone_at(text, start, text[start:end])
        if value is not None:
            yield PiiMatch(PiiKind.PHONE, start, start + len(value), value)


def _emails(text: str) -> Iterator[PiiMatch]:
    for found in _EMAIL.finditer(text):
        yield PiiMatch(PiiKind.EMAIL, found.start(), found.end(), found.group(0))


def find_pii(text: str) -> list[PiiMatch]:
    """The personal data in ``text``, in order and without overlaps (where two
    overlap, the one that starts first wins, then the longer one)."""
    if not _DIGIT.search(text) and "@" not in text:
        return []  # the common case: nothing to look at
    found = sorted((*_niks(text), *_phones(text), *_emails(text)), key=lambda m: (m.start, -m.end))
    kept: list[PiiMatch] = []
    for match in found:
        if not kept or match.start >= kept[-1].end:
            kept.append(match)
    return kept


def mask_value(match: PiiMatch) -> str:
    """What a piece of personal data reads as once masked."""
    if match.kind is PiiKind.NIK:
        return mask_nik(re.sub(r"[^0-9]", "", match.value))
    if match.kind is PiiKind.PHONE:
        digits = re.sub(r"[^0-9]", "", match.value)
        plus = "+" if match.value.startswith("+") else ""
        return plus + digits[:4] + "*" * (len(digits) - 7) + digits[-3:]
    local, _, domain = match.value.rpartition("@")
    return local[0] + "***@***." + domain.rsplit(".", 1)[1]


def _mask_once(text: str, matches: Iterable[PiiMatch]) -> str:
    parts: list[str] = []
    last = 0
    for match in matches:
        parts.append(text[last : match.start])
        parts.append(mask_value(match))
        last = match.end
    parts.append(text[last:])
    return "".join(parts)


def mask_pii(text: str) -> str:
    """``text`` with every NIK, mobile number and e-mail address masked.

    Masking is repeated until nothing is left to mask, so the result is stable
    (``mask_pii(mask_pii(x)) == mask_pii(x)``) even where the visible end of one
    masked value would form another with the text next to it."""
    while True:
        matches = find_pii(text)
        if not matches:
            return text
        text = _mask_once(text, matches)


def public_copy(text: str) -> str | None:
    """:func:`mask_pii` of ``text``, or None when it has nothing to mask (what
    storage keeps as the public copy of a subject or a body)."""
    masked = mask_pii(text)
    return None if masked == text else masked


def contains_pii(text: str) -> bool:
    """Whether :func:`mask_pii` would change ``text``."""
    return bool(find_pii(text))


__all__ = [
    "PiiKind",
    "PiiMatch",
    "contains_pii",
    "find_pii",
    "mask_pii",
    "mask_value",
    "public_copy",
]
