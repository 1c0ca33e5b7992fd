"""The accounts' columns and row mapper, shared by the account and token
repositories.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from ...domain.model import Account
from ..tables import accounts

a = accounts

# Everything but the NIK cipher text and index: they are read only on purpose.
ACCOUNT_COLUMNS = (
    a.c.id,
    a.c.email,
    a.c.username,
    a.c.full_name,
    a.c.role,
    a.c.agency_id,
    a.c.permissions,
    a.c.is_active,
    a.c.email_verified_at,
    a.c.language,
    a.c.created_at,
    a.c.password_hash,
    a.c.nik_masked,
    a.c.auth_version,
    a.c.deleted_at,
    a.c.must_change_password,
    a.c.pending_email,
)
SELECT_ACCOUNT = select(*ACCOUNT_COLUMNS)


def account_from_row(row: Any) -> Account:
    """An :class:`Account` from a row with the columns of ``ACCOUNT_COLUMNS``."""
    return Account(
        id=row.id,
        email=row.email,
        username=row.username,
        full_name=row.full_name,
        role=row.role,
        agency_id=row.agency_id,
        permissions=frozenset(json.loads(row.permissions)),
        is_active=bool(row.is_active),
        email_verified_at=row.email_verified_at,
        language=row.language,
        created_at=row.created_at,
        password_hash=row.password_hash,
        nik_masked=row.nik_masked,
        auth_version=row.auth_version,
        deleted_at=row.deleted_at,
        must_change_password=bool(row.must_change_password),
        pending_email=row.pending_email,
    )
