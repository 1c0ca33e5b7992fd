"""Land-dispute monitoring (permasalahan lahan) for Biro Perekonomian.

Quick start
-----------
Install the package next to ``aspirasi-core`` (``pip install aspirasi-land-issue``);
the core loads it through its ``aspirasi`` entry point (``land_issue``). Then:

1. At start-up the core makes sure the sub-category ``permasalahan-lahan``
   ("Permasalahan Lahan") exists under the category ``aduan``.
2. Every operator account a super admin creates for the agency
   ``biro-perekonomian`` (see ``ASPIRASI_LAND_ISSUE_AGENCY``) receives the
   permission ``land_issue.monitor`` by default (hook
   ``aspirasi_default_permissions``). A super admin may grant it to
   (or take it from) any other account: ``PATCH /api/v1/admin/users/{id}``
   ``{"permissions": ["land_issue.monitor"]}``.
3. Those accounts can then read (not handle) every complaint of that
   sub-category, whichever agency it was forwarded to, and follow it to the end:
   in the back-office list, the detail and the log.
4. With ``aspirasi-notify-email`` installed and enabled, monitors (accounts
   holding the permission themselves, not every super admin) get an e-mail when
   such a complaint is forwarded or re-forwarded to an agency, and when it
   passes its SOP deadline (once per deadline). The mail kinds
   (``land_issue_forwarded``, ``land_issue_overdue``) are declared in
   :mod:`aspirasi_land_issue.mail`, returned from notify_email's hook
   ``aspirasi_mail_kinds``; without notify_email nothing is sent.

Settings
--------
``ASPIRASI_LAND_ISSUE_SUBCATEGORY``
    Code of the monitored sub-category under ``aduan`` (default
    ``permasalahan-lahan``): lower-case letters, digits and dashes.
``ASPIRASI_LAND_ISSUE_SUBCATEGORY_NAME``
    Its name when the core creates it (default ``Permasalahan Lahan``). An
    existing sub-category is never renamed.
``ASPIRASI_LAND_ISSUE_AGENCY``
    Code of the agency whose new operator accounts become monitors by default
    (default ``biro-perekonomian``): lower-case letters, digits and dashes.
    Only accounts created afterwards are concerned; existing accounts keep
    their permissions.

Web (with ``aspirasi-web``)
---------------------------
Holders of the permission get the back-office menu item "Monitor": the page
``/land-issues`` (every land-dispute complaint, its current agency, status,
SOP due date and overdue state, latest log entry and reply state, filterable by
status and "overdue only"; each row links to the read-only detail
``/backoffice/messages/{id}``) and ``GET /api/v1/land-issues``
(``{"items": [...], "next_cursor"}``; ``?status=``, ``?overdue=true``). The
web part lives in :mod:`aspirasi_land_issue.web`, imported only by the web
hooks; the page is built from one list query and one batched read of the logs
and agencies.

The configuration is per process: the last ``aspirasi_configure`` call wins.
Turn the plugin off with ``ASPIRASI_DISABLED_PLUGINS=land_issue``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from aspirasi_core import hookimpl
from aspirasi_core.domain.model import Actor, CategoryCode, Role
from aspirasi_core.domain.policy import MessageScope, PermissionDecl, Policy
from aspirasi_core.plugin_types import CategoryDecl, Directory
from aspirasi_core.settings import Settings, plugin_settings, setting

#: The permission that lets an account monitor land-dispute complaints.
MONITOR = "land_issue.monitor"
DEFAULT_SUBCATEGORY = "permasalahan-lahan"
DEFAULT_SUBCATEGORY_NAME = "Permasalahan Lahan"
#: The agency whose new operators become monitors by default.
DEFAULT_AGENCY = "biro-perekonomian"
#: Name of the visibility scope this plugin returns.
SCOPE_NAME = "land_issue"

if TYPE_CHECKING:
    from aspirasi_web.menu import MenuItem

_HERE = Path(__file__).resolve().parent

_CODE = re.compile(r"\A[a-z0-9]+(?:-[a-z0-9]+)*\Z")


def _code(what: str) -> Any:
    def check(_instance: object, attribute: attrs.Attribute, value: str) -> None:  # type: ignore[type-arg]
        if not _CODE.match(value):
            variable = "ASPIRASI_LAND_ISSUE_" + attribute.name.upper()
            raise ValueError(
                f"{variable}: {value!r} is not {what} (lower-case letters, digits and dashes)"
            )

    return check


def _not_empty(_instance: object, attribute: attrs.Attribute, value: str) -> None:  # type: ignore[type-arg]
    if not value:
        raise ValueError(f"ASPIRASI_LAND_ISSUE_{attribute.name.upper()} must not be empty")


@attrs.frozen
class LandIssueSettings:
    """The plugin's settings, ``ASPIRASI_LAND_ISSUE_*`` (read like the core's, see
    :func:`aspirasi_core.settings.plugin_settings`)."""

    subcategory: str = setting(
        DEFAULT_SUBCATEGORY,
        "Code of the sub-category of land-dispute complaints (created if missing).",
        converter=str.strip,
        validator=_code("a code"),
    )
    subcategory_name: str = setting(
        DEFAULT_SUBCATEGORY_NAME,
        "Name of that sub-category when the plugin creates it.",
        converter=str.strip,
        validator=_not_empty,
    )
    agency: str = setting(
        DEFAULT_AGENCY,
        "Code of the agency whose new operators become land-dispute monitors.",
        converter=str.strip,
        validator=_code("an agency code"),
    )


#: The variables' prefix (``ASPIRASI_LAND_ISSUE_…``).
SETTINGS_PREFIX = "land_issue_"


@attrs.frozen
class LandIssueConfig:
    """What the plugin reads from the settings."""

    subcategory_code: str = DEFAULT_SUBCATEGORY
    subcategory_name: str = DEFAULT_SUBCATEGORY_NAME
    agency_code: str = DEFAULT_AGENCY
    #: The province's time zone (``ASPIRASI_TIMEZONE``): due dates in the mails.
    timezone: str = "Asia/Makassar"


_current = LandIssueConfig()


def current_config() -> LandIssueConfig:
    """The configuration of the last ``aspirasi_configure`` call (defaults before)."""
    return _current


@hookimpl
def aspirasi_configure(settings: Settings) -> None:
    """Read ``ASPIRASI_LAND_ISSUE_SUBCATEGORY[_NAME]`` and ``ASPIRASI_LAND_ISSUE_AGENCY``;
    refuse a code that is not a slug."""
    global _current
    read = plugin_settings(LandIssueSettings, settings, SETTINGS_PREFIX)
    _current = LandIssueConfig(
        subcategory_code=read.subcategory,
        subcategory_name=read.subcategory_name,
        agency_code=read.agency,
        timezone=settings.timezone,
    )


@hookimpl
def aspirasi_register_permissions() -> Sequence[PermissionDecl]:
    """``land_issue.monitor``: held by no level, granted to single accounts."""
    return [
        PermissionDecl(
            MONITOR,
            "Monitor land-dispute complaints (permasalahan lahan) across agencies",
            roles=frozenset(),
            grantable=True,
        )
    ]


@hookimpl
def aspirasi_default_permissions(role: str, agency_code: str | None) -> Sequence[str] | None:
    """New operators of the monitoring agency (``ASPIRASI_LAND_ISSUE_AGENCY``) are monitors."""
    if role == Role.OPERATOR and agency_code == _current.agency_code:
        return [MONITOR]
    return None


@hookimpl
def aspirasi_register_categories() -> Sequence[CategoryDecl]:
    """The monitored sub-category under ``aduan``."""
    return [
        CategoryDecl(
            category_code=CategoryCode.ADUAN,
            category_name="Aduan",
            code=_current.subcategory_code,
            name=_current.subcategory_name,
        )
    ]


@hookimpl
def aspirasi_visibility_scopes(actor: Actor, directory: Directory) -> Sequence[MessageScope]:
    """Holders of ``land_issue.monitor`` read every complaint of the sub-category.

    Super admins read everything anyway and need no scope. When the category or
    the sub-category does not exist (yet), no scope is returned: a scope with
    no ids would match every message.
    """
    if MONITOR not in actor.permissions:
        return []
    category_id = directory.category_id(CategoryCode.ADUAN)
    subcategory_id = directory.subcategory_id(CategoryCode.ADUAN, _current.subcategory_code)
    if category_id is None or subcategory_id is None:
        return []
    return [
        MessageScope(
            name=SCOPE_NAME,
            category_ids=frozenset({category_id}),
            subcategory_ids=frozenset({subcategory_id}),
        )
    ]


# ----------------------------------------------------------------------------- web hooks
# Called only by the web adapter (which adds their specs); the Litestar part is
# imported here, lazily, so that the core's import path never reaches it. They are
# optional: a plugin manager without the web specs (the CLI, the core's tests)
# ignores them.


@hookimpl(optionalhook=True)
def aspirasi_mail_kinds() -> Sequence[Any]:
    """The plugin's mails (a hook notify_email adds; optional without it)."""
    from .mail import mail_kinds

    return mail_kinds()


@hookimpl(optionalhook=True)
def aspirasi_web_route_handlers() -> Sequence[Any]:
    """``GET /land-issues`` (page) and ``GET /api/v1/land-issues`` (JSON)."""
    from .web import ROUTE_HANDLERS

    return list(ROUTE_HANDLERS)


@hookimpl(optionalhook=True)
def aspirasi_web_menu_items(actor: Actor | None, policy: Policy) -> Sequence[MenuItem]:
    """ "Monitor" in the back-office section, for holders of ``land_issue.monitor``."""
    if actor is None or not policy.allows(actor, MONITOR):
        return []
    from aspirasi_web.menu import MenuItem

    return [MenuItem("Monitor", "/land-issues", "backoffice", 50, "eye")]


@hookimpl(optionalhook=True)
def aspirasi_web_template_dirs() -> Sequence[str]:
    """Templates named ``land_issue/…``."""
    return [str(_HERE / "templates")]


@hookimpl(optionalhook=True)
def aspirasi_web_locale_dirs() -> Sequence[str]:
    """``locale/id/LC_MESSAGES/land_issue.po``."""
    return [str(_HERE / "locale")]
