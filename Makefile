# Everything sets itself up: a fresh machine needs Python 3.11, make and gcc (and PostgreSQL 15
# for the PostgreSQL tests). The venv is rebuilt when pyproject.toml changes.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint format bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/bosetting demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy schemas workflows activities workers
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest -ra

bench: $(STAMP)
	$(BIN)/python -m bench.projection

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .bosetting .pytest_cache .mypy_cache .ruff_cache
