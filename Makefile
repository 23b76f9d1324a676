# `make run`: the hub on its embedded defaults. `make test`: lint, types and tests.
# Both create .venv when it is missing and install what they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench bench-discovery schema clean

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

bench: $(VENV)/.test-installed
	$(BIN)/python -m bench

# Discovery throughput over 100,000 households (SIZE=10000 for a quick run).
bench-discovery: $(VENV)/.test-installed
	$(BIN)/python -m bench.discovery $(if $(SIZE),--size $(SIZE))

schema: $(VENV)/.run-installed
	$(BIN)/hub schema export

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache hub.db hub.db-*
