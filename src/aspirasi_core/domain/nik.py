"""NIK (Nomor Induk Kependudukan): validation and masking.

Format ``PPKKCC DDMMYY SSSS``: province, regency and district codes, birth date
(40 added to the day for women) and a serial that is never ``0000``. The
structure, date and region codes are checked by python-stdnum; the strict ASCII
pattern is checked first because Python's ``\\d`` accepts other digits.
Storage keeps the NIK encrypted with a keyed look-up index (see
``aspirasi_core.security.nik_crypto``); people other than the owner see it masked.
"""

from __future__ import annotations

import datetime
import functools
import re

from stdnum.id import nik as stdnum_nik

from .errors import Invalid

#: The digits of a NIK.
NIK_DIGITS = 16
_NIK_RE = re.compile(rf"\A[0-9]{{{NIK_DIGITS}}}\Z")
_SEPARATORS = re.compile(r"[ .\-]")


def normalize_nik(raw: str, field: str = "nik") -> str:
    """Return the 16-digit NIK or raise :class:`Invalid` with a clear reason.

    Spaces, dots and dashes that people type between groups are removed.
    """
    if not isinstance(raw, str):
        raise Invalid.field(field, "nik_required", "Enter your 16-digit NIK.")
    value = _SEPARATORS.sub("", raw.strip())
    if not value:
        raise Invalid.field(field, "nik_required", "Enter your 16-digit NIK.")
    if not _NIK_RE.match(value):
        raise Invalid.field(field, "nik_format", "A NIK has exactly 16 digits (0–9).")
    day = int(value[6:8])
    if not (1 <= day <= 31 or 41 <= day <= 71):
        # python-stdnum reads the day modulo 40, which would let 81-99 through.
        raise Invalid.field(
            field,
            "nik_invalid",
            "This NIK is not valid: check the region code and the date of birth.",
        )
    if value[12:] == "0000":
        raise Invalid.field(field, "nik_invalid", "This NIK is not valid.")
    if not (_is_date(day % 40, int(value[8:10]), int(value[10:12])) and _known_region(value[:4])):
        raise Invalid.field(
            field,
            "nik_invalid",
            "This NIK is not valid: check the region code and the date of birth.",
        )
    return value


def _is_date(day: int, month: int, year: int) -> bool:
    """python-stdnum's birth-date rule: a real date in 19yy or 20yy."""
    for century in (1900, 2000):
        try:
            datetime.date(century + year, month, day)
        except ValueError:
            continue
        return True
    return False


@functools.lru_cache(maxsize=1024)
def _known_region(code: str) -> bool:
    """python-stdnum's region table knows the province and regency code. Cached:
    a few hundred codes exist, and the table look-up is slow for a hot path.

    Asked through python-stdnum's public ``is_valid`` with a NIK of that region
    whose other parts are valid (1 January 1900, serial 0001), so only the
    region decides."""
    return stdnum_nik.is_valid(f"{code}00" + "010100" + "0001")


def is_valid_nik(raw: str) -> bool:
    """True when :func:`normalize_nik` accepts ``raw``."""
    try:
        normalize_nik(raw)
    except Invalid:
        return False
    return True


def mask_nik(nik: str) -> str:
    """``6472045504910001`` → ``6472********0001``."""
    if len(nik) != 16:
        return "*" * len(nik)
    return nik[:4] + "*" * 8 + nik[12:]
