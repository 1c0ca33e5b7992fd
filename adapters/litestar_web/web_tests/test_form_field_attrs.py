"""The ``field()`` macro writes the extra attributes of its inputs as attributes
(maxlength, inputmode, accept, multiple…), escaped by Jinja's ``xmlattr``: they
used to reach the HTML escaped as text, so browsers ignored them."""

from __future__ import annotations

import re

from .world import WebWorld


def tag(html: str, name: str) -> str:
    """The opening tag of the input (or textarea) named ``name``."""
    found = re.search(rf'<(?:input|textarea) id="f-{name}"[^>]*>', html)
    assert found, name
    return found.group(0)


def test_the_extra_attributes_of_a_field_are_attributes(web: WebWorld) -> None:
    for url in ("/register", "/tracking"):
        nik = tag(web.client.get(url).text, "nik")
        assert 'inputmode="numeric"' in nik and 'maxlength="32"' in nik, url
        assert "&#34;" not in nik
    hash_input = tag(web.client.get("/verifikasi").text, "hash")
    assert 'maxlength="200"' in hash_input and 'spellcheck="false"' in hash_input
    web.login("ani")
    form = web.client.get("/my/messages/new").text
    assert 'maxlength="200"' in tag(form, "subject")
    files = tag(form, "attachment")
    assert 'accept=".jpg,.jpeg,.pdf,image/jpeg,application/pdf"' in files
    assert re.search(r"\smultiple[\s>]", files) and "&#34;" not in files


def test_a_value_typed_back_into_the_form_stays_escaped(web: WebWorld) -> None:
    web.login("ani")
    r = web.client.post(
        "/my/messages/new",
        data={"subject": '"><script>x</script>', "body": "", "_csrf_token": web.csrf()},
        follow_redirects=False,
    )
    assert r.status_code == 422
    subject = tag(r.text, "subject")
    assert "<script>" not in r.text.split('id="f-subject"', 1)[1].split(">", 1)[0]
    assert 'value="&#34;&gt;&lt;script&gt;x&lt;/script&gt;"' in subject
    assert 'maxlength="200"' in subject
