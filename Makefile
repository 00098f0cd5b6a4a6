# 共治 Community — `make run` serves the demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
VENDOR := static/vendor

# Python dependencies install from the lock files (exact versions with hashes),
# pinned from pyproject.toml's ranges by `make lock`; the project itself is an
# editable install on top, without dependencies of its own.
LOCK_FLAGS := --quiet --generate-hashes --strip-extras --no-emit-index-url --no-emit-find-links

.PHONY: run test install install-dev assets translations messages db chromium lint bench clean lock

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
# with hashes; commit both files. pip-tools is needed for this target only.
lock: | $(BIN)/activate
	$(BIN)/pip install --quiet pip-tools
	$(BIN)/pip-compile $(LOCK_FLAGS) --upgrade -o requirements.txt pyproject.toml
	$(BIN)/pip-compile $(LOCK_FLAGS) --upgrade --extra dev -o requirements-dev.txt pyproject.toml

install: $(VENV)/.installed assets translations
install-dev: $(VENV)/.installed-dev assets translations

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

assets: node_modules/.package-lock.json
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx.min.js
	cp node_modules/@picocss/pico/css/pico.min.css $(VENDOR)/pico.min.css

translations: $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -d community/translations 2>&1 | grep -v "^compiling" || true
	@test -f community/translations/zh_Hans_CN/LC_MESSAGES/messages.mo

# Extract new strings and update both catalogues (then translate zh_Hans_CN).
messages: $(VENV)/.installed
	$(BIN)/python scripts/messages.py

# Local keys for `make run`, made once and kept in instance/ (git-ignored).
# Production sets SECRET_KEY and COMMUNITY_DATA_KEY in the environment.
instance/secret_key:
	mkdir -p instance
	$(PYTHON) -c "import secrets;print(secrets.token_hex(32))" > $@
	chmod 600 $@

instance/data_key:
	mkdir -p instance
	$(PYTHON) -c "import os,base64;print(base64.urlsafe_b64encode(os.urandom(32)).decode())" > $@
	chmod 600 $@

LOCAL_ENV = SECRET_KEY="$${SECRET_KEY:-$$(cat instance/secret_key)}" \
	COMMUNITY_DATA_KEY="$${COMMUNITY_DATA_KEY:-$$(cat instance/data_key)}"

db: install instance/secret_key instance/data_key
	$(LOCAL_ENV) $(FLASK) db upgrade
	$(LOCAL_ENV) $(FLASK) seed-demo --if-empty

run: db
	@echo "Serving http://127.0.0.1:5000 (development server; see README for gunicorn)"
	$(LOCAL_ENV) $(FLASK) run --host 127.0.0.1 --port 5000

chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		if [ "$$(id -u)" = "0" ]; then \
			apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
		else echo "Chromium is missing (/usr/bin/chromium) and we are not root: browser tests will be skipped."; fi; \
	fi

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The suite runs on SQLite, then again on PostgreSQL when TEST_DATABASE_URL is set.
test: install-dev chromium lint
	@echo "== test suite on SQLite"
	env -u TEST_DATABASE_URL $(BIN)/pytest -q
	@if [ -n "$${TEST_DATABASE_URL:-}" ]; then \
		echo "== test suite on $${TEST_DATABASE_URL%%@*}@..."; \
		$(BIN)/pytest -q; \
	fi

bench: install-dev
	$(BIN)/python tests/bench/bench_pages.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules $(VENDOR) instance/test-*
