"""Evaluator reports and reprimands (teguran) for the Super Admin and appointed officials.

Quick start
-----------
Install the package next to ``aspirasi-core`` (``pip install aspirasi-evaluator``);
the core loads it through its ``aspirasi`` entry point (``evaluator``). Run
``aspirasi db upgrade`` once: it creates the plugin's tables (its own Alembic
branch ``evaluator``). The plugin declares the permission ``evaluator.evaluate``,
held by no level: a super admin (who holds every permission) grants it to the
officials who evaluate the agencies (Wakil Gubernur's office) with
``PATCH /api/v1/admin/users/{id}`` ``{"permissions": ["evaluator.evaluate"]}``.
Any account level may hold it; an operator or admin holding it can then read
(not handle) every message, through a read-only visibility scope.

Permission
----------
``evaluator.evaluate`` (grantable, held by no level; super admins hold it
anyway) opens the report, the drill-down lists, the exports and issuing
reprimands. Every route checks it on the server. Operators (of an agency) see
and acknowledge their own agency's reprimands without it.

The report
----------
For messages submitted in a date range from ``from`` to ``to``, both days
included (local days in ``ASPIRASI_TIMEZONE``; years 2000 to 2100; default: the
current year, or one year from ``from`` (at most until today) when only
``from`` is given; at most 5 years), withdrawn ones left out: counts by status
(the core's status names: terkirim ``submitted``, belum dikonfirmasi
``forwarded``, sedang ditangani ``in_progress``, selesai ``done``, ditolak
``rejected``) per agency, per category and per sub-category; overdue counts
(open messages whose SOP deadline ``due_at`` has passed, as of now); the median
time to confirm (last forward → ``start``) and to close (submission → reply),
the average rating and number of ratings, the reprimands issued per agency,
the completed messages handled within the SOP (both agency deadlines kept:
not ``sop_missed``, which the core records when an agency stage ends after its
deadline); and the
monthly (weekly up to 92 days) trend of submitted vs closed messages, drawn as
an inline SVG with its data table behind a toggle. The figures are plain SQL
aggregates over the core's tables, read live (:mod:`aspirasi_evaluator.figures`)
and assembled in :mod:`aspirasi_evaluator.report`.

Routes (web, with ``aspirasi-web``)
-----------------------------------
Pages (anonymous visitors are sent to the log-in page, others without the
permission get 403):

- ``GET /evaluator`` — the dashboard: summary cards (received, completed
  within the SOP, overdue now, median times, average rating), period presets
  (this month, last month, this year) and the date-range form (``?from=&to=``),
  then the tables (agencies by what needs attention: most overdue, then most
  open; rows without any figure folded into a ``<details>``; on phones every row
  a card), and the trend chart with its data behind a ``<details>`` toggle. Its
  stylesheet is served at ``/static/evaluator/evaluator.css``;
- ``GET /evaluator/messages`` — the messages behind a count
  (``from``, ``to``, ``agency``, ``category``, ``subcategory`` — an id or
  ``none`` —, ``status``, ``overdue=1``, ``cursor``), each linking to the
  read-only detail ``/backoffice/messages/{id}``;
- ``GET /evaluator/report.csv``, ``/evaluator/report.xlsx``,
  ``/evaluator/messages.csv``, ``/evaluator/messages.xlsx`` — exports (cells that
  could be read as formulas are neutralised);
- ``GET /evaluator/reprimands/new?agency={id}`` and ``POST /evaluator/reprimands``
  — the form listing the agency's open messages (the overdue ones first, marked),
  the reason, and issuing the reprimand ("Teguran terkirim ke …");
- ``GET /reprimands`` — operators: their agency's reprimands; evaluators: all
  (``?agency=``; ``?from=&to=`` only those issued in that range, as the
  report's count links); ``POST /reprimands/{id}/acknowledge`` — an operator
  of the agency (not the one who issued it) acknowledges one, once, with a
  response. An evaluator cannot reprimand their own agency. Operators see only
  the ticket of a named message that was re-forwarded to another agency since.

Public pages (no account needed):

- ``GET /transparansi?year=YYYY`` — the transparency page: for one calendar year
  (default the current one; 2000 to now), per agency the messages received, the
  share completed within the SOP, the median times to confirm and to close, the
  average rating and the reprimands received, ranked by that share (cards that
  read at 360 px), and the monthly trend chart;
- ``GET /transparansi.csv`` and ``/transparansi.json`` (same ``year``) — the same
  figures as open data under ``ASPIRASI_OPEN_DATA_LICENCE``: aggregates only
  (anonymous and confidential messages are counted, never named). They are the
  report's figures (:mod:`aspirasi_evaluator.transparency`), kept 5 minutes per
  year in a Litestar store (:mod:`aspirasi_evaluator.web.transparency`).

JSON API (problem+json on errors):

- ``GET /api/v1/evaluator/report?from=YYYY-MM-DD&to=YYYY-MM-DD`` (``to`` included; the
  answer's ``from``/``to`` and its trend periods' are first and last days too;
  ``completed_within_sop`` per agency and in ``total``);
- ``GET /api/v1/evaluator/messages`` (the drill-down, ``{"items", "next_cursor"}``);
- ``POST /api/v1/evaluator/reprimands`` ``{"agency_id", "message_ids": [...], "text",
  "reason"}`` → 201 (every message must be open and of that agency, else 422 on
  ``message_ids``; ``reason``: ``overdue``, ``not_followed_up``, ``poor_answer``,
  ``other``). Each message is marked overdue or not as it stands; repeated
  reprimands of one agency within 90 days escalate: ``level`` 1 first notice,
  2 warning, 3 report to the governor's office (shown on each reprimand);
- ``GET /api/v1/reprimands`` (operators: own agency; evaluators: all) and
  ``POST /api/v1/reprimands/{id}/acknowledge`` ``{"response"}`` (409 the second time).

Menu items: "Transparansi" (Transparency) for everyone, "Evaluasi" (Evaluation)
for holders of the permission, "Teguran" (Reprimands) for operators and holders.

Notifications
-------------
A reprimand notifies the agency's operators in-app, and with
``aspirasi-notify-email`` by mail (kind ``evaluator_reprimand``, declared in
:mod:`aspirasi_evaluator.mail`, returned from notify_email's hook
``aspirasi_mail_kinds``); an acknowledgement notifies and mails the
evaluator who issued it (``evaluator_reprimand_acknowledged``). The events
are :class:`~aspirasi_evaluator.events.ReprimandIssued` and
:class:`~aspirasi_evaluator.events.ReprimandAcknowledged`. structlog logs
``reprimand_issued`` and ``reprimand_acknowledged`` (ids only).

Tables
------
``evaluator_reprimands`` (``id``, ``agency_id``, ``issued_by``, ``text``,
``created_at``, ``acknowledged_by``, ``acknowledged_at``, ``response``) and
``evaluator_reprimand_messages`` (``reprimand_id``, ``message_id``), created by
the revision ``e001_evaluator_reprimands`` (branch ``evaluator``, depends on the
core's ``0002_sop``) in ``migrations/``, returned by
``aspirasi_migration_locations``. The branch also keeps four indexes on the
core's tables for the report (:data:`aspirasi_evaluator.tables.REPORT_INDEXES`,
dropped again on downgrade): ``message_log (to_status, at)`` (``e002``),
``messages (agency_id, status, created_at, due_at)``, ``messages (category_id,
subcategory_id, status, created_at, due_at)`` and ``message_log (message_id,
to_status, at)`` (``e004_evaluator_drop_rollups``, which also drops the roll-up
tables of ``e003``). See :mod:`aspirasi_evaluator.tables`.

Settings
--------
The plugin has no variables of its own. It reads ``ASPIRASI_TIMEZONE`` (the
days of the report), the core's SOP settings through what the core stored with
each message (``messages.due_at``, and ``messages.sop_missed`` for "completed
within the SOP"),
``ASPIRASI_OPEN_DATA_LICENCE`` (the licence of the transparency page's open
data) and, for the mails, ``ASPIRASI_BASE_URL``.

Scaling
-------
The report writes nothing, and nothing is written for it: no hook of the plugin
runs inside the core's transactions. It reads the core's tables in one read
transaction, through the indexes above, so it costs in proportion to the
messages of the range and never sorts them: counts are index ranges per
(agency, status, period) and (sub-category, status), medians and ratings one
index look-up per started message (``percentile_cont`` on PostgreSQL; in
Python on SQLite, which has no percentile function). Everything is exact and
current: a change is in the next report. At 1M messages a year's report costs
about 2 s of CPU on either database (the goal, 1 s, is missed: the medians need
a few index look-ups per started message) and a month 130–165 ms;
``docs/performance.md`` has the measurements.

The plugin uses only the core's plugin API (:mod:`aspirasi_core.plugin_api`):
its reads and writes run in the API's transactions, and it reads the core's
tables through its own minimal definitions (:mod:`aspirasi_evaluator.core_tables`,
with the API's column types), never through ``aspirasi_core.storage``.

Turn the plugin off with ``ASPIRASI_DISABLED_PLUGINS=evaluator``: its menus,
routes and permission disappear; its tables stay.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aspirasi_core import hookimpl
from aspirasi_core.domain.model import Actor, Role
from aspirasi_core.domain.policy import MessageScope, Perm, PermissionDecl, Policy
from aspirasi_core.plugin_types import Directory

if TYPE_CHECKING:
    from aspirasi_web.menu import MenuItem

#: The permission that opens the evaluator's reports and reprimands.
EVALUATE = "evaluator.evaluate"
#: Name of the read-only visibility scope of evaluators.
SCOPE_NAME = "evaluator"

_HERE = Path(__file__).resolve().parent
#: The folder of the plugin's Alembic revisions (branch ``evaluator``).
MIGRATIONS_DIR = str(_HERE / "migrations")


@hookimpl
def aspirasi_register_permissions() -> Sequence[PermissionDecl]:
    """``evaluator.evaluate``: held by no level, granted to single accounts. It
    brings the core's ``oversight.review``: evaluators see the poorly rated
    messages and may reopen them for the agency."""
    return [
        PermissionDecl(
            EVALUATE,
            "Read the evaluation reports and send reprimands (teguran) to agencies",
            roles=frozenset(),
            grantable=True,
            implies=frozenset({Perm.OVERSIGHT}),
        )
    ]


@hookimpl
def aspirasi_visibility_scopes(actor: Actor, directory: Directory) -> Sequence[MessageScope]:
    """Holders of ``evaluator.evaluate`` read every message (read only): a scope
    with every field None. Acting still needs the core's permissions and scope."""
    if EVALUATE not in actor.permissions:
        return []
    return [MessageScope(name=SCOPE_NAME)]


