# Two commands matter: `make demo` and `make test`. Both create .venv and install on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.DEFAULT_GOAL := check
.PHONY: check install demo test lint bench bench-tiny clean

check: test lint

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "vm needs Python 3.11+; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## Build the demo relationship (3 cycles through the real connector and Prefect flow), then open the app.
demo: $(STAMP)
	$(BIN)/vm demo

## Run the whole test suite (store tests run on SQLite and, when reachable, PostgreSQL).
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/run.py --respondents 100000 --value-codes 60

bench-tiny: $(STAMP)
	$(BIN)/python bench/run.py --respondents 200 --value-codes 8 --skip-prefect

clean:
	rm -rf .vm test-artifacts bench/out
