"""Litestar guards: who may reach a route, checked before its body is read.

- :func:`requires` makes a guard from a permission of the core's role policy
  (``guards=[requires(Perm.ADMIN_MANAGE)]`` on a controller or route): nobody
  signed in is sent to log in (401 for the API), an account without the
  permission gets 403, whatever its request carries.
- :func:`signed_in` lets through any signed-in account with a verified e-mail;
  :func:`signed_in_any` any signed-in account, its e-mail verified or not (the
  routes an unverified account needs: read itself, verify, log out).
- :func:`password_changed` runs on every route (the app's guard): an account
  whose password a super admin typed must choose its own first. Pages send it to
  :data:`CHANGE_PASSWORD_PATH`; the API answers 403 problem+json with the code
  ``password_change_required``. Routes that let it do so (or leave) say
  ``opt={PASSWORD_CHANGE_OPT: True}``; the API's are :data:`API_ALLOWED`.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from aspirasi_core.domain.errors import NotAllowed, Unauthenticated
from aspirasi_core.domain.model import Account, Actor
from aspirasi_core.domain.policy import Perm
from aspirasi_core.services import Aspirasi

#: The page where an account that must change its password is sent.
CHANGE_PASSWORD_PATH = "/account/password"  # noqa: S105 - a path
#: ``opt`` key of the routes an account that must change its password may use.
PASSWORD_CHANGE_OPT = "password_change_allowed"  # noqa: S105 - an opt key
#: API operations open to such an account: read itself, change the password, log out.
API_ALLOWED = frozenset(
    {
        ("GET", "/api/v1/me"),
        ("POST", "/api/v1/me/password"),
        ("POST", "/api/v1/auth/logout"),
    }
)
PASSWORD_CHANGE_CODE = "password_change_required"  # noqa: S105 - an error code


class PasswordChangeRequired(NotAllowed):
    """The account must change the password a super admin typed first."""


def signed_in_actor(
    connection: ASGIConnection[Any, Any, Any, Any], *, verified: bool = True
) -> Actor:
    """The signed-in actor (with a verified e-mail unless ``verified=False``: else
    403 ``email_unverified``). Nobody signed in is 401 ``login_required``; a bearer
    token that is not valid 401 ``invalid_token``. A fault met while looking up the
    session (the database out of reach) is raised as it is, not taken for nobody."""
    auth = connection.scope.get("auth")
    fault = getattr(auth, "fault", None)
    if fault is not None:
        raise fault
    if getattr(auth, "bad_bearer", False):
        raise Unauthenticated("The access token is not valid.", code="invalid_token")
    account: Account | None = connection.scope.get("user")  # type: ignore[assignment]
    if account is None:
        raise Unauthenticated("Please log in.", code="login_required")
    actor = account.actor()
    if verified and not actor.verified:
        raise NotAllowed("Please verify your e-mail address first.", code="email_unverified")
    return actor


def requires(permission: str) -> Guard:
    """A guard letting through the accounts whose role (or extra permissions)
    grant ``permission`` in the core's policy."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        actor = signed_in_actor(connection)
        core: Aspirasi = connection.app.state["aspirasi"]
        core.deps.policy.require(actor, permission)

    guard.__name__ = guard.__qualname__ = f"requires({permission})"
    return guard


def signed_in(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A guard letting through any signed-in account with a verified e-mail."""
    signed_in_actor(connection)


def signed_in_any(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A guard letting through any signed-in account, its e-mail verified or not."""
    signed_in_actor(connection, verified=False)


def password_changed(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """See the module docstring."""
    account: Account | None = connection.scope.get("user")  # type: ignore[assignment]
    if account is None or not account.must_change_password:
        return
    if handler.opt.get(PASSWORD_CHANGE_OPT):
        return
    if (connection.scope.get("method", "GET"), connection.url.path) in API_ALLOWED:
        return
    raise PasswordChangeRequired(
        "Choose your own password before you go on.", code=PASSWORD_CHANGE_CODE
    )


#: The back office's guard (its pages and API): the staff who may enter it.
BACKOFFICE: list[Guard] = [requires(Perm.BACKOFFICE)]

__all__ = [
    "API_ALLOWED",
    "BACKOFFICE",
    "CHANGE_PASSWORD_PATH",
    "PASSWORD_CHANGE_CODE",
    "PASSWORD_CHANGE_OPT",
    "PasswordChangeRequired",
    "password_changed",
    "requires",
    "signed_in",
    "signed_in_actor",
    "signed_in_any",
]
