# psirt — make help lists the targets. The two that matter: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
TEST_DATABASE_URL ?=
PROD_ENV := PSIRT_DEV=0 SECRET_KEY=check-deploy-$$(head -c 48 /dev/urandom | base64 | tr -d '/+=\n') \
	PSIRT_ENCRYPTION_KEYS=$$($(BIN)/python -c 'from psirt.lib.config import new_fernet_key as k; print(k())') \
	PSIRT_AUDIT_KEYS=$$($(BIN)/python -c 'from psirt.lib.config import new_fernet_key as k; print(k())') \
	ALLOWED_HOSTS=security.example.com PSIRT_BASE_URL=https://security.example.com \
	EMAIL_URL=smtp://localhost:25 DATABASE_URL=sqlite:///$(CURDIR)/var/check-deploy.sqlite3 \
	PSIRT_SIGNING_KEY_FILE=$(CURDIR)/var/lint/check-deploy-signing.asc

.PHONY: help run test lint format bench install install-dev messages lock clean screenshots docs-env audit mutation

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[1m%-14s\033[0m %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-installed: requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e . 2>/dev/null || $(BIN)/pip install --quiet --no-deps -e .
	@touch $@

$(VENV)/.dev-installed: requirements-dev.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e . 2>/dev/null || $(BIN)/pip install --quiet --no-deps -e .
	@touch $@ $(VENV)/.run-installed

install: $(VENV)/.run-installed ## Create .venv and install the locked runtime dependencies

install-dev: $(VENV)/.dev-installed ## Install the locked development dependencies too

run: install ## Migrate, load demo data and serve on http://127.0.0.1:$(PORT) (SQLite, dev mode)
	PSIRT_DEV=$${PSIRT_DEV:-1} PORT=$(PORT) $(BIN)/psirt up

lint: install-dev ## ruff, formatting, mypy, migrations, the translations and the deploy check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy psirt tools $$(ls bench/*.py 2>/dev/null)
	PSIRT_DEV=1 PSIRT_VAR_DIR=$(CURDIR)/var/lint $(BIN)/psirt makemigrations --check --dry-run
	$(BIN)/python tools/messages.py check
	@# A throwaway signing key: production without one gets a deploy warning (psirt.W001), which is the point.
	@mkdir -p var/lint && test -s var/lint/check-deploy-signing.asc || $(BIN)/python -c \
	  'import pysequoia, sys; open(sys.argv[1], "w").write(str(pysequoia.Tsk.generate("check-deploy")))' \
	  var/lint/check-deploy-signing.asc
	$(PROD_ENV) $(BIN)/psirt check --deploy --fail-level WARNING

# fail: an audit that could not ask the vulnerability service fails (exit 3); warn: it only warns (CI offline).
AUDIT_UNREACHABLE ?= fail

audit: install-dev ## Known vulnerabilities of the locked dependencies (pip-audit); fails on one with a fix
	$(BIN)/python tools/audit_dependencies.py --unreachable=$(AUDIT_UNREACHABLE) requirements.lock

format: install-dev ## Reformat the code
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint ## Lint, then the whole test suite on SQLite and on PostgreSQL
	@echo "== tests on SQLite =="
	env -u TEST_DATABASE_URL $(BIN)/pytest -n 2 -q
	@url="$(TEST_DATABASE_URL)"; \
	if [ -z "$$url" ] && (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then url=postgres://postgres@127.0.0.1:5432/test; fi; \
	if [ -z "$$url" ]; then \
	  echo; echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; \
	  echo "!!  PostgreSQL leg SKIPPED: TEST_DATABASE_URL is unset and nothing listens on   !!"; \
	  echo "!!  127.0.0.1:5432. Only SQLite was tested.                                      !!"; \
	  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; \
	else \
	  echo "== tests on PostgreSQL ($$url) =="; \
	  TEST_DATABASE_URL="$$url" PSIRT_TEST_RUN_ID="$$$$" $(BIN)/pytest -n 2 -q -m "not browser"; \
	fi

bench: install-dev ## Run every benchmark (each prints a RESULT line); installs wrk and nginx when missing
	@command -v wrk >/dev/null 2>&1 && { test -x /usr/sbin/nginx || command -v nginx >/dev/null 2>&1; } || \
	  { DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null && apt-get install -y -q wrk nginx >/dev/null; }
	@for b in bench/[a-z]*.py; do echo "== $$b"; $(BIN)/python $$b $(BENCH_ARGS) || exit 1; done

MODULE ?=
TESTS ?=

mutation: install-dev ## Mutation-test one module: make mutation MODULE=psirt/lib/business_days.py [TESTS="…"]
	@test -n "$(MODULE)" || { echo "Name the module: make mutation MODULE=psirt/lib/business_days.py"; exit 2; }
	env -u TEST_DATABASE_URL $(BIN)/python tools/mutation.py run $(MODULE) $(if $(TESTS),--tests $(TESTS))

docs-env: install-dev ## Regenerate the README's environment table from psirt/lib/variables.py
	$(BIN)/python -c 'import pathlib; from psirt.lib.variables import readme_with_table as t; \
	  p = pathlib.Path("README.md"); p.write_text(t(p.read_text(encoding="utf-8")), encoding="utf-8")'

messages: install-dev ## Extract and compile the translations (Simplified Chinese)
	$(BIN)/python tools/messages.py extract

lock: install-dev ## Regenerate the lock files from pyproject.toml
	$(BIN)/pip-compile -q --generate-hashes --strip-extras --allow-unsafe -o requirements.lock pyproject.toml
	$(BIN)/pip-compile -q --generate-hashes --strip-extras --allow-unsafe --extra dev -o requirements-dev.lock pyproject.toml

screenshots: install-dev ## Take the browser screenshots (var/screenshots/) of the public pages
	$(BIN)/pytest -q -m browser psirt/tests/test_browser.py

clean: ## Remove .venv and var/ (deletes the local database!)
	rm -rf $(VENV) var
