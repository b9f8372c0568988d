# The two commands: `make run` (install and serve on SQLite) and `make test`
# (install and run the whole suite). Everything else is a building block.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install install-test lint typecheck check-migrations bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(VENV)/.installed $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

run: install
	$(BIN)/storyline serve --host $(HOST) --port $(PORT)

test: install-test
	scripts/test

lint: install-test
	$(BIN)/ruff check src tests scripts
	$(BIN)/ruff format --check src tests scripts

typecheck: install-test
	$(BIN)/mypy

check-migrations: install-test
	scripts/check-migrations

bench: install-test
	$(BIN)/storyline bench

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
