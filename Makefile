# The Makefile is the contract: `make run` and `make test` work on a fresh machine.
VENV ?= .venv
PYTHON := $(VENV)/bin/python
MANAGE := $(PYTHON) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint dockerfile-lint format migrations-check worker bench clean help messages screenshots

help:
	@echo "make run              the site on http://$(HOST):$(PORT) (SQLite, demo letter, emails in the terminal)"
	@echo "make test             the whole test suite"
	@echo "make lint             ruff lint and format check, and hadolint on the Dockerfile"
	@echo "make migrations-check fail if models and migrations disagree"
	@echo "make worker           the background worker that sends email"
	@echo "make bench            benchmarks (PostgreSQL and gunicorn)"
	@echo "make messages         update and compile the Spanish and French catalogues (needs gettext)"
	@echo "make screenshots      phone and desktop screenshots of every page into docs/screenshots/ (needs chromium)"

$(VENV)/.runtime: requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt $(VENV)/.runtime
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

run: $(VENV)/.runtime
	$(MANAGE) migrate --no-input
	$(MANAGE) create_demo_letter
	@echo "Undersigned is at http://$(HOST):$(PORT)/ (admin at /admin/; create an account with: $(MANAGE) createsuperuser)"
	@echo "The email worker runs alongside: emails are printed here within a second. Ctrl-C stops both."
	@trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(MANAGE) db_worker --no-reload --interval 1 & worker=$$!; \
	$(MANAGE) runserver $(HOST):$(PORT)

test: $(VENV)/.dev
	$(PYTHON) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev dockerfile-lint
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

migrations-check: $(VENV)/.runtime
	$(MANAGE) makemigrations --check --dry-run

# First queue again any email whose task a killed worker left behind.
worker: $(VENV)/.runtime
	$(MANAGE) requeue_emails
	$(MANAGE) db_worker

# Each script measures one thing against PostgreSQL and gunicorn and prints its
# table; add yours to BENCH_SCRIPTS. BENCH_ARGS go to every script
# (e.g. BENCH_ARGS="--duration 5"). Needs wrk (bench/run.py installs Debian's
# package if missing). Results: bench/RESULTS.md; charts: bench/out/*.svg.
BENCH_SCRIPTS ?= bench/run.py bench/email_throughput.py
BENCH_ARGS ?=
bench: $(VENV)/.dev
	@for script in $(BENCH_SCRIPTS); do $(PYTHON) $$script $(BENCH_ARGS) || exit 1; done

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache

# The Dockerfile, with hadolint from requirements-dev.txt: any warning fails.
dockerfile-lint: $(VENV)/.dev
	$(VENV)/bin/hadolint --failure-threshold style Dockerfile

# Translations: collect new strings into locale/*/django.po, then compile the
# .mo files that are committed beside them (a test checks they match).
messages: $(VENV)/.runtime
	$(MANAGE) makemessages -l es -l fr --no-obsolete --ignore=".venv/*" --ignore="tests/*" --ignore="bench/*" --ignore="docs/*" --ignore="staticfiles/*"
	$(MANAGE) compilemessages --ignore=".venv"

screenshots: $(VENV)/.dev
	$(PYTHON) docs/screenshots.py
