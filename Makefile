# The two commands: `make run` (install and serve on SQLite) and `make test`
# (install and run the whole suite). Everything else is a building block.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install install-test node-deps test-deps browser-deps lint typecheck check-migrations bench clean

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

run: install node-deps
	$(BIN)/storyline serve --host $(HOST) --port $(PORT)

test: install-test test-deps
	scripts/test

# What the sign-in tests need besides Python: the certified Node OpenID
# provider (npm ci into tests/oidc/node_modules) and Debian's Chromium for
# Playwright (never a downloaded browser). As root (CI) Chromium is installed
# with apt-get; elsewhere the browser tests skip and say why.
test-deps: node-deps tests/oidc/node_modules/.package-lock.json browser-deps

# The pages' front-end libraries (htmx) and the accessibility checker of the
# browser tests (axe-core), pinned in package.json and served from
# node_modules, never committed. Without npm the pages still work: they
# leave the scripts out, and the accessibility checks skip.
node-deps:
	@if [ -f node_modules/.package-lock.json ] && [ node_modules/.package-lock.json -nt package-lock.json ]; then :; \
	elif command -v npm >/dev/null; then npm ci --no-audit --no-fund --loglevel=error; \
	else echo "warning: npm is missing, so the pages run without their JavaScript libraries (install Node.js and npm, then run make again)"; fi

tests/oidc/node_modules/.package-lock.json: tests/oidc/package.json tests/oidc/package-lock.json
	cd tests/oidc && npm ci --no-audit --no-fund --loglevel=error

browser-deps:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "note: /usr/bin/chromium is missing; browser tests will skip (apt-get install chromium)"; fi

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
