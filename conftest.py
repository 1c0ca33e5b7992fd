"""Fixtures shared by every test folder (tests/, plugins/*/tests, adapters/*/tests):
the public pytest plugin ``aspirasi_core.testing`` (databases on SQLite and
PostgreSQL, a fake clock, a world of accounts), named here too so it is on even
with plugin autoloading off."""

pytest_plugins = ["aspirasi_core.testing"]
