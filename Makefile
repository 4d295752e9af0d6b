# Concord — the two commands a new developer needs are `make run` and `make test`.
# Everything else (worker, beat, bench, lint, schema) builds on the same set-up:
# a .venv made with Python 3.11, the project installed with its dev extra, and a
# .env holding DEBUG=true and a random SECRET_KEY. All of it is created on first use,
# so every target works on a fresh clone.

SHELL := /bin/sh
.DEFAULT_GOAL := help

PORT ?= 8000
PYTEST_ARGS ?=
BENCH_ARGS ?=

# Python 3.11 if it is installed under that name, else whatever python3 is (checked below).
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
MANAGE := $(PY) manage.py

.PHONY: help run test bench worker beat lint schema setup lock clean-venv

help:
	@echo "make run      set up (venv, .env, database, demo data) and serve on 127.0.0.1:$(PORT)"
	@echo "make test     the whole test suite (SQLite, or PostgreSQL + Redis when DATABASE_URL/REDIS_URL are set)"
	@echo "make bench    seed a large data set and measure pages and API (BENCH_ARGS='--customers 100000')"
	@echo "make worker   a Celery worker (needs REDIS_URL)"
	@echo "make beat     the Celery beat scheduler (needs REDIS_URL)"
	@echo "make lint     ruff, Django's system checks, missing migrations"
	@echo "make schema   validate the OpenAPI schema"
	@echo "make lock     upgrade every dependency to its newest allowed version (requirements*.lock)"

# --- set-up -----------------------------------------------------------------------

$(PY):
	@test -n "$(PYTHON)" || { echo "Python 3.11 is needed: install python3.11 (or python3 >= 3.11)." >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
		echo "$(PYTHON) is Python $$($(PYTHON) -c 'import platform; print(platform.python_version())'); Concord needs 3.11 or newer." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

# The exact versions (and hashes) of requirements-dev.lock, then the project itself;
# again only when the lock or pyproject.toml changed since the last install.
$(VENV)/.installed: requirements-dev.lock pyproject.toml | $(PY)
	$(PY) -m pip install --disable-pip-version-check --quiet --upgrade pip
	$(PY) -m pip install --disable-pip-version-check --quiet --require-hashes -r requirements-dev.lock
	$(PY) -m pip install --disable-pip-version-check --quiet --no-deps -e .
	@touch $@

# Local settings for the embedded set-up; never committed. The settings refuse to
# start without a real SECRET_KEY once DEBUG is off, so one is generated here too.
.env: | $(PY)
	@printf 'DEBUG=true\nSECRET_KEY=%s\n' "$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" > $@
	@echo "Created .env (DEBUG=true and a random SECRET_KEY)."

setup: $(VENV)/.installed .env
	@mkdir -p var/mail var/media var/static

# --- the two commands ---------------------------------------------------------------

run: setup
	$(MANAGE) migrate --noinput
	@if [ ! -f var/.seeded ]; then \
		$(MANAGE) seed_demo && touch var/.seeded; \
	fi
	@echo ""
	@echo "Concord: http://127.0.0.1:$(PORT)/   (stop with Ctrl-C)"
	@echo "Demo logins, password 'demo' for all:"
	@echo "  rep             Sales rep         (owns some customers)"
	@echo "  rep2            Sales rep         (owns others)"
	@echo "  salesmanager    Sales manager"
	@echo "  clerk           Finance clerk"
	@echo "  financemanager  Finance manager   (credit limits)"
	@echo "  admin           Admin             (also /admin/)"
	@echo ""
	$(MANAGE) runserver 127.0.0.1:$(PORT)

# Browser tests need Chromium (Debian's, never Playwright's download). Playwright's
# sync API runs an event loop in the test thread; without DJANGO_ALLOW_ASYNC_UNSAFE
# the ORM calls of fixtures raise SynchronousOnlyOperation.
test: setup
	@if command -v chromium >/dev/null 2>&1; then \
		echo "Browser tests (tests/e2e): running with $$(command -v chromium)."; \
		e2e=""; \
	else \
		echo "Browser tests (tests/e2e): SKIPPED — chromium is not installed (Debian: apt-get install chromium)."; \
		e2e="--ignore=tests/e2e"; \
	fi; \
	echo "Database: $${DATABASE_URL:-SQLite (set DATABASE_URL to run on PostgreSQL)}" | sed 's#//[^@/]*@#//***@#'; \
	echo "Broker: $${REDIS_URL:-none, tasks run eagerly (set REDIS_URL to run the worker tests)}"; \
	DJANGO_ALLOW_ASYNC_UNSAFE=true $(BIN)/pytest $$e2e $(PYTEST_ARGS)

# --- everything else ----------------------------------------------------------------

bench: setup
	$(PY) -m bench $(BENCH_ARGS)

worker: setup
	$(BIN)/celery -A config worker -l info

beat: setup
	$(BIN)/celery -A config beat -l info --schedule var/celerybeat-schedule

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MANAGE) check
	$(MANAGE) makemigrations --check --dry-run

schema: setup
	$(MANAGE) spectacular --file var/schema.yml --validate --fail-on-warn
	@echo "OpenAPI schema is valid: var/schema.yml"

# The lock files: requirements.lock (what the app runs on: the Docker image) and
# requirements-dev.lock (the same versions plus the dev extra: make setup, CI), both
# compiled from pyproject.toml with hashes. `make lock` upgrades every pin to the newest
# version pyproject.toml allows; `make lock LOCK_ARGS=--upgrade-package=django` only one.
LOCK_ARGS ?= --upgrade
UV_COMPILE = $(BIN)/uv pip compile pyproject.toml --generate-hashes --universal --python-version 3.11 --quiet

lock: setup
	$(UV_COMPILE) $(LOCK_ARGS) -o requirements.lock
	$(UV_COMPILE) $(LOCK_ARGS) --extra dev -c requirements.lock -o requirements-dev.lock
	@$(MAKE) --no-print-directory setup
	@echo "Locked: review 'git diff requirements*.lock', run make test, commit both files."

clean-venv:
	rm -rf $(VENV)
