"""Account privacy (issue 18): usernames and NIKs reserved only by verified
accounts, tokens grouped by log-in, a daily cap of registration mails per address.

Revision ID: 0005_account_privacy
Revises: 0007_concurrency
Create Date: 2026-12-07

* ``accounts.username`` and ``accounts.nik_index`` lose their unique constraints
  for partial unique indexes over verified accounts (``email_verified_at IS NOT
  NULL``), plus plain indexes for look-ups, and a partial index on the
  unverified accounts' ``created_at`` for the sweep that removes them. Existing
  rows are unique already, so they satisfy the looser rule.
* ``auth_tokens.login_id``: the tokens one log-in issued share it (older tokens
  have none and are logged out one by one, as before).
* ``mail_quota``: mails about registering sent per address (an HMAC) per day.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_account_privacy"
down_revision: str | Sequence[str] | None = "0007_concurrency"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VERIFIED = sa.text("email_verified_at IS NOT NULL")
UNVERIFIED = sa.text("email_verified_at IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_constraint("uq_accounts_username", type_="unique")
        batch.drop_constraint("uq_accounts_nik_index", type_="unique")
    op.create_index("ix_accounts_username", "accounts", ["username"])
    op.create_index("ix_accounts_nik_index", "accounts", ["nik_index"])
    op.create_index(
        "uq_accounts_username_verified",
        "accounts",
        ["username"],
        unique=True,
        sqlite_where=VERIFIED,
        postgresql_where=VERIFIED,
    )
    op.create_index(
        "uq_accounts_nik_index_verified",
        "accounts",
        ["nik_index"],
        unique=True,
        sqlite_where=VERIFIED,
        postgresql_where=VERIFIED,
    )
    op.create_index(
        "ix_accounts_unverified_created_at",
        "accounts",
        ["created_at"],
        sqlite_where=UNVERIFIED,
        postgresql_where=UNVERIFIED,
    )
    with op.batch_alter_table("auth_tokens") as batch:
        batch.add_column(sa.Column("login_id", sa.String(length=32), nullable=True))
    op.create_index("ix_auth_tokens_login_id", "auth_tokens", ["login_id"])
    op.create_table(
        "mail_quota",
        sa.Column("address_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("address_key", "day", name=op.f("pk_mail_quota")),
    )


def downgrade() -> None:
    op.drop_table("mail_quota")
    op.drop_index("ix_auth_tokens_login_id", table_name="auth_tokens")
    with op.batch_alter_table("auth_tokens") as batch:
        batch.drop_column("login_id")
    op.drop_index("ix_accounts_unverified_created_at", table_name="accounts")
    op.drop_index("uq_accounts_nik_index_verified", table_name="accounts")
    op.drop_index("uq_accounts_username_verified", table_name="accounts")
    op.drop_index("ix_accounts_nik_index", table_name="accounts")
    op.drop_index("ix_accounts_username", table_name="accounts")
    # Fails if two unverified accounts share a username or a NIK: remove them first.
    with op.batch_alter_table("accounts") as batch:
        batch.create_unique_constraint("uq_accounts_username", ["username"])
        batch.create_unique_constraint("uq_accounts_nik_index", ["nik_index"])
