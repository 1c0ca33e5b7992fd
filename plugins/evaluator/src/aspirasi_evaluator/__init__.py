"""Evaluator reports and reprimands (teguran) for the Super Admin and appointed officials.

Quick start
-----------
Install the package next to ``aspirasi-core`` (``pip install aspirasi-evaluator``);
the core loads it through its ``aspirasi`` entry point (``evaluator``). It
declares the permission ``evaluator.evaluate``, held by no level: a super admin
(who holds every permission) grants it to the officials who evaluate the
agencies with ``PATCH /api/v1/admin/users/{id}``
``{"permissions": ["evaluator.evaluate"]}``.

What this version does: the permission only. The report by status and agency
(``GET /api/v1/evaluator/report``) and the reprimands
(``POST /api/v1/evaluator/reprimands``) arrive in a later issue; they will be
guarded by this permission.

Turn the plugin off with ``ASPIRASI_DISABLED_PLUGINS=evaluator``.
"""

from __future__ import annotations

from collections.abc import Sequence

from aspirasi_core import hookimpl
from aspirasi_core.domain.policy import PermissionDecl

#: The permission that opens the evaluator's reports and reprimands.
EVALUATE = "evaluator.evaluate"


@hookimpl
def aspirasi_register_permissions() -> Sequence[PermissionDecl]:
    """``evaluator.evaluate``: held by no level, granted to single accounts."""
    return [
        PermissionDecl(
            EVALUATE,
            "Read the evaluation reports and send reprimands (teguran) to agencies",
            roles=frozenset(),
            grantable=True,
        )
    ]
