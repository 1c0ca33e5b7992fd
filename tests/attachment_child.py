"""A child process for the attachment-consistency tests: it submits a message
with an attachment through the real use cases and stops for good at a chosen
point, so the test can kill it there with SIGKILL.

``python -m tests.attachment_child <before-commit|after-commit> <ready-file>``
with the deployment in ``ASPIRASI_*`` variables; it writes ``ready-file`` when it
has reached the point.
"""

from __future__ import annotations

import io
import sys
import threading
from pathlib import Path

import anyio
from PIL import Image

from aspirasi_core import hookimpl
from aspirasi_core.bootstrap import bootstrap
from aspirasi_core.services import Context, SubmitInput, Upload
from aspirasi_core.settings import Settings


def main() -> None:
    point, ready = sys.argv[1], Path(sys.argv[2])

    def stop_here() -> None:
        ready.write_text("ready")
        threading.Event().wait()  # until killed

    class Stopper:
        @hookimpl
        def aspirasi_validate_submission(self, actor: object, draft: object) -> None:
            if point == "before-commit":  # the file is stored, the transaction open
                stop_here()

        @hookimpl
        def aspirasi_after_submission(self, event: object) -> None:
            if point == "after-commit":  # the row committed, the file not yet promoted
                stop_here()

    app = bootstrap(Settings.from_env(), extra_plugins=[Stopper()])
    citizen = app.deps.db.run_sync(lambda uow: uow.accounts.find_by_login("warga"), write=False)
    assert citizen is not None
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(buf, "JPEG")

    async def submit() -> None:
        await app.messages.submit(
            Context(actor=citizen.actor()),
            SubmitInput(
                "Jalan rusak", "Tolong diperbaiki", attachment=Upload("foto.jpg", buf.getvalue())
            ),
        )

    anyio.run(submit)


if __name__ == "__main__":
    main()
