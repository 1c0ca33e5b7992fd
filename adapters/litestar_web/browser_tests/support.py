"""Helpers of the browser tests: a real SMTP server, unique people, small files."""

from __future__ import annotations

import email
import email.policy
import io
import itertools
import re
import socket
import time
import uuid
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

_serial = itertools.count(1)


class _Handler:
    def __init__(self, inbox: list[EmailMessage]) -> None:
        self.inbox = inbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.inbox.append(message)  # type: ignore[arg-type]
        return "250 OK"


class MailSink:
    """aiosmtpd on 127.0.0.1 keeping every mail it receives."""

    def __init__(self) -> None:
        self.inbox: list[EmailMessage] = []
        with socket.socket() as s:  # aiosmtpd cannot bind port 0: pick a free one
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.controller = Controller(
            _Handler(self.inbox), hostname="127.0.0.1", port=self.port, server_hostname="localhost"
        )

    def wait_for(self, address: str, count: int = 1, timeout: float = 30) -> list[EmailMessage]:
        """The mails to ``address``, once there are at least ``count`` of them."""
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in list(self.inbox) if address in str(m["To"])]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"no mail #{count} to {address} within {timeout} s")
            time.sleep(0.2)

    @staticmethod
    def text(message: EmailMessage) -> str:
        part = message.get_body(preferencelist=("plain",))
        assert part is not None
        return str(part.get_content())

    def link(self, message: EmailMessage, path: str) -> str:
        """The link to ``path`` (e.g. ``/verify-email``) in the mail's text."""
        match = re.search(r"https?://\S*" + re.escape(path) + r"\S*", self.text(message))
        assert match, f"no link to {path} in:\n{self.text(message)}"
        return match.group(0)


def unique(prefix: str) -> str:
    """A short name no other test uses (letters, digits, dots)."""
    return f"{prefix}{next(_serial)}{uuid.uuid4().hex[:6]}"


_NIK_SERIALS_USED: set[int] = set()


def new_nik() -> str:
    """A valid East Kalimantan NIK nobody has: Samarinda, born 15 May 1990, a random
    serial not handed out before in this run (a repeat would be a NIK that a verified
    account holds: registration answers alike, but mails no verification link)."""
    while True:
        serial = int(uuid.uuid4().int % 9000) + 1000
        if serial not in _NIK_SERIALS_USED:
            _NIK_SERIALS_USED.add(serial)
            return f"647204150590{serial:04d}"


def jpeg_file(folder: Path, name: str = "jalan-rusak.jpg") -> Path:
    from PIL import Image

    image = Image.new("RGB", (64, 48), (180, 120, 40))
    for x in range(64):
        image.putpixel((x, 24), (30, 30, 30))
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=85)
    path = folder / name
    path.write_bytes(buf.getvalue())
    return path


def pdf_file(folder: Path, name: str = "jawaban.pdf") -> Path:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buf = io.BytesIO()
    writer.write(buf)
    path = folder / name
    path.write_bytes(buf.getvalue())
    return path
