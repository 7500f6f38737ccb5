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
	$(VENV)/bin/streamlit run app.py

evaluate: $(VENV)/.installed
	$(VENV)/bin/econ evaluate $(SCENARIO)

lint: $(VENV)/.installed
	$(PY) -m ruff check .
	$(PY) -m mypy

# The browser test drives Debian's Chromium; install it when missing (root, as on CI).
chromium:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; \
	  else echo "chromium missing: sudo apt-get install -y chromium (the browser test skips)"; fi; }

test: $(VENV)/.installed chromium
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m pytest

bench: $(VENV)/.installed
	$(PY) benchmarks/run.py
