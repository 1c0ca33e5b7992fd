"""Privacy of the Open311 API: no confidential, anonymous, withdrawn or unmoderated
message in any answer, no personal data (names, e-mail addresses, phone numbers,
NIKs), no staff text (reply, reason, note) and no location."""

from __future__ import annotations

import pytest
from open311_support import PERSONAL

from aspirasi_core.services import SubmitInput

BASE = "/open311/v2"
HIDDEN = ("confidential", "anonymous", "fresh", "withdrawn", "rejected")
#: What the seeded messages' bodies and the staff wrote that must never leave.
NEVER = [
    *(value for person in PERSONAL.values() for value in person),
    "081234567890",
    "Sudah diperbaiki.",  # the reply
    "Bukan kewenangan.",  # the reason of a rejection
    "Name admin",
    "Name op_pupr",
]


def every_answer(world, key=None):
    """Every read endpoint, in both formats, with and without the key."""
    tickets = ",".join(world.tickets.values())
    paths = ["discovery", "services", f"services/{world.ids['jalan']}", "requests"]
    paths += [f"requests/{t}" for t in world.tickets.values()]
    answers = []
    for fmt in ("json", "xml"):
        for path in paths:
            for params in ({}, {"api_key": key} if key else {}):
                answers.append(world.client.get(f"{BASE}/{path}.{fmt}", params=params))
            answers.append(
                world.client.get(f"{BASE}/requests.{fmt}", params={"service_request_id": tickets})
            )
    return answers


def test_no_hidden_message_and_no_personal_data_in_any_answer(world):
    key = world.issue_key()
    posted = world.client.post(
        f"{BASE}/requests.json",
        data={
            "api_key": key,
            "service_code": str(world.ids["jalan"]),
            "description": "Trotoar rusak.",
            "email": "pelapor@example.org",
            "first_name": "Siti",
            "last_name": "Nurhaliza",
            "phone": "+6281399990000",
            "lat": "-0.4948",
            "long": "117.1436",
            "address_string": "Jl. Pahlawan 7, Samarinda",
            # A client's link, stored for the staff and never fetched nor shown
            # (no page or answer loads anything from elsewhere).
            "media_url": "https://client.example.org/foto/rumah-siti.jpg",
        },
    )
    assert posted.status_code == 200
    answers = every_answer(world, key)
    assert all(a.status_code in (200, 404) for a in answers)
    never = [*NEVER, "pelapor@example.org", "Siti", "Nurhaliza", "6281399990000"]
    never += ["-0.4948", "117.1436", "Pahlawan", "rumah-siti"]
    for answer in answers:
        for value in never:
            assert value not in answer.text, (answer.url, value)
        for name in HIDDEN:
            assert world.tickets[name] not in answer.text, (answer.url, name)


def test_the_public_copies_mask_personal_data_in_the_texts(world):
    [public] = world.client.get(f"{BASE}/requests/{world.tickets['public']}.json").json()
    assert "Jalan berlubang" in public["description"]
    assert "ani.rahmawati@example.org" not in public["description"]
    assert "081234567890" not in public["description"]


@pytest.mark.parametrize("flag", ["confidential", "anonymous"])
def test_the_clients_own_account_cannot_surface_its_hidden_messages(world, flag):
    """The key's account sends a confidential or anonymous message on the web: the
    key does not show it (only what it filed through Open311 is its own)."""
    key = world.issue_key()

    async def go():
        message = await world.core.messages.submit(
            world.ctx("kota"), SubmitInput(subject="Rahasia", body="Isi rahasia.", **{flag: True})
        )
        await world.core.messages.act(
            world.ctx("admin"),
            message.id,
            "forward",
            category_id=world.ids["aduan"],
            subcategory_id=world.ids["jalan"],
            agency_id=world.ids["pupr"],
        )
        return message

    message = world.run(go)
    listed = world.client.get(f"{BASE}/requests.json", params={"api_key": key}).text
    assert message.ticket not in listed and "Rahasia" not in listed
    one = world.client.get(f"{BASE}/requests/{message.ticket}.json", params={"api_key": key})
    assert one.status_code == 404


def test_another_clients_unpublished_request_stays_hidden(world):
    mine = world.issue_key("Satu")
    theirs = world.issue_key("Dua")
    posted = world.client.post(
        f"{BASE}/requests.json",
        data={
            "api_key": mine,
            "service_code": str(world.ids["jalan"]),
            "description": "Milik satu.",
        },
    )
    ticket = posted.json()[0]["service_request_id"]
    for key in (theirs, None):
        params = {"api_key": key} if key else {}
        assert world.client.get(f"{BASE}/requests/{ticket}.json", params=params).status_code == 404
        assert ticket not in world.client.get(f"{BASE}/requests.json", params=params).text
