"""The access matrix: every route of the app × every kind of actor → the
expected status, from the ``EXPECTED`` dicts of ``web_tests/access/*.py``.

Set ``ASPIRASI_ACCESS_DUMP=1`` to print the statuses observed (to write a new
module's entries — review them before pasting)."""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import pytest

from aspirasi_core.domain.model import Role
from aspirasi_core.services import Context, StaffInput

from . import access
from .api_support import ApiWorld, build_world


@pytest.fixture
def api(sqlite_database: Any, tmp_path: Any) -> Iterator[ApiWorld]:
    """Without the rate_limit plugin: the test sends many messages."""
    yield from build_world(sqlite_database, tmp_path, disabled_plugins=("rate_limit",))


USERS = {
    "citizen": "ani",
    "other_citizen": "budi",
    "admin": "admin",
    "operator": "op_pupr",
    "other_operator": "op_dinkes",
    "super_admin": "root",
}
SKIPPED_METHODS = {"OPTIONS", "HEAD"}
#: A file of each plugin's static folder, by its route prefix (the core's: css/app.css).
STATIC_FILES = {"/static/evaluator/": "evaluator.css"}
_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::[^}]*)?\}")


def load_expected() -> dict[tuple[str, str], dict[str, int]]:
    merged: dict[tuple[str, str], dict[str, int]] = {}
    for mod in pkgutil.iter_modules(access.__path__):
        module = importlib.import_module(f"{access.__name__}.{mod.name}")
        for key, value in getattr(module, "EXPECTED", {}).items():
            assert key not in merged, f"{key} is listed twice (again in access/{mod.name}.py)"
            merged[key] = value
    return merged


def app_routes(app: Any) -> list[tuple[str, str]]:
    out = []
    for route in app.routes:
        template = _PARAM.sub(lambda m: "{" + m.group(1) + "}", route.path)
        for method in sorted(getattr(route, "methods", ())):
            if method not in SKIPPED_METHODS:
                out.append((method, template))
    return out


class Filler:
    """Fresh records for the path parameters of one request."""

    def __init__(self, world: ApiWorld) -> None:
        self.w = world
        self.root = Context(actor=self._actor("root"))
        self.n = 0
        #: Records reused until a request succeeds in changing something.
        self.cache: dict[str, str] = {}
        self.tokens: dict[str, dict[str, str]] = {}

    def headers(self, actor: str) -> dict[str, str]:
        if actor not in self.tokens:
            self.tokens[actor] = self.w.bearer(USERS[actor])
        return dict(self.tokens[actor])

    def after(self, method: str, path: str, actor: str, status: int) -> None:
        if method != "GET" and 200 <= status < 400:
            self.cache.clear()
        if path.endswith("/logout") or status == 401:
            self.tokens.pop(actor, None)

    def _actor(self, username: str) -> Any:
        acc = self.w.core.deps.db.run_sync(
            lambda uow: uow.accounts.get(self.w.ids[username]), write=False
        )
        return acc.actor()

    def fill(self, template: str) -> str:
        names = _PARAM.findall(template)
        values: dict[str, str] = {}
        message_id = None
        if "message_id" in names or "attachment_id" in names or "notification_id" in names:
            if "message_id" not in self.cache:
                self.cache.clear()
                self.cache["message_id"] = str(self.w.seed_message("ani", attachment=True))
            message_id = int(self.cache["message_id"])
        core = self.w.core
        self.n += 1
        n = self.n

        async def attachment() -> int:
            detail = await core.queries.message(Context(actor=self._actor("ani")), message_id)
            return detail.message.attachments[0].id

        async def notification() -> int:
            page = await core.notifications.list(Context(actor=self._actor("admin")))
            return page.items[0].id

        async def account() -> int:
            acc = await core.admin.create_staff(
                self.root,
                StaffInput(
                    email=f"temp{n}@example.org",
                    username=f"temp{n}",
                    full_name="Temp",
                    password="temp-long-password",
                    role=Role.ADMIN,
                ),
            )
            return acc.id

        async def agency() -> int:
            return (
                await core.admin.create_entry(
                    self.root, "agency", code=f"temp-{n}", name=f"Temp {n}"
                )
            ).id

        async def subcategory() -> int:
            sub = await core.admin.create_entry(
                self.root,
                "subcategory",
                category_id=self.w.ids["cat_aduan"],
                code=f"temp-{n}",
                name=f"Temp {n}",
            )
            return sub.id

        makers: dict[str, Callable[[], Any]] = {
            "attachment_id": attachment,
            "notification_id": notification,
            "account_id": account,
            "agency_id": agency,
            "subcategory_id": subcategory,
        }
        for name in names:
            if name == "message_id":
                values[name] = str(message_id)
            elif name in makers:
                if name not in self.cache:
                    self.cache[name] = str(anyio.run(makers[name]))
                values[name] = self.cache[name]
            elif name == "category_id":
                values[name] = str(self.w.ids["cat_aspirasi"])
            elif name == "file_path":
                # a file each static folder has (plugins' folders: see STATIC_FILES)
                prefix = template.removesuffix("{file_path}")
                values[name] = STATIC_FILES.get(prefix, "css/app.css")
            elif name == "code":
                values[name] = "en"
            elif name == "path":
                values[name] = "no-such-page"
            else:
                values[name] = "1"
        return _PARAM.sub(lambda m: values[m.group(1)], template)


