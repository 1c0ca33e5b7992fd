# Aspirasi: `make run` starts the demo, `make test` runs the tests, `make lint` checks.

SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
UV_VERSION := 0.13.9
PY := .venv/bin/python
BIN := .venv/bin
# The demo shows the province's social links as a real deployment would (settings only).
DEMO_SOCIAL := Instagram=https://instagram.com/kaltimprov,YouTube=https://www.youtube.com/@kaltimprov
DEMO_ENV := ASPIRASI_DEMO=1 ASPIRASI_DATABASE_URL=sqlite:///var/aspirasi.db ASPIRASI_SOCIAL_LINKS=$(DEMO_SOCIAL)

.PHONY: install test lint run docs bench bench-quick

## install: the workspace (core, web app, bundled plugins, dev tools) into .venv, exactly as locked
install:
	@if ! command -v "$(UV)" >/dev/null 2>&1; then \
		echo "uv not found: installing uv $(UV_VERSION) into .tools/"; \
		python3 -m venv .tools && .tools/bin/python -m pip install --quiet "uv==$(UV_VERSION)"; \
	fi
	$(UV) sync --all-packages --frozen

## test: every test (unit, integration on SQLite and PostgreSQL, web, plugins)
test: install
	$(PY) -m pytest -q -p no:randomly

## lint: ruff (lint and format, SLF001 included), import-linter contracts, mypy on the core
## and the web adapter, and the check that no code imports ctypes, mmap or another package's private modules
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy src/aspirasi_core adapters/litestar_web/src
	$(PY) -m pytest -q -p no:randomly -p no:cacheprovider tests/unit/test_no_private_imports.py

## run: the demo on SQLite at var/aspirasi.db, with demo accounts and the dev mailbox
run: install
	mkdir -p var
	$(DEMO_ENV) $(BIN)/aspirasi db upgrade
	$(DEMO_ENV) $(BIN)/aspirasi demo
	$(DEMO_ENV) $(BIN)/aspirasi serve

## docs: regenerate the settings table of docs/configuration.md
docs:
	$(PY) tests/unit/test_settings_docs.py

## bench: the full benchmark (10k, 100k, 1M messages; SQLite and PostgreSQL) → bench/results/
BENCH_SIZES ?= 10k,100k,1m
bench: install
	$(PY) -m bench.run --sizes $(BENCH_SIZES) --out bench/results

## bench-quick: 10k only, short runs (CI, < 5 min): fails on request errors, never on timings
bench-quick: install
	$(PY) -m bench.run --quick --out var/bench/results
