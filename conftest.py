"""Fixtures shared by every test folder (tests/, plugins/*/tests, adapters/*/tests):
the databases (SQLite and PostgreSQL) of tests/db_fixtures.py."""

pytest_plugins = ["tests.db_fixtures"]