def load_bodies() -> dict[tuple[str, str], dict[str, Any]]:
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for mod in pkgutil.iter_modules(access.__path__):
        module = importlib.import_module(f"{access.__name__}.{mod.name}")
        merged.update(getattr(module, "BODIES", {}))
    return merged


def ask(
    world: ApiWorld,
    filler: Filler,
    method: str,
    template: str,
    actor: str,
    body: dict[str, Any] | None = None,
    *,
    strict: bool = True,
) -> int:
    c = world.client
    path = filler.fill(template)
    headers: dict[str, str] = {}
    if actor == "anonymous":
        c.cookies.delete("aspirasi_session")
        csrf = world.csrf()
        headers["X-CSRF-Token"] = csrf
    else:
        headers.update(filler.headers(actor))
        csrf = ""
    kwargs: dict[str, Any] = {"headers": headers, "follow_redirects": False}
    if method not in ("GET", "HEAD", "DELETE"):
        if path.startswith("/api/"):
            kwargs["json"] = body or {}
        else:
            kwargs["data"] = {**(body or {}), **({"_csrf_token": csrf} if csrf else {})}
    response = c.request(method, path, **kwargs)
    filler.after(method, path, actor, response.status_code)
    assert not strict or response.status_code < 500, (method, path, actor, response.text)
    return response.status_code


def test_every_route_has_expected_statuses_and_gets_them(api: ApiWorld) -> None:
    expected = load_expected()
    routes = app_routes(api.app)
    missing = [r for r in routes if r not in expected and not access.is_pending(r[1])]
    pending = [r for r in routes if r not in expected and access.is_pending(r[1])]
    stale = [k for k in expected if k not in routes]
    dump = os.environ.get("ASPIRASI_ACCESS_DUMP") == "1"
    assert dump or not missing, "routes with no entry in web_tests/access/*.py:\n" + "\n".join(
        f"  {m} {p}" for m, p in missing
    )
    assert not stale, f"entries for routes that do not exist: {stale}"
    incomplete = [k for k, v in expected.items() if set(v) != set(access.ACTORS)]
    assert not incomplete, f"entries without exactly the actors {access.ACTORS}: {incomplete}"
    if pending:
        warnings.warn(f"{len(pending)} routes still pending in the access matrix", stacklevel=1)
    filler = Filler(api)
    bodies = load_bodies()
    wrong = []
    targets = (
        list(expected)
        if not dump
        else [r for r in routes if r not in expected and not access.is_pending(r[1])]
    )
    for method, template in targets:
        body = bodies.get((method, template))
        got = {
            a: ask(api, filler, method, template, a, body, strict=not dump) for a in access.ACTORS
        }
        if dump:
            print(f"    ({method!r}, {template!r}): {got},")
            continue
        want = expected[(method, template)]
        if got != want:
            wrong.append(f"{method} {template}\n    expected {want}\n    got      {got}")
    assert not wrong, "unexpected statuses:\n" + "\n".join(wrong)
