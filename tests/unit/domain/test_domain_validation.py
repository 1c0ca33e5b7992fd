"""Input validation and normalization (domain/validation.py)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from aspirasi_core.domain.errors import FieldError, Invalid
from aspirasi_core.domain.validation import (
    COMMON_PASSWORDS,
    LIMITS,
    Collector,
    _is_pictographic,
    check_day,
    check_flag,
    check_id,
    check_password,
    check_stars,
    clean_text,
    normalize_code,
    normalize_email,
    normalize_username,
)


def codes(exc: Invalid) -> list[tuple[str, str]]:
    return [(e.field, e.code) for e in exc.errors]


def raises_invalid(fn, *args, **kwargs) -> Invalid:
    with pytest.raises(Invalid) as info:
        fn(*args, **kwargs)
    return info.value


# -- e-mail ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("budi@example.com", "budi@example.com"),
        ("  Budi.Santoso@Example.COM ", "budi.santoso@example.com"),
        ("BUDI@BÜCHER.DE", "budi@bücher.de"),
        ("siti+aspirasi@kaltimprov.go.id", "siti+aspirasi@kaltimprov.go.id"),
    ],
)
def test_email_normalized_lower_case(raw, expected) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "budi",
        "budi@",
        "@example.com",
        "budi@@example.com",
        "budi santoso@example.com",
        "Budi <budi@example.com>",
        "budi@localhost",
        "budi@example",
        "a..b@example.com",
        "budi@-example.com",
        "budi@example.com\x00",
        "budi@exa mple.com",
    ],
)
def test_bad_email_rejected(raw) -> None:
    exc = raises_invalid(normalize_email, raw, "login_email")
    assert exc.code == "email_invalid"
    assert codes(exc) == [("login_email", "email_invalid")]


def _address(total: int) -> str:
    local = "a" * 64
    tail = ".com"
    rest = total - len(local) - 1 - len(tail)
    labels = []
    while rest > 0:
        n = min(63, rest)
        labels.append("b" * n)
        rest -= n + 1
    # fix the length exactly: the last label absorbs the difference
    addr = local + "@" + ".".join(labels) + tail
    diff = total - len(addr)
    labels[-1] = labels[-1][: len(labels[-1]) + diff] if diff < 0 else labels[-1] + "b" * diff
    addr = local + "@" + ".".join(labels) + tail
    assert len(addr) == total
    return addr


def test_email_length_limit() -> None:
    assert LIMITS["email"] == 254
    ok = _address(254)
    assert normalize_email(ok) == ok
    exc = raises_invalid(normalize_email, _address(255))
    assert codes(exc) == [("email", "email_invalid")]
    exc = raises_invalid(normalize_email, "a" * 300 + "@example.com")
    assert exc.code == "email_invalid"


@pytest.mark.parametrize("raw", [None, "", "   ", 42, b"budi@example.com"])
def test_email_required(raw) -> None:
    exc = raises_invalid(normalize_email, raw)
    assert codes(exc) == [("email", "required")]


# -- username ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("budi", "budi"),
        ("  Budi_Santoso.99 ", "budi_santoso.99"),
        ("a-b", "a-b"),
        ("9lives", "9lives"),
        ("x" * 32, "x" * 32),
    ],
)
def test_username_ok(raw, expected) -> None:
    assert normalize_username(raw) == expected


@pytest.mark.parametrize("raw", ["ab", "x" * 33, " ab  "])
def test_username_length(raw) -> None:
    exc = raises_invalid(normalize_username, raw)
    assert codes(exc) == [("username", "username_length")]
    assert exc.errors[0].params == {"min": 3, "max": 32}


@pytest.mark.parametrize(
    "raw",
    [
        "_budi",
        ".budi",
        "-budi",
        "bu di",
        "budi@x",
        "budi!",
        "budí",
        "büdi",
        "bu\ndi",
        "bu\tdi",
        "١٢٣",
    ],
)
def test_username_format(raw) -> None:
    exc = raises_invalid(normalize_username, raw)
    assert codes(exc) == [("username", "username_format")]


@pytest.mark.parametrize("raw", [None, "", "  ", 7])
def test_username_required(raw) -> None:
    assert codes(raises_invalid(normalize_username, raw)) == [("username", "required")]


# -- code -------------------------------------------------------------------------


def test_code_ok() -> None:
    assert normalize_code(" Permasalahan-Lahan ") == "permasalahan-lahan"
    assert normalize_code("dinas-pu-2") == "dinas-pu-2"
    assert normalize_code("a" * 64) == "a" * 64


@pytest.mark.parametrize("raw", ["-abc", "a_b", "a.b", "a b", "a" * 65, "lahan!", "ábc"])
def test_code_format(raw) -> None:
    assert codes(raises_invalid(normalize_code, raw, "agency_code")) == [
        ("agency_code", "code_format")
    ]


@pytest.mark.parametrize("raw", [None, "", " "])
def test_code_required(raw) -> None:
    assert codes(raises_invalid(normalize_code, raw)) == [("code", "required")]


# -- clean_text -------------------------------------------------------------------


def test_clean_text_strips_and_normalizes() -> None:
    assert clean_text("  Jalan rusak  ", "subject", max_length=200) == "Jalan rusak"
    # NFC: e + combining acute becomes one character
    assert clean_text("Cafe\u0301", "subject", max_length=200) == "Caf\u00e9"
    assert clean_text("a\r\nb", "body", max_length=10, multiline=True) == "a\nb"


def test_clean_text_limit_counts_after_normalization() -> None:
    # 5 decomposed characters (10 code points) fit a limit of 5 once composed.
    assert clean_text("e\u0301" * 5, "subject", max_length=5) == "\u00e9" * 5
    assert clean_text("x" * 5, "subject", max_length=5) == "x" * 5
    exc = raises_invalid(clean_text, "x" * 6, "subject", max_length=5)
    assert codes(exc) == [("subject", "too_long")]
    assert exc.errors[0].params == {"max": 5}
    assert exc.errors[0].render() == "At most 5 characters are allowed."


def test_clean_text_limit_ignores_surrounding_space() -> None:
    assert clean_text("   " + "x" * 5 + "\n", "subject", max_length=5) == "x" * 5


@pytest.mark.parametrize("value", [None, "", "   ", "\n\t "])
def test_clean_text_required(value) -> None:
    assert codes(raises_invalid(clean_text, value, "subject", max_length=10)) == [
        ("subject", "required")
    ]
    assert clean_text(value, "subject", max_length=10, required=False) == ""


@pytest.mark.parametrize("value", [5, b"bytes", ["a"]])
def test_clean_text_type(value) -> None:
    assert codes(raises_invalid(clean_text, value, "subject", max_length=10)) == [
        ("subject", "text_type")
    ]


@pytest.mark.parametrize(
    "bad",
    [
        "\x00",  # NUL
        "\x07",  # bell
        "\x1b",  # escape
        "\x7f",  # delete
        "\x85",  # C1 next line
        "\u200b",  # zero-width space (Cf)
        "\u202e",  # right-to-left override (Cf)
        "\ufeff",  # byte order mark (Cf)
        "\ud800",  # lone surrogate (Cs)
        "\ue000",  # private use (Co)
        "\u0378",  # unassigned (Cn)
    ],
)
@pytest.mark.parametrize("multiline", [False, True])
def test_clean_text_control_characters(bad, multiline) -> None:
    exc = raises_invalid(clean_text, f"ab{bad}cd", "body", max_length=100, multiline=multiline)
    assert codes(exc) == [("body", "bad_characters")]


@pytest.mark.parametrize("ws", ["\n", "\t", "\r"])
def test_clean_text_newlines_only_when_multiline(ws) -> None:
    assert clean_text(f"ab{ws}cd", "body", max_length=100, multiline=True) == f"ab{ws}cd"
    exc = raises_invalid(clean_text, f"ab{ws}cd", "subject", max_length=100)
    assert codes(exc) == [("subject", "bad_characters")]


def test_clean_text_keeps_ordinary_unicode() -> None:
    text = "Pelayanan 👍 — ‘baik’ «très» 日本 ٣"
    assert clean_text(text, "comment", max_length=1000) == text


@example("\U0001fa54")  # a pictograph newer than Python 3.11's tables
@given(st.text(max_size=60))
@settings(max_examples=300, deadline=None)
def test_clean_text_never_returns_control_chars(text) -> None:
    import unicodedata

    try:
        out = clean_text(text, "f", max_length=40)
    except Invalid:
        return
    assert out == out.strip()
    assert 0 < len(out) <= 40
    # What may pass of the "invisible" categories: pictographs newer than this
    # Python's Unicode tables (Cn), and the zero-width joiner of emoji sequences.
    assert all(
        unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co", "Cn")
        or (unicodedata.category(c) == "Cn" and _is_pictographic(c))
        or c == "\u200d"
        for c in out
    )


# -- passwords -------------------------------------------------------------------


def test_password_ok() -> None:
    pw = "kopi susu di tepian mahakam"
    assert check_password(pw, pw) == pw
    assert check_password("x" * 8, "x" * 8) == "x" * 8
    assert check_password("y" * 128, "y" * 128) == "y" * 128


def test_password_too_short() -> None:
    exc = raises_invalid(check_password, "a1b2c3d", "a1b2c3d")
    assert codes(exc) == [("password", "password_too_short")]
    assert exc.errors[0].params == {"min": 8}
    assert exc.code == "password_too_short"


def test_password_too_long() -> None:
    exc = raises_invalid(check_password, "z" * 129, "z" * 129)
    assert codes(exc) == [("password", "password_too_long")]
    assert exc.errors[0].params == {"max": 128}


@pytest.mark.parametrize("pw", ["12345678", "password", "qwertyuiop", "bismillah123", "indonesia"])
def test_password_common(pw) -> None:
    assert pw in COMMON_PASSWORDS
    exc = raises_invalid(check_password, pw, pw)
    assert codes(exc) == [("password", "password_common")]


@pytest.mark.parametrize("pw", ["PASSWORD", "PassWord123", "QwErTyUiOp", "BISMILLAH"])
def test_password_common_case_insensitive(pw) -> None:
    assert codes(raises_invalid(check_password, pw, pw)) == [("password", "password_common")]


def test_common_password_list_is_loaded() -> None:
    assert len(COMMON_PASSWORDS) > 50
    assert all(p == p.lower() and p == p.strip() and p for p in COMMON_PASSWORDS)
    assert not any(p.startswith("#") for p in COMMON_PASSWORDS)


@pytest.mark.parametrize(
    "pw", ["budisantoso", "BudiSantoso", "budi@example.com", "BUDI@EXAMPLE.COM"]
)
def test_password_equal_to_personal_value(pw) -> None:
    personal = ("budisantoso", "Budi@Example.com", "")
    exc = raises_invalid(check_password, pw, pw, personal=personal)
    assert codes(exc) == [("password", "password_common")]


def test_password_containing_personal_value_is_fine() -> None:
    pw = "budisantoso-suka-kopi"
    assert check_password(pw, pw, personal=("budisantoso",)) == pw


def test_empty_personal_value_is_ignored() -> None:
    pw = "a perfectly fine passphrase"
    assert check_password(pw, pw, personal=("", "")) == pw


def test_password_mismatch() -> None:
    exc = raises_invalid(check_password, "kopi susu mahakam", "kopi susu mahakan")
    assert codes(exc) == [("password_confirm", "password_mismatch")]
    exc = raises_invalid(check_password, "kopi susu mahakam", None)
    assert codes(exc) == [("password_confirm", "password_mismatch")]


@pytest.mark.parametrize(
    ("pw", "confirm", "expected"),
    [
        ("short", "other", [("new_pw", "password_too_short"), ("new_pw2", "password_mismatch")]),
        ("x" * 129, "x", [("new_pw", "password_too_long"), ("new_pw2", "password_mismatch")]),
        (
            "password1",
            "password2",
            [("new_pw", "password_common"), ("new_pw2", "password_mismatch")],
        ),
    ],
)
def test_password_errors_reported_together(pw, confirm, expected) -> None:
    exc = raises_invalid(check_password, pw, confirm, field="new_pw", confirm_field="new_pw2")
    assert codes(exc) == expected
    assert exc.code == expected[0][1]


@pytest.mark.parametrize("pw", [None, "", 12345678])
def test_password_required(pw) -> None:
    exc = raises_invalid(check_password, pw, pw)
    assert codes(exc)[0] == ("password", "required")


# -- stars and ids ------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [(1, 1), (5, 5), (3, 3), ("4", 4), (" 2 ", 2)])
def test_stars_ok(raw, expected) -> None:
    assert check_stars(raw) == expected


@pytest.mark.parametrize("raw", [0, 6, -1, True, False, 3.0, 2.5, "", "x", "3.5", None, [3], "-1"])
def test_stars_rejected(raw) -> None:
    assert codes(raises_invalid(check_stars, raw)) == [("stars", "stars_range")]


@pytest.mark.parametrize("raw", ["²", "①"])
def test_stars_odd_digits_are_invalid_not_a_crash(raw) -> None:
    with pytest.raises(Invalid):
        check_stars(raw)


@pytest.mark.parametrize(("raw", "expected"), [(1, 1), ("42", 42), (" 7 ", 7), (2**62, 2**62)])
def test_id_ok(raw, expected) -> None:
    assert check_id(raw, "agency_id") == expected


@pytest.mark.parametrize(
    "raw", [0, -3, True, False, None, "", "abc", "1.5", 1.0, 2**62 + 1, "-4", [1]]
)
def test_id_rejected(raw) -> None:
    assert codes(raises_invalid(check_id, raw, "agency_id")) == [("agency_id", "required")]


@pytest.mark.parametrize("raw", ["²", "9" * 5000])
def test_id_odd_strings_are_invalid_not_a_crash(raw) -> None:
    with pytest.raises(Invalid):
        check_id(raw, "agency_id")


# -- Collector -------------------------------------------------------------------


def test_collector_gathers_and_raises_together() -> None:
    c = Collector()
    assert c.check(normalize_username, "Budi") == "budi"
    assert c.check(normalize_email, "nope") is None
    assert c.check(check_stars, 9) is None
    c.add("nik", "nik_taken", "This NIK is already registered as %(what)s.", what="x")
    assert len(c.errors) == 3
    with pytest.raises(Invalid) as info:
        c.raise_if_any()
    assert codes(info.value) == [
        ("email", "email_invalid"),
        ("stars", "stars_range"),
        ("nik", "nik_taken"),
    ]
    assert info.value.code == "email_invalid"
    assert info.value.errors[2] == FieldError(
        "nik", "nik_taken", "This NIK is already registered as %(what)s.", {"what": "x"}
    )
    assert info.value.errors[2].render() == "This NIK is already registered as x."


def test_collector_without_errors_does_not_raise() -> None:
    c = Collector()
    c.check(normalize_code, "ok")
    c.raise_if_any()
    assert c.errors == []


def test_collector_lets_other_exceptions_through() -> None:
    def boom() -> None:
        raise RuntimeError("not a validation problem")

    with pytest.raises(RuntimeError):
        Collector().check(boom)


def test_collectors_do_not_share_errors() -> None:
    a, b = Collector(), Collector()
    a.add("x", "c", "m")
    assert b.errors == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        (None, False),
        ("1", True),
        ("on", True),
        (" Yes ", True),
        ("0", False),
        ("false", False),
        ("", False),
    ],
)
def test_check_flag_reads_yes_and_no(value, expected) -> None:
    assert check_flag(value, "f") is expected


@pytest.mark.parametrize("value", ["maybe", "2", 1, 0.0, [], {}])
def test_check_flag_refuses_anything_else(value) -> None:
    with pytest.raises(Invalid) as exc:
        check_flag(value, "f")
    assert exc.value.errors[0].code == "flag_invalid"


@example("\U0001f7ec", False)  # a pictograph newer than Python 3.11's tables
@example("\U0001f469\u200d\U0001f4bb", True)  # 👩‍💻
@given(st.text(alphabet=st.characters(max_codepoint=0x7F) | st.characters()), st.booleans())
def test_control_character_check_matches_its_definition(value, allow_newlines) -> None:
    """The ASCII fast path of the control-character check keeps the Unicode rule,
    with its two exceptions for what phones send: pictographs newer than this
    Python's Unicode tables (category Cn), and a zero-width joiner between two
    pictographs (the first one may carry VS16)."""
    import unicodedata

    from aspirasi_core.domain.validation import _has_control_chars, _is_pictographic

    def joins_pictographs(i: int) -> bool:
        if value[i] != "\u200d" or not 0 < i < len(value) - 1:
            return False
        before = value[i - 1]
        return _is_pictographic(value[i + 1]) and (before == "\ufe0f" or _is_pictographic(before))

    def by_definition() -> bool:
        for i, ch in enumerate(value):
            if allow_newlines and ch in "\n\r\t":
                continue
            category = unicodedata.category(ch)
            if category == "Cn" and _is_pictographic(ch):
                continue
            if joins_pictographs(i):
                continue
            if category in ("Cc", "Cf", "Cs", "Co", "Cn"):
                return True
            if not allow_newlines and category in ("Zl", "Zp"):
                return True
        return False

    assert _has_control_chars(value, allow_newlines) is by_definition()


@pytest.mark.parametrize(
    "value",
    [
        " 2027-01-02",
        "2027-01-02 ",
        "2027-01-02\n",
        "\t2027-01-02",
        "20270102",
        "2027-W01-6",
        "2027-1-2",
        "\uff12027-01-02",
        "2027-01-02T00:00",
        None,
        20270102,
    ],
)
def test_check_day_takes_only_the_exact_spelling(value) -> None:
    """A day is ``YYYY-MM-DD`` and nothing around it (issue 20): the API refuses a
    padded day instead of trimming it; forms that forgive spaces trim them first."""
    with pytest.raises(Invalid) as exc:
        check_day(value, "d")
    assert [(e.field, e.code) for e in exc.value.errors] == [("d", "date_format")]


def test_check_day_reads_the_exact_spelling() -> None:
    assert check_day("2027-01-02", "d") == date(2027, 1, 2)
