# Two entry points, each doing its own set-up on a fresh machine: `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
SCENARIO ?= scenarios/frontier-vs-distilled.yaml

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

.PHONY: run evaluate test lint bench chromium

run: $(VENV)/.installed
	$(VENV)/bin/econ evaluate $(SCENARIO)

evaluate: run

lint: $(VENV)/.installed
	$(PY) -m ruff check .
	$(PY) -m mypy

test: $(VENV)/.installed
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m pytest

bench: $(VENV)/.installed
	$(PY) benchmarks/run.py
