# The Makefile is the contract: `make run` and `make test` work on a fresh machine.
VENV ?= .venv
PYTHON := $(VENV)/bin/python
MANAGE := $(PYTHON) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000
# The address emailed links point at: the one `make run` serves (override with
# SITE_URL=... for a tunnel or another name).
SITE_URL ?= http://$(HOST):$(PORT)

.PHONY: run test fuzz lint dockerfile-lint format migrations-check worker bench clean help messages screenshots lock lock-check audit

help:
	@echo "make run              the site on http://$(HOST):$(PORT) (SQLite, demo letter, emails in the terminal; PORT=, HOST=)"
	@echo "make test             the whole test suite"
	@echo "make lint             ruff, import-linter (the shape of signatures/), mypy, and hadolint on the Dockerfile"
	@echo "make fuzz             5,000 hostile requests against a live gunicorn (FUZZ_REQUESTS, FUZZ_SECONDS)"
	@echo "make migrations-check fail if models and migrations disagree"
	@echo "make worker           the background worker that sends email"
	@echo "make bench            benchmarks (PostgreSQL and gunicorn)"
	@echo "make messages         update and compile the Spanish and French catalogues (needs gettext)"
	@echo "make screenshots      phone and desktop screenshots of every page into docs/screenshots/ (needs chromium)"
	@echo "make lock             regenerate requirements*.txt (every dependency, with hashes) from requirements*.in"
	@echo "make lock-check       fail if requirements*.txt no longer follow from requirements*.in"
	@echo "make audit            check the locked dependencies against known vulnerabilities (needs the network)"

# The locks carry a hash for every file of every dependency: pip refuses
# anything else, so every machine installs exactly what was reviewed.
$(VENV)/.runtime: requirements.txt
	@pkg-config --exists icu-uc || { echo "PyICU builds against the system ICU: apt-get install libicu-dev pkg-config g++"; exit 1; }
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --require-hashes -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt $(VENV)/.runtime
	$(VENV)/bin/pip install --quiet --require-hashes -r requirements-dev.txt
	touch $@

run: $(VENV)/.runtime
	$(MANAGE) migrate --no-input
	$(MANAGE) create_demo_letter --with-signatories 200
	@echo "Undersigned is at http://$(HOST):$(PORT)/ (admin at /admin/; create an account with: $(MANAGE) createsuperuser)"
	@echo "The email worker and the jobs worker run alongside: emails are printed here within a second. Ctrl-C stops all."
	@trap 'kill $$worker $$jobs 2>/dev/null' EXIT INT TERM; \
	export SITE_URL='$(SITE_URL)'; \
	$(MANAGE) send_emails --verbosity 0 & worker=$$!; \
	$(MANAGE) db_worker --no-reload --interval 1 & jobs=$$!; \
	$(MANAGE) runserver $(HOST):$(PORT)

test: $(VENV)/.dev
	$(PYTHON) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev dockerfile-lint
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

format: $(VENV)/.dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# The live fuzz suite at full size: 5,000 hostile requests against gunicorn, bounded in time.
FUZZ_REQUESTS ?= 5000
FUZZ_SECONDS ?= 300
fuzz: $(VENV)/.dev
	FUZZ_REQUESTS=$(FUZZ_REQUESTS) FUZZ_SECONDS=$(FUZZ_SECONDS) $(PYTHON) -m pytest tests/test_fuzz_live.py $(PYTEST_ARGS)

migrations-check: $(VENV)/.runtime
	$(MANAGE) makemigrations --check --dry-run

# Sends queued emails; an email a killed worker left claimed is taken over when its lease runs out.
worker: $(VENV)/.runtime
	$(MANAGE) send_emails

# Each script measures one thing against PostgreSQL and gunicorn and prints its
# table; add yours to BENCH_SCRIPTS. BENCH_ARGS go to every script
# (e.g. BENCH_ARGS="--duration 5"). Needs wrk (bench/run.py installs Debian's
# package if missing). Results: bench/RESULTS.md; charts: bench/out/*.svg.
BENCH_SCRIPTS ?= bench/run.py bench/email_throughput.py bench/impersonation.py bench/import_signatures.py
BENCH_ARGS ?=
bench: $(VENV)/.dev
	@for script in $(BENCH_SCRIPTS); do $(PYTHON) $$script $(BENCH_ARGS) || exit 1; done

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache

# The locks are resolved against PyPI alone, whatever this machine's pip
# configuration adds (local indexes, find-links, constraints), so that the
# hashes they carry are PyPI's and a clean machine can install them. Existing
# pins are kept; LOCK_ARGS="--upgrade" (or "--upgrade-package NAME") moves them.
LOCK_ARGS ?=
PIP_COMPILE := env -u PIP_FIND_LINKS -u PIP_INDEX_URL -u PIP_EXTRA_INDEX_URL -u PIP_CONSTRAINT \
	PIP_CONFIG_FILE=/dev/null CUSTOM_COMPILE_COMMAND="make lock" \
	$(VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links $(LOCK_ARGS)
lock: $(VENV)/.dev
	$(PIP_COMPILE) --output-file requirements.txt requirements.in
	$(PIP_COMPILE) --output-file requirements-dev.txt requirements-dev.in

# A .in file changed without `make lock`: compile a copy of the locks (their
# pins kept) in a scratch folder and compare.
lock-check: $(VENV)/.dev
	@scratch=$$(mktemp -d) && trap 'rm -rf "$$scratch"' EXIT \
	&& cp requirements.in requirements-dev.in requirements.txt requirements-dev.txt "$$scratch" \
	&& cd "$$scratch" \
	&& $(PIP_COMPILE:$(VENV)/%=$(CURDIR)/$(VENV)/%) --output-file requirements.txt requirements.in \
	&& $(PIP_COMPILE:$(VENV)/%=$(CURDIR)/$(VENV)/%) --output-file requirements-dev.txt requirements-dev.in \
	&& diff -u "$(CURDIR)/requirements.txt" requirements.txt \
	&& diff -u "$(CURDIR)/requirements-dev.txt" requirements-dev.txt \
	|| { echo "requirements*.txt do not follow from requirements*.in: run make lock"; exit 1; }

# Known vulnerabilities in the locked versions, from the PyPI advisory feed
# (so it needs the network, and CI does not run it).
audit: $(VENV)/.dev
	$(VENV)/bin/pip-audit --strict --require-hashes --disable-pip --vulnerability-service pypi \
		-r requirements.txt -r requirements-dev.txt

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
