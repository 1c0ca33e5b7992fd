"""Lists of accounts: the administrators' list and the recipients of a
notification (cached for the transaction).
"""

from __future__ import annotations

import builtins
import functools
import json
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, bindparam, or_, true

from ...domain.model import Account, Role
from ._util import LIKE_ESCAPE, contains_text, keyset, like_pattern
from .account_rows import SELECT_ACCOUNT, a, account_from_row


class AccountListReads:
    """The lists part of :class:`~.accounts.SqlAccountRepository`."""

    __slots__ = ()
    _conn: Connection
    _recipients: dict[tuple[Any, ...], builtins.list[Account]]

    def list(
        self,
        *,
        role: str | None = None,
        agency_id: int | None = None,
        text: str | None = None,
        before_id: int | None = None,
        limit: int = 50,
    ) -> list[Account]:
        """Newest first; ``text`` matches e-mail, username or full name, case-insensitively."""
        stmt = SELECT_ACCOUNT
        if role is not None:
            stmt = stmt.where(a.c.role == role)
        if agency_id is not None:
            stmt = stmt.where(a.c.agency_id == agency_id)
        if text:
            stmt = stmt.where(contains_text(text, a.c.email, a.c.username, a.c.full_name))
        return [
            account_from_row(row)
            for row in self._conn.execute(keyset(stmt, a.c.id, before_id, limit))
        ]

    def recipients(
        self,
        *,
        role: str | None = None,
        agency_id: int | None = None,
        permission: str | None = None,
    ) -> builtins.list[Account]:
        """Active, verified accounts that either have ``role`` (and ``agency_id``) or
        hold ``permission``, oldest first.

        ``role``/``agency_id`` form one condition, ``permission`` the other, and an
        account matching either is returned. An account holds ``permission`` when it
        was granted to it (its permission list) or it is a super admin; permissions
        that come with a role through the policy table are not looked up here (the
        storage does not know the policy): ask for those roles too. With no argument,
        every active, verified account.
        """
        key = (role, agency_id, permission)
        known = self._recipients.get(key)
        if known is not None:
            return list(known)
        found = self._find_recipients(role, agency_id, permission)
        self._recipients[key] = found
        return list(found)

    def _find_recipients(
        self, role: str | None, agency_id: int | None, permission: str | None
    ) -> builtins.list[Account]:
        params: dict[str, Any] = {}
        if role is not None:
            params["role"] = role
        if agency_id is not None:
            params["agency_id"] = agency_id
        if permission is not None:
            # A cheap pre-filter; the exact JSON membership is checked below.
            params["needle"] = like_pattern(json.dumps(permission))
        stmt = _recipients_statement(
            role is not None, agency_id is not None, permission is not None
        )
        found = [account_from_row(row) for row in self._conn.execute(stmt, params).all()]
        if permission is None:
            return found
        return [
            account
            for account in found
            if _role_matches(account, role, agency_id) or _holds(account, permission)
        ]


@functools.cache
def _recipients_statement(role: bool, agency: bool, permission: bool) -> Any:
    """The statement of :meth:`SqlAccountRepository.recipients` for one shape of
    arguments, built once (building it cost more than running it)."""
    by_role: ColumnElement[bool] | None = None
    if role or agency:
        by_role = and_(
            a.c.role == bindparam("role") if role else true(),
            a.c.agency_id == bindparam("agency_id") if agency else true(),
        )
    by_permission: ColumnElement[bool] | None = None
    if permission:
        by_permission = or_(
            a.c.role == Role.SUPER_ADMIN,
            a.c.permissions.like(bindparam("needle"), escape=LIKE_ESCAPE),
        )
    conditions = [c for c in (by_role, by_permission) if c is not None]
    stmt = SELECT_ACCOUNT.where(a.c.is_active == true(), a.c.email_verified_at.is_not(None))
    if conditions:
        stmt = stmt.where(or_(*conditions) if len(conditions) > 1 else conditions[0])
    return stmt.order_by(a.c.id)


def _holds(account: Account, permission: str) -> bool:
    return account.role == Role.SUPER_ADMIN or permission in account.permissions


def _role_matches(account: Account, role: str | None, agency_id: int | None) -> bool:
    if role is None and agency_id is None:
        return False
    return (role is None or account.role == role) and (
        agency_id is None or account.agency_id == agency_id
    )
