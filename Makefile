# `make run`: the hub on its embedded defaults. `make test`: lint, types and tests.
# Both create .venv when it is missing and install what they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint soak bench bench-scale bench-discovery schema clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.run-installed

run: $(VENV)/.run-installed
	$(BIN)/hub demo

lint: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -n 2

# The reliability suite's long form: each load run lasts SOAK_SECONDS (default 60); PostgreSQL
# runs need HUB_TEST_POSTGRES_URL. Each run's figures go to bench/soak-latest.jsonl.
soak: $(VENV)/.test-installed
	rm -f bench/soak-latest.jsonl
	HUB_SOAK_SECONDS=$(or $(SOAK_SECONDS),60) HUB_SOAK_REPORT=bench/soak-latest.jsonl \
		$(BIN)/pytest tests/reliability -p no:cacheprovider -q

# QUICK=1: a small population and short windows, under a minute (rough figures).
bench: $(VENV)/.test-installed
	$(BIN)/python -m bench $(if $(QUICK),--quick)

# The index at scale on PostgreSQL (HUB_BENCH_POSTGRES_URL); SIZE=N households, QUICK=1.
bench-scale: $(VENV)/.test-installed
	$(BIN)/python -m bench.scale $(if $(QUICK),--quick) $(if $(SIZE),--size $(SIZE))

# Discovery throughput over 100,000 households (SIZE=10000 for a quick run).
bench-discovery: $(VENV)/.test-installed
	$(BIN)/python -m bench.discovery $(if $(SIZE),--size $(SIZE))

schema: $(VENV)/.run-installed
	$(BIN)/hub schema export

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache hub.db hub.db-*
