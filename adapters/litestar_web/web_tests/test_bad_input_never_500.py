"""Bad input never reaches a 500: ids past 64 bits, JSON nested a thousand deep
or not UTF-8, multipart fields that are not UTF-8 (through the CSRF check,
without logging in), dates at the ends of the calendar, Unicode digits in
forms; and arbitrary bytes fed to every body parser of the web layer (JSON,
multipart, urlencoded). Emoji phones send are accepted; controls, bidi overrides
and tag characters are not."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .api_support import ApiWorld, build_world

PROBLEM = "application/problem+json"


@pytest.fixture
def api(sqlite_database: Any, tmp_path: Any) -> Iterator[ApiWorld]:
    yield from build_world(sqlite_database, tmp_path)


def _problem(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    if code is not None:
        assert body["code"] == code, body
    return body


def test_an_attachment_id_past_64_bits_is_not_found(api: ApiWorld) -> None:
    mid = api.seed_message("ani", attachment=True)
    huge = 2**64
    _problem(
        api.client.get(f"/api/v1/messages/{mid}/attachments/{huge}", headers=api.bearer("ani")),
        404,
        "attachment_not_found",
    )
    api.login("ani")
    assert api.client.get(f"/files/{mid}/{huge}").status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 1000 + b"]" * 1000,
        b'{"a":' * 1000 + b"1" + b"}" * 1000,
        b"[" * 100_000,
        b'{"full_name": "\xff\xfe"}',
        b'{"full_name": "ok"}\xc3',
    ],
    ids=["array-1000", "object-1000", "array-100k", "latin-bytes", "cut-utf8"],
)
def test_json_that_cannot_be_decoded_is_a_422(api: ApiWorld, body: bytes) -> None:
    response = api.client.patch(
        "/api/v1/me",
        content=body,
        headers={**api.bearer("ani"), "Content-Type": "application/json"},
    )
    _problem(response, 422, "invalid_json")


MULTIPART = "multipart/form-data; boundary=XX"


@pytest.mark.parametrize(
    "part_headers",
    [b"", b"Content-Type: text/plain; charset=no-such-charset\r\n"],
    ids=["not-utf8", "unknown-charset"],
)
def test_a_form_field_that_cannot_be_read_is_a_400(api: ApiWorld, part_headers: bytes) -> None:
    body = (
        b'--XX\r\nContent-Disposition: form-data; name="_csrf_token"\r\n'
        + part_headers
        + b"\r\n\xff\xfe\xfd\r\n--XX--\r\n"
    )
    api.client.cookies.clear()  # nobody logged in: the CSRF check reads the form
    page = api.client.post("/login", content=body, headers={"Content-Type": MULTIPART})
    assert page.status_code == 400
    assert "text/html" in page.headers["content-type"]
    problem = api.client.post(
        "/api/v1/messages",
        content=body,
        headers={**api.bearer("ani"), "Content-Type": MULTIPART},
    )
    _problem(problem, 400, "bad_request")


@pytest.mark.parametrize("query", ["date_from=0001-01-01", "date_to=9999-12-31"])
def test_dates_at_the_ends_of_the_calendar_are_refused(api: ApiWorld, query: str) -> None:
    field = query.split("=")[0]
    body = _problem(
        api.client.get(f"/api/v1/backoffice/messages?{query}", headers=api.bearer("admin")),
        422,
        "date_range",
    )
    assert body["errors"][0]["field"] == field
    api.login("admin")
    page = api.client.get(f"/backoffice/messages?{query}&lang=en")
    assert page.status_code == 422  # the list's filter form, re-shown with the message
    # the days in the pages' short date style, as everywhere
    assert "Choose a date between 1 Jan 1900 and 31 Dec 2999." in page.text
    indonesian = api.client.get(f"/backoffice/messages?{query}&lang=id")
    assert "Pilih tanggal antara 1 Jan 1900 dan 31 Des 2999." in indonesian.text


def test_unicode_digits_in_form_ids_and_stars_re_show_the_form(api: ApiWorld) -> None:
    mid = api.seed_message("ani")
    api.login("admin")
    assert api.client.get("/backoffice/messages?agency=²").status_code == 422
    forward = api.client.post(
        f"/backoffice/messages/{mid}/forward",
        data={
            "_csrf_token": api.csrf(),
            "category_id": "²",
            "subcategory_id": "٣",
            "agency_id": "²",
        },
    )
    assert forward.status_code == 422 and "<form" in forward.text
    api.client.cookies.clear()
    api.login("ani")
    rating = api.client.post(
        f"/my/messages/{mid}/rating", data={"_csrf_token": api.csrf(), "stars": "⁵", "comment": "x"}
    )
    assert rating.status_code in (409, 422) and "<form" in rating.text


EMOJI = [
    "👩‍👩‍👧 keluarga",  # ZWJ sequence
    "🏳️‍🌈",  # ZWJ with a variation selector
    "👍🏽 terima kasih",  # skin tone
    "🇮🇩 merdeka",  # flag
    "1️⃣ jalan",  # keycap
    "\U0001fae9 lelah",  # newer than this Python's Unicode tables
    "❤️‍🔥 🧑🏽‍💻",
]


@pytest.mark.parametrize("subject", EMOJI)
def test_emoji_phones_send_are_accepted(api: ApiWorld, subject: str) -> None:
    response = api.client.post(
        "/api/v1/messages", headers=api.bearer("ani"), data={"subject": subject, "body": subject}
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    "subject",
    [
        "jalan\u0007rusak",  # control
        "jalan \u202erusak",  # bidi override
        "jalan \u2066rusak\u2069",  # bidi isolate
        "jalan\U000e0072\U000e0075\U000e0073\U000e0061\U000e006brusak",  # tag characters
        "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",  # even in a flag
        "jalan\u200drusak",  # a joiner between letters
        "\u200d👍",  # a joiner with nothing before it
    ],
)
def test_invisible_characters_are_still_refused(api: ApiWorld, subject: str) -> None:
    response = api.client.post(
        "/api/v1/messages", headers=api.bearer("ani"), data={"subject": subject, "body": "ok"}
    )
    _problem(response, 422, "bad_characters")


# --------------------------------------------------------------------------- fuzzing

FORM_TYPES = [
    "application/json",
    "application/json; charset=latin-1",
    "multipart/form-data; boundary=XX",
    "multipart/form-data",  # no boundary
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=koi8-r",
]

_field_names = st.sampled_from(["subject", "body", "_csrf_token", "login", "attachment", "x"])
_part = st.tuples(
    _field_names,
    st.binary(max_size=40),
    st.sampled_from(
        [
            b"",
            b"Content-Type: text/plain; charset=utf-16\r\n",
            b"Content-Type: text/plain; charset=\xff\r\n",
        ]
    ),
    st.sampled_from([b"", b'; filename="a.jpg"', b'; filename="\xff"']),
)
_multipart = st.lists(_part, max_size=4).map(
    lambda parts: (
        b"".join(
            b'--XX\r\nContent-Disposition: form-data; name="'
            + name.encode()
            + b'"'
            + filename
            + b"\r\n"
            + headers
            + b"\r\n"
            + value
            + b"\r\n"
            for name, value, headers, filename in parts
        )
        + b"--XX--\r\n"
    )
)
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
_json = st.one_of(
    _json_values.map(lambda v: __import__("json").dumps(v).encode()),
    st.dictionaries(_field_names, st.text(max_size=30), max_size=4).map(
        lambda v: __import__("json").dumps(v).encode()
    ),
)
_urlencoded = st.lists(st.tuples(st.binary(max_size=10), st.binary(max_size=20)), max_size=5).map(
    lambda pairs: b"&".join(k + b"=" + v for k, v in pairs)
)
BODIES = st.one_of(st.binary(max_size=300), _multipart, _json, _urlencoded)

#: (method, path, who): a JSON route open to anyone, JSON and multipart routes of a
#: citizen, and a page whose CSRF check reads the form before anyone logs in.
TARGETS = [
    ("POST", "/api/v1/auth/login", None),
    ("PATCH", "/api/v1/me", "ani"),
    ("POST", "/api/v1/messages", "ani"),
    ("POST", "/login", "page"),
    ("POST", "/register", "page"),
]


@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(target=st.sampled_from(TARGETS), content_type=st.sampled_from(FORM_TYPES), body=BODIES)
def test_no_body_makes_any_parser_answer_5xx(
    api: ApiWorld, target: tuple[str, str, str | None], content_type: str, body: bytes
) -> None:
    method, path, who = target
    headers = {"Content-Type": content_type}
    if who == "page":
        api.client.cookies.clear()
    elif who is None:
        headers["Authorization"] = "Bearer none"
    else:
        headers.update(api.bearer(who))
    response = api.client.request(method, path, content=body, headers=headers)
    assert response.status_code < 500, (method, path, content_type, body, response.text)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"--XX--\r\n",
        b'--XX\r\nContent-Disposition: form-data; name="login"\r\n\r\nani\r\n--XX--\r\n',
    ],
)
def test_a_form_sent_to_a_json_route_is_not_json(api: ApiWorld, body: bytes) -> None:
    # Found by the test above: the form is read before the handler, which then
    # could not read the body as JSON.
    response = api.client.post(
        "/api/v1/auth/login",
        content=body,
        headers={"Content-Type": MULTIPART, "Authorization": "Bearer none"},
    )
    _problem(response, 422, "invalid_json")
