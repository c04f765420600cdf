# `make run` and `make test` bootstrap a local .venv on a fresh machine (Python 3.11+).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -e ".[test]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/cnnstudio gui

test: $(STAMP)
	$(BIN)/ruff check cnnstudio tests benchmarks
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -n auto --durations=15

bench: $(STAMP)
	for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) build dist *.egg-info
