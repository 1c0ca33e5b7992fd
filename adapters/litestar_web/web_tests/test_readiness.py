"""``/readyz`` checks what the service needs (database, attachment store, the
plugins' components through ``aspirasi_readiness``) and says how each is doing;
``/healthz`` stays a liveness check."""

from __future__ import annotations

from structlog.testing import capture_logs

from aspirasi_core import hookimpl
from aspirasi_core.plugin_types import ComponentStatus

from .world import WebWorld


class Components:
    def __init__(self, *statuses: ComponentStatus) -> None:
        self.statuses = list(statuses)

    @hookimpl
    def aspirasi_readiness(self) -> list[ComponentStatus]:
        return self.statuses


def test_ready_when_the_database_and_the_store_answer(web: WebWorld) -> None:
    response = web.client.get("/readyz")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["status"] == "ok"
    assert body["components"]["database"]["status"] == "ok"
    assert body["components"]["storage"] == {"status": "ok"}  # no free_mb, no timings
    assert web.client.get("/healthz").json() == {"status": "ok"}


def test_plugins_report_their_components(web: WebWorld) -> None:
    pm = web.core.plugin_manager
    degraded = Components(
        ComponentStatus("cache", False, essential=False, detail={"counting": "memory"})
    )
    pm.register(degraded)  # type: ignore[attr-defined]
    with capture_logs() as logs:
        response = web.client.get("/readyz")
    assert response.status_code == 200  # the service works without it
    # The public answer names the state only; the details go to the log.
    assert response.json()["components"]["cache"] == {"status": "degraded"}
    (problem,) = [e for e in logs if e["event"] == "readiness_problem"]
    assert problem["components"]["cache"] == {"status": "degraded", "counting": "memory"}
    assert problem["components"]["storage"]["free_mb"] > 0
    pm.register(Components(ComponentStatus("queue", False)))  # type: ignore[attr-defined]
    response = web.client.get("/readyz")
    assert response.status_code == 503 and response.headers["retry-after"] == "5"
    assert response.json()["status"] == "unavailable"
    assert response.json()["components"]["queue"] == {"status": "down"}
    assert web.client.get("/healthz").status_code == 200


def test_a_storage_folder_that_cannot_be_written_is_not_ready(web: WebWorld) -> None:
    root = web.core.deps.files.root  # type: ignore[attr-defined]
    moved = root.with_name(root.name + ".moved")
    root.rename(moved)
    root.write_bytes(b"")  # a lost mount, say: a file where the folder was
    try:
        with capture_logs() as logs:
            response = web.client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["components"]["storage"] == {"status": "down"}
        assert "NotADirectory" not in response.text
        (problem,) = [e for e in logs if e["event"] == "readiness_problem"]
        assert problem["components"]["storage"] == {
            "status": "down",
            "error": "NotADirectoryError",
        }
        assert response.json()["components"]["database"]["status"] == "ok"
    finally:
        root.unlink()
        moved.rename(root)
    assert web.client.get("/readyz").status_code == 200
