# Two commands: `make run` (the app) and `make test` (the whole suite). Python 3.11+ is all they need.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip

.PHONY: run test lint format bench clean venv test-deps

$(VENV)/.app-installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.test-installed: $(VENV)/.app-installed requirements-test.txt
	$(PIP) install --quiet -r requirements-test.txt
	touch $@

venv: $(VENV)/.app-installed

## run: create .venv, install, migrate, seed the demo portfolio when empty, serve http://127.0.0.1:8050
run: $(VENV)/.app-installed
	$(PY) cli.py serve

## test: install test tools (and headless Chromium where missing), run every test tier
test: $(VENV)/.test-installed
	@bash scripts/ensure-chromium.sh || true
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.test-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.test-installed
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## bench: the benchmarks under bench/ (print figures; slow, not part of the suite)
bench: $(VENV)/.test-installed
	$(PY) -m bench.accuracy --speed
	$(PY) -m bench.accuracy_intermittent
	$(PY) -m bench.recompute
	$(PY) -m bench.partial_recompute
	$(PY) -m bench.ingest
	$(PY) -m bench.excel_import
	$(PY) -m bench.briefing
	$(PY) -m bench.briefing_service
	$(PY) -m bench.dashboard
	$(PY) -m bench.load
	$(PY) -m bench.policy
	$(PY) -m bench.backtest
	$(PY) -m bench.supply
	$(PY) -m bench.browser

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
