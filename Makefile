# Thin wrappers: every step a fresh machine needs lives here or in pyproject.toml.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_USERS ?= 2000
DEMO_SEED ?= 7
BIND ?= 127.0.0.1:8000

.PHONY: setup run test lint format bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev,oracle]"
	touch $@

# Demo data into embedded SQLite (var/), personas refreshed, then the service on $(BIND).
run: setup
	$(BIN)/personapulse demo --users $(DEMO_USERS) --seed $(DEMO_SEED)
	$(BIN)/personapulse refresh
	$(BIN)/personapulse serve --bind $(BIND)

test: setup
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: setup
	$(BIN)/python bench/bench_ingest.py
	$(BIN)/python bench/bench_parsers.py
	$(BIN)/python bench/bench_personas.py
	$(BIN)/python bench/eval_wholesale.py
	$(BIN)/python bench/eval_sentiment.py
	$(BIN)/python bench/bench_sentiment_speed.py
	$(BIN)/python bench/bench_journeys.py

clean:
	rm -rf var .pytest_cache .ruff_cache
