"""Tracking by NIK reads one account's messages, however empty SQLite's statistics are.

The app never runs ``ANALYZE``, so SQLite plans without statistics. Since the NIK
index stopped being unique (a NIK is reserved only by a verified account,
``0005_account_privacy``), SQLite guessed a NIK could match many accounts and started
from the messages' ``(confidential, status, id)`` index: every tracking look-up read
the whole table (43 ms at 10k messages instead of 0.15 ms).
"""

from __future__ import annotations

from aspirasi_core.storage.repositories.message_reads import _TRACK


def test_tracking_starts_from_the_verified_account_of_the_nik(sqlite_database) -> None:
    engine = sqlite_database.engine
    compiled = _TRACK.compile(dialect=engine.dialect)
    params = compiled.construct_params({"nik_index": b"\0" * 32, "limit": 20})
    args = tuple(params[name] for name in compiled.positiontup or ())
    with engine.connect() as conn:
        plan = [
            str(row[-1])
            for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled), args)
        ]
    joined = " | ".join(plan)
    assert "SEARCH accounts USING INDEX uq_accounts_nik_index_verified" in joined, joined
    assert "SEARCH messages USING INDEX ix_messages_author_id" in joined, joined
    assert not any(step.startswith("SCAN messages") for step in plan), joined
