# Vigil: the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PORT ?= 8000

.PHONY: run test lint format bench bench-venv bench-validation install install-dev migrate seed browser system-deps clean

# --no-compile: Python compiles each module when it is first imported; compiling every file at install (plotly's
# thousands among them) was half the install's time, and most are never imported.
$(VENV)/.installed: requirements.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required (set PYTHON=/path/to/python3.11)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet --no-compile -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(PIP) install --quiet --no-compile -r requirements-dev.txt
	@touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Web app, Celery worker and beat on embedded defaults (SQLite, SQLite-file broker), with demo data. The demo
# runs as production does (DEBUG off, collected static files, the product's own error pages), over plain HTTP
# on this machine (cookies not marked secure, hence no redirect to HTTPS and no HSTS), with a secret key generated
# once into var/ and the e-mails it sends written to var/mail/ instead of the console.
run: export DJANGO_DEBUG ?= false
run: export DJANGO_SECURE_COOKIES ?= false
run: export DJANGO_EMAIL_BACKEND ?= django.core.mail.backends.filebased.EmailBackend
run: system-deps $(VENV)/.installed
	@mkdir -p var
	@test -s var/secret-key || $(PY) -c "import secrets; print(secrets.token_urlsafe(50))" > var/secret-key
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py seed_demo
	@DJANGO_SECRET_KEY=$$(cat var/secret-key) PORT=$(PORT) PY=$(PY) ./scripts/run-dev.sh

# The whole test suite. On PostgreSQL when DATABASE_URL is set, on SQLite otherwise. It runs in TEST_WORKERS
# processes (pytest-xdist; each has its own test database, media folder and Redis database): one more than the
# cores, since many tests wait on a browser, a real worker or a proxy rather than compute. TEST_WORKERS=0 runs
# it in this process alone. The demo firm's tests run in one process (tests/conftest.py): one seed, not one each.
TEST_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))
test: $(VENV)/.installed-dev
	@mkdir -p var
	$(VENV)/bin/python -m playwright --version >/dev/null
	$(VENV)/bin/pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: $(VENV)/.installed-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: $(VENV)/.installed-dev
	$(PY) bench/inventory_list.py

# Evidently (the comparison in the validation benchmark) lives in its own virtualenv: it pins a plotly
# version Vigil does not use, so it is never installed beside Vigil.
.venv-bench/.installed:
	$(PYTHON) -m venv .venv-bench
	.venv-bench/bin/pip install --quiet evidently==0.7.23 "pandas<3" pyarrow==26.0.1
	@touch $@

bench-venv: .venv-bench/.installed

bench-validation: $(VENV)/.installed-dev bench-venv
	$(PY) bench/validation_metrics.py

# System packages (Debian): WeasyPrint's Pango, HarfBuzz and fonts for PDF reports (web and workers);
# Chromium for the browser tests (Playwright's own browser download cannot work here).
SYSTEM_PACKAGES = libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
system-deps:
	@dpkg -s $(SYSTEM_PACKAGES) >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq $(SYSTEM_PACKAGES); }

browser: system-deps
	@test -x /usr/bin/chromium || { apt-get update -qq && apt-get install -y -qq chromium; }

clean:
	rm -rf var staticfiles .pytest_cache
