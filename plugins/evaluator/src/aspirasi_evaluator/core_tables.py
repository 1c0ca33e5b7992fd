"""The core's tables as this plugin reads them: the few columns it uses, nothing more.

The plugin does not import ``aspirasi_core.storage`` (its tables, types and
statement helpers are the core's internals, not an API; see issue 21). These
definitions name the columns the report, the drill-down and the reprimands read,
in their own ``MetaData`` (never created from here: the core's migrations own
the tables). A column the core renames or drops breaks the plugin's tests, not
silently its figures.

:data:`Id` and :class:`UTCDateTime` are the core's column types, from the plugin
API (:mod:`aspirasi_core.plugin_api`). The queries could read
``aspirasi_core.plugin_api.schema`` instead; these ``Table`` objects exist because
the plugin's own tables (:mod:`aspirasi_evaluator.tables`) declare foreign keys to
them, which needs tables in a ``MetaData``.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Integer,
    MetaData,
    String,
    Table,
)

from aspirasi_core.plugin_api import Id, UTCDateTime

__all__ = ["Id", "UTCDateTime"]


#: The core's tables (read only), apart from the plugin's own ``metadata``.
core_metadata = MetaData()

agencies = Table(
    "agencies",
    core_metadata,
    Column("id", Id, primary_key=True),
    Column("code", String(64)),
    Column("name", String(200)),
    Column("is_active", Boolean),
)

categories = Table(
    "categories",
    core_metadata,
    Column("id", Id, primary_key=True),
    Column("code", String(64)),
    Column("name", String(200)),
)

subcategories = Table(
    "subcategories",
    core_metadata,
    Column("id", Id, primary_key=True),
    Column("category_id", Id),
    Column("code", String(64)),
    Column("name", String(200)),
    Column("is_active", Boolean),
    # Its own SOP (working days), where it sets one.
    Column("sop_confirm_days", Integer),
    Column("sop_reply_days", Integer),
)

#: The super admin's extra days off (the SOP's calendar).
days_off = Table(
    "days_off",
    core_metadata,
    Column("id", Id, primary_key=True),
    Column("day", Date),
)

accounts = Table(
    "accounts",
    core_metadata,
    Column("id", Id, primary_key=True),
    Column("full_name", String(200)),
)

messages = Table(
    "messages",
    core_metadata,
    Column("id", Id, primary_key=True),
    Column("ticket", String(32)),
    Column("subject", String(300)),
    Column("status", String(32)),
    Column("category_id", Id),
    Column("subcategory_id", Id),
    Column("agency_id", Id),
    Column("created_at", UTCDateTime),
    Column("due_at", UTCDateTime),
    # The milestones (the core's 0008_milestones), set by the transitions.
    Column("forwarded_at", UTCDateTime),
    Column("started_at", UTCDateTime),
    Column("closed_at", UTCDateTime),
    # Whether its agency missed an SOP deadline (the core's 0012_sop_kept), set
    # by the transition that ended the stage late.
    Column("sop_missed", Boolean),
)

message_log = Table(
    "message_log",
    core_metadata,
    Column("id", Id, primary_key=True),
    Column("message_id", Id),
    Column("action", String(32)),
    Column("to_status", String(32)),
    Column("at", UTCDateTime),
)

ratings = Table(
    "ratings",
    core_metadata,
    Column("message_id", Id, primary_key=True),
    Column("stars", Integer),
)
