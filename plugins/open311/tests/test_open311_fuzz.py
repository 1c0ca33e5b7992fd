"""Issue 23 (1): the Open311 endpoints are left out of the OpenAPI schema (their
contract is GeoReport v2's, not ours), so the API's schemathesis run does not
reach them. Hypothesis sends them what a client may type instead: any filter
values, any form fields, in JSON and XML. Every answer is a success or an error
in the specification's format with the status it names; never a server error."""

from __future__ import annotations

import json
from urllib.parse import quote
from xml.etree import ElementTree

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

BASE = "/open311/v2"
#: One key per world (the fixture lives for the whole test, across its examples).
_KEYS: dict[int, str] = {}

#: What a client may send for a value: text of any kind, numbers, dates, blanks.
values = st.one_of(
    st.text(max_size=40),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.dates().map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat() + "Z"),
    st.sampled_from(["", " ", "open", "closed", "open,closed", "1,2,3", "0", "-1", "1e9"]),
)
FILTERS = [
    "service_request_id",
    "service_code",
    "start_date",
    "end_date",
    "status",
    "jurisdiction_id",
]
FIELDS = [
    "service_code",
    "description",
    "lat",
    "long",
    "address_string",
    "email",
    "first_name",
    "media_url",
    "attribute[x]",
]
fmt = st.sampled_from(["json", "xml"])
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _check(answer, fmt: str) -> None:
    assert answer.status_code < 500, answer.text
    if answer.status_code < 400:
        return
    if fmt == "json":
        errors = json.loads(answer.text)
        assert isinstance(errors, list) and errors
        assert all(e["code"] == answer.status_code and e["description"] for e in errors)
    else:
        root = ElementTree.fromstring(answer.content)
        assert root.tag == "errors"
        codes = [int(e.findtext("code") or 0) for e in root.findall("error")]
        assert codes and set(codes) == {answer.status_code}


@FUZZ
@given(fmt=fmt, params=st.dictionaries(st.sampled_from(FILTERS), values, max_size=4))
def test_any_filters_of_the_request_list(world, fmt, params):
    _check(world.client.get(f"{BASE}/requests.{fmt}", params=params), fmt)


@FUZZ
@given(fmt=fmt, name=values, params=st.dictionaries(st.sampled_from(FILTERS), values, max_size=2))
def test_any_request_id_and_service_code(world, fmt, name, params):
    name = quote(name, safe="") or "x"  # as a client's URL library sends it
    for path in (f"requests/{name}.{fmt}", f"services/{name}.{fmt}", f"tokens/{name}.{fmt}"):
        _check(world.client.get(f"{BASE}/{path}", params=params), fmt)


@FUZZ
@given(
    fmt=fmt,
    fields=st.dictionaries(st.sampled_from(FIELDS), values, max_size=6),
    with_key=st.booleans(),
)
def test_any_form_filed(world, fmt, fields, with_key):
    if with_key:
        if id(world) not in _KEYS:
            _KEYS[id(world)] = world.issue_key(rate_limit="1000/minute")
        fields = {**fields, "api_key": _KEYS[id(world)]}
    _check(world.client.post(f"{BASE}/requests.{fmt}", data=fields), fmt)