@hookimpl
def aspirasi_migration_locations() -> Sequence[str]:
    """``migrations/``: the branch ``evaluator`` (reprimands, the report's indexes)."""
    return [MIGRATIONS_DIR]


# ----------------------------------------------------------------------------- web hooks
# Called only by the web adapter; optional, so a plugin manager without the web
# specs ignores them, and Litestar is imported lazily.


@hookimpl(optionalhook=True)
def aspirasi_mail_kinds() -> Sequence[Any]:
    """The plugin's mails (a hook notify_email adds; optional without it)."""
    from .mail import mail_kinds

    return mail_kinds()


@hookimpl(optionalhook=True)
def aspirasi_web_route_handlers() -> Sequence[Any]:
    """The pages ``/evaluator…`` and ``/reprimands…`` and their JSON API."""
    from .web import ROUTE_HANDLERS

    return list(ROUTE_HANDLERS)


@hookimpl(optionalhook=True)
def aspirasi_web_menu_items(actor: Actor | None, policy: Policy) -> Sequence[MenuItem]:
    """ "Transparency" (the public scorecard) for everyone; "Evaluation" and
    "Reprimands" among the reports for holders of the permission; "Reprimands" as
    daily work for an agency's operators."""
    from aspirasi_web.menu import MenuItem

    items: list[MenuItem] = [MenuItem("Transparency", "/transparansi", "public", 40, "chart")]
    if actor is None:
        return items
    evaluator = policy.allows(actor, EVALUATE)
    if evaluator:
        items.append(MenuItem("Evaluation", "/evaluator", "reports", 60, "chart"))
    operator = (
        actor.role == Role.OPERATOR
        and actor.agency_id is not None
        and actor.active
        and actor.verified
    )
    if evaluator or operator:
        section = "reports" if evaluator else "backoffice"
        items.append(MenuItem("Reprimands", "/reprimands", section, 65, "alert"))
    return items


@hookimpl(optionalhook=True)
def aspirasi_web_template_dirs() -> Sequence[str]:
    """Templates named ``evaluator/…``."""
    return [str(_HERE / "templates")]


@hookimpl(optionalhook=True)
def aspirasi_web_static_dirs() -> Sequence[tuple[str, str]]:
    """``/static/evaluator/``: the dashboard's stylesheet."""
    return [("evaluator", str(_HERE / "static"))]


@hookimpl(optionalhook=True)
def aspirasi_web_locale_dirs() -> Sequence[str]:
    """``locale/{id,en}/LC_MESSAGES/evaluator.po``."""
    return [str(_HERE / "locale")]
