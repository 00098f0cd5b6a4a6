# 共治 Community — `make run` serves the demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
VENDOR := static/vendor

# Python dependencies install from the lock files (exact versions with hashes),
# pinned from pyproject.toml's ranges by `make lock`; the project itself is an
# editable install on top, without dependencies of its own.
# uv's universal resolution writes environment markers for every Python and platform
# (pip-compile writes only the running interpreter's view: the lock then failed on
# Python 3.14, and on Debian 12's 3.11.2); tests/test_packaging.py proves the result.
LOCK_FLAGS := --quiet --universal --generate-hashes --custom-compile-command "make lock"

.PHONY: run test test-deep install install-dev assets translations messages db chromium lint audit bench wrk clean lock wheel

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet --require-hashes -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e .
	@$(BIN)/pip check >/dev/null || { $(BIN)/pip check; echo "The lock files miss a dependency of pyproject.toml: run make lock."; exit 1; }
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	@$(BIN)/pip check >/dev/null || { $(BIN)/pip check; echo "The lock files miss a dependency of pyproject.toml: run make lock."; exit 1; }
	touch $@ $(VENV)/.installed

# Re-pin every Python dependency (newest versions within pyproject.toml's ranges),
# with hashes and markers; commit both files. uv is needed for this target only.
lock: | $(BIN)/activate
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile $(LOCK_FLAGS) --upgrade -o requirements.txt pyproject.toml
	$(BIN)/uv pip compile $(LOCK_FLAGS) --upgrade --extra dev -o requirements-dev.txt pyproject.toml

# dist/community-<version>-py3-none-any.whl: the app with its templates, static files
# (vendor included), migrations and compiled catalogues (setup.py); install it on top
# of `pip install --require-hashes -r requirements.txt` with --no-deps (README).
wheel: assets translations
	rm -rf build dist
	$(BIN)/pip wheel --quiet --no-deps -w dist .
	rm -rf build

install: $(VENV)/.installed assets translations
install-dev: $(VENV)/.installed-dev assets translations

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

assets: node_modules/.package-lock.json
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx.min.js
	cp node_modules/@picocss/pico/css/pico.min.css $(VENDOR)/pico.min.css
	node scripts/icons.mjs

translations: $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -d community/translations 2>&1 | grep -v "^compiling" || true
	@test -f community/translations/zh_Hans_CN/LC_MESSAGES/messages.mo

# Extract new strings and update both catalogues (then translate zh_Hans_CN).
messages: $(VENV)/.installed
	$(BIN)/python scripts/messages.py

# Local keys for `make run` and `flask --app app ...`, written once into
# instance/config.py (git-ignored; create_app loads it), with the development
# PUBLIC_BASE_URL the QR poster prints (added to an older file too, so the script
# runs every time; it keeps what is there). Production sets SECRET_KEY,
# COMMUNITY_DATA_KEY and PUBLIC_BASE_URL in the environment.
instance/config.py: FORCE
	$(PYTHON) scripts/instance_config.py

FORCE:

db: install instance/config.py
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty

run: db
	@echo "Serving http://127.0.0.1:5000 (development server; see README for gunicorn) with the worker (flask worker)"
	$(BIN)/python scripts/run_dev.py --host 127.0.0.1 --port 5000

# The browser tests render Chinese as users see it: with a CJK font (Noto CJK), the
# width of 已核实 / 清点人数 decides where a label wraps at 360 px.
chromium:
	@if [ ! -x /usr/bin/chromium ] || ! dpkg -s fonts-noto-cjk >/dev/null 2>&1; then \
		if [ "$$(id -u)" = "0" ]; then \
			apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-noto-cjk; \
		else echo "Chromium or fonts-noto-cjk is missing and we are not root: apt-get install chromium fonts-noto-cjk (browser tests need both)."; fi; \
	fi

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Supply chain (scripts/audit.py): bandit on community/, pip-audit on both lock files
# (without pip: nothing is installed), npm audit on package-lock.json. Fails on any
# finding not reviewed in audit-ignore.toml. A vulnerability service that cannot
# answer leaves the dependencies NOT AUDITED (one line says so); AUDIT_STRICT=1
# makes that a failure too.
audit: $(VENV)/.installed-dev
	$(BIN)/python scripts/audit.py

# The suite runs on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL — both
# at once (scripts/test_suites.sh; TEST_SERIAL=1 runs them one after the other).
test: install-dev chromium lint audit
	scripts/test_suites.sh

# The sweeps (crawler, object access, mass assignment, form fuzzing, stored XSS)
# longer and wider than make test runs them: every role and every route, more
# pages per crawl, many more generated examples.
test-deep: install-dev chromium
	SWEEP_DEEP=1 CRAWL_MAX_PAGES=600 CRAWL_MAX_VARIANTS=8 CRAWL_MAX_PER_SHAPE=20 \
		scripts/test_suites.sh tests/sweeps tests/core/test_input_sweep.py

# wrk drives the benchmark (Debian package; installed when missing and root).
wrk:
	@if ! command -v wrk >/dev/null; then \
		if [ "$$(id -u)" = "0" ]; then \
			apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk; \
		else echo "wrk is missing and we are not root: apt-get install wrk"; exit 1; fi; \
	fi

# Pages under gunicorn + wrk against a hello world; writes BENCHMARKS.md.
# BENCH_ARGS="--sites 50000 --duration 5"; BENCH_DATABASE_URL for PostgreSQL.
bench: install-dev wrk
	$(BIN)/python tests/bench/bench_pages.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules $(VENDOR) instance/test-* build dist
