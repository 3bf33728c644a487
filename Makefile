# memvault developer commands. `make test` is what the README and CI run.
#
#   make setup             .venv + pip install -e '.[test]' (+ $MEMVAULT_EXTRAS)
#   make test              setup, start the PostgreSQL 15/18 test servers, pytest -q -rs
#                          (-rs: every skipped test says why, e.g. no Chromium)
#   make test-reliability  the slow crash/fault/concurrency suite (tests/reliability)
#   make lint | typecheck | bench | demo | serve
#   make docs              regenerate docs/reference/ (API per domain, CLI) from the code;
#                          tests/test_docs.py fails while it is out of step
#   make pg-start | pg-stop | pg-status | pg-env
#
# Variables: PYTEST_ARGS="-k store -x"  extra pytest arguments
#            XDIST=                      run `make test` in one process (default: 4 workers)
#            ALLOW_NO_TESTS=1            treat pytest's "no tests collected" (exit 5) as success
#            SERVE_ARGS=...              arguments for `memvault serve`

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := test

VENV        := .venv
PY          := $(VENV)/bin/python
PYTEST      := $(VENV)/bin/pytest
HOSTPY      := $(shell command -v python3 || echo python3)
PGSERVERS   := $(HOSTPY) scripts/pgservers.py
PYTEST_ARGS ?=
ALLOW_NO_TESTS ?= 0
SERVE_ARGS  ?=

# Run pytest with the PG URLs exported; exit 5 (no tests collected) passes if ALLOW_NO_TESTS=1.
define run_pytest
	pg_env="$$($(PGSERVERS) start)" || { echo "make: PostgreSQL test servers failed to start" >&2; exit 1; }; \
	eval "$$pg_env"; \
	rc=0; $(PYTEST) $(1) || rc=$$?; \
	if [[ $$rc -eq 5 && "$(ALLOW_NO_TESTS)" == 1 ]]; then \
		echo "make: pytest collected no tests (exit 5) - allowed by ALLOW_NO_TESTS=1"; rc=0; \
	fi; \
	exit $$rc
endef

.PHONY: setup test test-reliability lint typecheck docs bench demo serve \
	pg-start pg-stop pg-status pg-env

setup:
	@bash scripts/setup.sh

# The suite on 4 workers, a test file per worker: the file's fixtures (servers, databases) stay
# in one process. Many tests wait on subprocesses and PostgreSQL, so 2 workers on a 2-core
# machine left a third of the CPU idle (1,780 CPU-s in 1,346 s of wall time); 4 fill it.
XDIST       ?= -n 4 --dist loadfile

test: setup
	@$(call run_pytest,-q -rs $(XDIST) $(PYTEST_ARGS))

test-reliability: setup
	@if [[ ! -d tests/reliability ]]; then \
		echo "make: no tests/reliability folder yet - nothing to run"; exit 0; fi; \
	$(call run_pytest,-q -m reliability tests/reliability $(PYTEST_ARGS))

lint: setup
	$(VENV)/bin/ruff check src tests scripts/gendocs.py
	$(VENV)/bin/ruff format --check src tests scripts/gendocs.py

typecheck: setup
	$(VENV)/bin/mypy

docs: setup
	$(PY) scripts/gendocs.py

bench: setup
	@if [[ -f bench/run.sh ]]; then bash bench/run.sh; \
	else echo "make: bench/run.sh does not exist yet - nothing to run"; fi

demo: setup
	$(VENV)/bin/memvault demo

serve: setup
	$(VENV)/bin/memvault serve --init $(SERVE_ARGS)

pg-start:
	@$(PGSERVERS) start

pg-stop:
	@$(PGSERVERS) stop

pg-status:
	@$(PGSERVERS) status

pg-env:
	@$(PGSERVERS) env
