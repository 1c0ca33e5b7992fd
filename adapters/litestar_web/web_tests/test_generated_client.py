"""A Python client generated from the served schema alone (openapi-python-client)
walks the tutorial with no cookie jar: register, verify through the mail link, log
in, send a message with a PDF, track it; then as staff forward, confirm and
reply; and finally rate."""

from __future__ import annotations

import importlib
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing.transport import TestClientTransport as AppTransport

from .api_support import ApiWorld, build_world, pdf_bytes
from .smtp_sink import SmtpSink, smtp  # noqa: F401 - the fixture
from .test_api_flow import deliver, link_token
from .world import PASSWORDS

NIK = "6472046512900005"
BASE = "http://127.0.0.1:8000"


@pytest.fixture
def api(sqlite_database: Any, tmp_path: Any, smtp: SmtpSink) -> Iterator[ApiWorld]:  # noqa: F811
    yield from build_world(sqlite_database, tmp_path, smtp_host="127.0.0.1", smtp_port=smtp.port)


def generate(api: ApiWorld, where: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The client package generated from ``/schema/openapi.json``, imported."""
    schema = where / "openapi.json"
    schema.write_text(json.dumps(api.client.get("/schema/openapi.json").json()))
    config = where / "config.yaml"
    config.write_text("package_name_override: aspirasi_client\n")
    tool = Path(sys.executable).parent / "openapi-python-client"
    output = where / "aspirasi_client"
    args = ["--path", str(schema), "--meta", "none", "--config", str(config)]
    subprocess.run(
        [str(tool), "generate", *args, "--output-path", str(output)],
        check=True,
        capture_output=True,
    )
    monkeypatch.syspath_prepend(str(where))
    return importlib.import_module("aspirasi_client")


def no_cookies(request: httpx.Request) -> None:
    """No cookie jar: nothing a response set goes back."""
    request.headers.pop("cookie", None)


def open_client(pkg: Any, api: ApiWorld, token: str | None = None) -> Any:
    args = {
        "transport": AppTransport(client=api.client),
        "event_hooks": {"request": [no_cookies]},
    }
    if token is None:
        return pkg.Client(base_url=BASE, httpx_args=args)
    return pkg.AuthenticatedClient(base_url=BASE, token=token, httpx_args=args)


def call(module: str, client: Any, status: int, **kwargs: Any) -> dict[str, Any]:
    """Call the generated operation ``module``; its answer as a dict."""
    op = importlib.import_module(f"aspirasi_client.api.{module}")
    response = op.sync_detailed(client=client, **kwargs)
    assert response.status_code == status, response.content
    return json.loads(response.content) if response.content else {}


def test_the_tutorial_through_a_client_generated_from_the_schema(
    api: ApiWorld,
    smtp: SmtpSink,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pkg = generate(api, tmp_path, monkeypatch)
    models = importlib.import_module("aspirasi_client.models")
    types = importlib.import_module("aspirasi_client.types")
    anon = open_client(pkg, api)
    password = "wati-long-password"

    call(
        "auth.api_v1_auth_register_register",
        anon,
        201,
        body=models.RegisterBody(
            email="wati@example.org",
            username="wati",
            full_name="Wati",
            nik=NIK,
            password=password,
            password_confirm=password,
        ),
    )
    deliver(api)
    mail = next(m for m in smtp.to("wati@example.org") if "verify-email" in smtp.text(m))
    token = link_token(smtp.text(mail), f"{BASE}/verify-email")
    call("auth.api_v1_auth_verify_email_verify_email", anon, 200, body=models.VerifyBody(token))

    def log_in(login: str, secret: str) -> Any:
        body = models.LoginBody(login=login, password=secret)
        answer = call("auth.api_v1_auth_login_login", anon, 200, body=body)
        return open_client(pkg, api, answer["token"])

    wati = log_in("wati", password)
    sent = call(
        "messages.api_v1_messages_submit",
        wati,
        201,
        body=models.MessageForm(
            subject="Lampu jalan mati",
            body="Lampu jalan di depan pasar mati sejak seminggu.",
            attachment=[
                types.File(
                    payload=io.BytesIO(pdf_bytes()),
                    file_name="surat.pdf",
                    mime_type="application/pdf",
                )
            ],
        ),
    )
    mid = sent["id"]
    one = call("messages.api_v1_messages_message_id_message", wati, 200, message_id=mid)
    assert [a["filename"] for a in one["attachments"]] == ["surat.pdf"]
    tracked = call(
        "public.api_v1_public_tracking_tracking", anon, 200, body=models.TrackingBody(nik=NIK)
    )
    assert [m["ticket"] for m in tracked["items"]] == [sent["ticket"]]

    admin = log_in("admin", PASSWORDS["admin"])
    # the ids of the forward, from the back office's directory (the schema alone)
    found = call("backoffice.api_v1_backoffice_directory_backoffice_directory", admin, 200)
    aduan = next(c for c in found["categories"] if c["code"] == "aduan")
    infra = next(s for s in aduan["subcategories"] if s["code"] == "infrastruktur")
    pupr = next(a for a in found["agencies"] if a["code"] == "pupr")
    forwarded = call(
        "backoffice.api_v1_messages_message_id_forward_forward",
        admin,
        200,
        message_id=mid,
        body=models.ForwardBody(
            category_id=aduan["id"], subcategory_id=infra["id"], agency_id=pupr["id"]
        ),
    )
    assert forwarded["agency_id"] == api.ids["agency_pupr"]
    assert forwarded["status"] == "forwarded"
    operator = log_in("op_pupr", PASSWORDS["op_pupr"])
    confirmed = call(
        "backoffice.api_v1_messages_message_id_start_start",
        operator,
        200,
        message_id=mid,
        body=models.NoteBody(note="Kami periksa."),
    )
    assert confirmed["status"] == "in_progress"
    replied = call(
        "backoffice.api_v1_messages_message_id_reply_reply",
        operator,
        200,
        message_id=mid,
        body=models.ReplyForm(answer="Lampu sudah diganti."),
    )
    assert replied["status"] == "done"

    rating = call(
        "messages.api_v1_messages_message_id_rating_rate",
        wati,
        201,
        message_id=mid,
        body=models.RatingBody(stars=5, comment="Cepat."),
    )
    assert rating["stars"] == 5
