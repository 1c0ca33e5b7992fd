"""What the super admin's controllers share: the guard and the dependencies of
:class:`AdminController`, form helpers, and the labels of levels and permissions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Controller, Request, Response
from litestar.di import NamedDependency, Provide

from aspirasi_core.domain.errors import Conflict, Invalid
from aspirasi_core.domain.model import Role
from aspirasi_core.domain.policy import Perm
from aspirasi_core.services import AdminService

from ...context import core, translator
from ...guards import requires
from ...templating import form_errors

#: The use cases, injected by :class:`AdminController` into a handler's ``admin``.
Admin = NamedDependency[AdminService]
#: (errors, message, status) → the page again with them.
OnError = Callable[[dict[str, list[str]], str | None, int], Awaitable[Response[Any]]]


def provide_admin(request: Request[Any, Any, Any]) -> AdminService:
    """The super admin's use cases (``admin``)."""
    return core(request).admin


class AdminController(Controller):
    """Base of the super admin's pages: only ``admin.manage`` gets in (the guard
    answers before any body is read); ``admin`` is injected."""

    include_in_schema = False
    guards = [requires(Perm.ADMIN_MANAGE)]  # noqa: RUF012 - Litestar's layer attribute
    dependencies = {  # noqa: RUF012 - Litestar's layer attribute
        "admin": Provide(provide_admin, sync_to_thread=False),
    }


def text(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def active_flag(form: Any) -> bool:
    """The ``active`` field: "1" or "0"; anything else is refused (a bare POST changes nothing)."""
    value = text(form, "active")
    if value not in ("0", "1"):
        raise Invalid.field("active", "flag_invalid", "Choose yes or no.")
    return value == "1"


def search_text(q: str | None) -> str:
    """A search box's text, trimmed and bounded (it goes into a URL and a filter)."""
    return (q or "").strip()[:100]


def matches(q: str, *values: str) -> bool:
    """Whether every word of the search ``q`` is in one of ``values`` (case-blind)."""
    haystack = " ".join(values).casefold()
    return all(word in haystack for word in q.casefold().split())


def staff_roles(request: Request[Any, Any, Any]) -> list[tuple[str, str]]:
    """(name, label) of the levels a super admin may give: staff, not super admin."""
    policy = core(request).deps.policy
    return [
        (name, decl.label)
        for name, decl in policy.roles.items()
        if decl.staff and name != Role.SUPER_ADMIN
    ]


def permissions(request: Request[Any, Any, Any]) -> list[tuple[str, str]]:
    """(name, description) of the grantable permissions, by description."""
    policy = core(request).deps.policy
    return sorted(
        ((name, policy.permissions[name].description) for name in policy.grantable()),
        key=lambda pair: pair[1],
    )


def permission_labels(request: Request[Any, Any, Any], names: frozenset[str]) -> list[str]:
    """The translated descriptions of ``names`` (never their codes)."""
    policy = core(request).deps.policy
    t = translator(request)
    return sorted(
        t(policy.permissions[name].description) if name in policy.permissions else name
        for name in names
    )


async def attempt(
    request: Request[Any, Any, Any], call: Callable[[], Awaitable[Any]], on_error: OnError
) -> Response[Any] | None:
    """Run ``call``; on Invalid/Conflict answer ``on_error(errors, message, status)``."""
    t = translator(request)
    try:
        await call()
    except Invalid as exc:
        errors = form_errors(request, exc)
        message = t("Please correct the marked fields.") if exc.errors else t.error(exc)
        return await on_error(errors, message, 422)
    except Conflict as exc:
        return await on_error({}, t.error(exc), 409)
    return None
