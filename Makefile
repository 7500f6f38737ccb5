# Two entry points, each doing its own set-up on a fresh machine: `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
SCENARIO ?= scenarios/frontier-vs-distilled.yaml

# Installs the exact versions of requirements.lock (every dependency, dev tools included), then
# econ itself without resolving anything again, so a fresh clone tests what main was tested with.
$(VENV)/.installed: pyproject.toml requirements.lock
	python3 -m venv $(VENV)
	$(PY) -m pip install -q -r requirements.lock
	$(PY) -m pip install -q --no-deps -e .
	$(PY) -m pip check
	touch $@

# Refresh requirements.lock: resolve pyproject.toml's ranges afresh (newest releases today) in a
# throw-away virtualenv and pin every package it installs. Review the diff, run make test, commit.
lock:
	rm -rf .lock-venv
	python3 -m venv .lock-venv
	.lock-venv/bin/python -m pip install -q -e '.[dev]'
	.lock-venv/bin/python -m pip freeze --exclude-editable | LC_ALL=C sort -f > requirements.lock
	rm -rf .lock-venv

.PHONY: run evaluate test lint bench chromium java lock

# PORT=8502 make run for another port (ADDRESS=0.0.0.0 to serve the room; default: this machine).
# No file watching (.streamlit/config.toml): a scenario changed on disk comes in with the app's
# "Reload from disk"; a change to econ's code needs a restart.
PORT ?= 8501
ADDRESS ?= localhost
run: $(VENV)/.installed
	@echo "econ: serving the app at http://$(ADDRESS):$(PORT) (open it in a browser; Ctrl-C stops it)"
	$(VENV)/bin/streamlit run app.py --server.port $(PORT) --server.address $(ADDRESS)

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

# The Spark tests (econ traffic --backend pyspark://) need a Java runtime: install Debian's
# headless one when missing (root, as on CI).
java:
	@command -v java >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends default-jre-headless; \
	  else echo "java missing: sudo apt-get install -y default-jre-headless (the Spark tests skip)"; fi; }

# mypy runs beside the tests (its CPU on a fresh clone fills the time the browser and
# subprocess tests wait); the target fails if either fails, and prints both.
# Bytecode is cached even where the environment says not to (PYTHONDONTWRITEBYTECODE=1 on some
# machines and containers): each `econ` child process and app server the suite starts
# would otherwise compile econ anew (0.3 s of CPU each), and every run rewrite every test.
test: $(VENV)/.installed chromium java
	$(PY) -m ruff check .
	@$(PY) -m mypy > .mypy.out 2>&1 & mypy=$$!; \
	  env -u PYTHONDONTWRITEBYTECODE $(PY) -m pytest; tests=$$?; \
	  wait $$mypy; types=$$?; cat .mypy.out; rm -f .mypy.out; \
	  test $$tests -eq 0 -a $$types -eq 0

bench: $(VENV)/.installed
	$(PY) benchmarks/run.py
