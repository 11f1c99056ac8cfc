# Watchfloor — the two commands that matter are `make run` and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export WATCHFLOOR_DATABASE_URL ?= sqlite:///var/watchfloor.db

.PHONY: run test test-fast lint bench eval install clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## run: migrate the embedded SQLite database, load the bundled feeds and start web + scheduler
run: $(STAMP)
	$(BIN)/watchfloor db upgrade
	$(BIN)/watchfloor indicators validate
	$(BIN)/watchfloor bootstrap
	$(BIN)/watchfloor run

## test: install what the tests need (Python packages, Chromium, PostgreSQL if absent) and run them all
test: $(STAMP)
	bash scripts/test-deps.sh
	source scripts/test-env.sh && $(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check app tests bench

## eval: score the default library on the labelled dev corpus
eval: $(STAMP)
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/python ../shared/eval/score.py ../shared/eval/dev.jsonl \
	  --windows ../shared/eval/dev_windows.json

## bench: speed and memory targets (not part of the test suite)
bench: $(STAMP)
	source scripts/test-env.sh && $(BIN)/python -m bench

clean:
	rm -rf var .pytest_cache
