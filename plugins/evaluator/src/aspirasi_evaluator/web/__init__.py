"""The web part of the evaluator plugin, by feature: the report
(:mod:`.report`), the messages behind its counts (:mod:`.messages`), the
exports (:mod:`.exports`) and reprimands (:mod:`.reprimands`), with what they
share in :mod:`.common` (see the package docstring for the routes).

Imported lazily by the web hook implementations, so the core never reaches
Litestar. Every handler checks access itself, on the server.
"""

from __future__ import annotations

from .exports import messages_csv, messages_xlsx, report_csv, report_xlsx
from .messages import messages_api, messages_page
from .report import report_api, report_page
from .reprimands import (
    acknowledge_api,
    acknowledge_page,
    reprimand_api,
    reprimand_create,
    reprimand_new,
    reprimands_api,
    reprimands_page,
)
from .transparency import transparency_csv, transparency_json, transparency_page

__all__ = ["ROUTE_HANDLERS"]

ROUTE_HANDLERS = [
    report_page,
    messages_page,
    report_csv,
    report_xlsx,
    messages_csv,
    messages_xlsx,
    reprimand_new,
    reprimand_create,
    reprimands_page,
    acknowledge_page,
    report_api,
    messages_api,
    reprimand_api,
    reprimands_api,
    acknowledge_api,
    transparency_page,
    transparency_csv,
    transparency_json,
]
