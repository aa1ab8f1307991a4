# Everything sets itself up: a fresh machine needs Python 3.11, make and gcc (and PostgreSQL 15
# for the PostgreSQL tests). The venv is rebuilt when pyproject.toml changes.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The web app's stylesheet, built from Designsystemet's npm packages at the versions
# web/package-lock.json pins (web/build.mjs); the browser tests' axe-core comes with them.
WEB_CSS := workers/api/web/static/designsystemet.css
AXE := web/node_modules/axe-core/axe.min.js

.PHONY: install assets demo test lint format bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,embedded]'
	touch $(STAMP)

install: $(STAMP) $(WEB_CSS)

$(WEB_CSS) $(AXE): web/package.json web/package-lock.json web/build.mjs
	cd web && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build
	touch $(WEB_CSS) $(AXE)

assets: $(WEB_CSS)

demo: $(STAMP) $(WEB_CSS)
	$(BIN)/bosetting demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy schemas workflows activities workers
	$(BIN)/lint-imports

# The dashboard's browser test drives Debian's Chromium (PyPI's Playwright cannot download
# its own here); installed on first use, as root, like CI runs.
CHROMIUM ?= /usr/bin/chromium

$(CHROMIUM):
	@echo "Installing Debian's chromium for the dashboard's browser test"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

# The deploy's alert rules are loaded and unit-tested by a real promtool (Debian's
# prometheus package; only its promtool is used, no server is started).
PROMTOOL ?= /usr/bin/promtool

$(PROMTOOL):
	@echo "Installing Debian's prometheus package for promtool"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus

test: lint $(WEB_CSS) $(AXE) $(CHROMIUM) $(PROMTOOL)
	BOSETTING_TEST_CHROMIUM=$(CHROMIUM) BOSETTING_TEST_PROMTOOL=$(PROMTOOL) \
	BOSETTING_TEST_AXE=$(AXE) $(BIN)/pytest -ra

bench: $(STAMP)
	$(BIN)/python -m bench.projection
	$(BIN)/python -m bench.queues
	$(BIN)/python -m bench.step_freshness

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) web/node_modules $(WEB_CSS) workers/api/web/static/fonts .bosetting .pytest_cache .mypy_cache .ruff_cache
