# driftpilot — every entry point a user or CI needs. `make demo` and `make test` set everything up.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
UV_VERSION := 0.9.30

# All local state lives under one folder: delete it to start over.
export DRIFTPILOT_HOME ?= $(CURDIR)/.driftpilot
export AIRFLOW_HOME ?= $(DRIFTPILOT_HOME)/airflow
export AIRFLOW__CORE__DAGS_FOLDER ?= $(CURDIR)/dags
export AIRFLOW__CORE__PLUGINS_FOLDER ?= $(CURDIR)/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES ?= False
export AIRFLOW__CORE__DAG_IGNORE_FILE_SYNTAX ?= regexp
export AIRFLOW__CORE__PARALLELISM ?= 4
# The scheduler's LocalExecutor starts its workers from a fork server that imported GX, Evidently
# and MLflow once (driftpilot/adapters/preload.py), so a task does not spend ~9 s importing them.
export AIRFLOW__SCHEDULER__MP_START_METHOD ?= forkserver
export AIRFLOW__SCHEDULER__MP_FORKSERVER_PRELOAD ?= driftpilot.adapters.preload
export MLFLOW_DISABLE_TELEMETRY ?= true
export DO_NOT_TRACK ?= true
export GX_ANALYTICS_ENABLED ?= false
export MLFLOW_SERVER_ENABLE_JOB_EXECUTION ?= false

.PHONY: help install demo test test-slow test-ui lint typecheck bench lock clean reset airflow-ui mlflow-ui

help:
	@echo "make install     create .venv and install the pinned lock (done by every target that needs it)"
	@echo "make demo        install, then run the whole loop (monitoring, retraining, approval, promotion) on the bundled Elec2 data"
	@echo "make test        install, then run the test suite without slow tests (what CI runs)"
	@echo "make test-slow   long scenarios (marker: slow): the full demo on census and Elec2, the Airflow approval task"
	@echo "make test-ui     reports and the monitoring view (real api-server) in headless Chromium (marker: ui); installs Debian's chromium if missing"
	@echo "make lint        ruff, then mypy"
	@echo "make typecheck   mypy only"
	@echo "make bench       drift statistics benchmark against Evidently (benchmarks/drift_bench.py)"
	@echo "make lock        recompile requirements.txt from requirements.in"
	@echo "make airflow-ui  airflow standalone on the demo state (http://localhost:8080)"
	@echo "make mlflow-ui   MLflow UI on the demo store (http://127.0.0.1:5000)"
	@echo "make reset       delete $(DRIFTPILOT_HOME) (all local state)"
	@echo "make clean       reset, and delete .venv and tool caches"

$(VENV)/.installed: requirements.txt pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11 is required (python3.11 not found)"; exit 1; }
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), f"Python 3.11 required, found {sys.version}"'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(UV) pip install --python $(PY) --compile-bytecode -r requirements.txt
	$(UV) pip install --python $(PY) --no-deps -e .
	$(PY) -m compileall -q include dags plugins > /dev/null
	touch $@

install: $(VENV)/.installed

demo: install
	$(PY) scripts/demo.py

test: install
	$(PY) -m pytest -m "not slow and not ui"

test-slow: install
	$(PY) -m pytest -m slow

# Debian's chromium (Playwright cannot download its own browsers here); the ui tests' fixture
# installs it too when they are run directly.
test-ui: install
	test -x /usr/bin/chromium || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }
	$(PY) -m pytest -m ui

lint: install
	$(VENV)/bin/ruff check include dags plugins tests benchmarks
	$(VENV)/bin/mypy

typecheck: install
	$(VENV)/bin/mypy

bench: install
	$(PY) benchmarks/drift_bench.py

lock:
	$(PY) -m pip install --quiet uv==$(UV_VERSION)
	$(UV) pip compile requirements.in --python-version 3.11 --no-header -o requirements.txt

airflow-ui: install
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(VENV)/bin/airflow standalone

mlflow-ui: install
	$(VENV)/bin/mlflow ui --backend-store-uri sqlite:///$(DRIFTPILOT_HOME)/mlflow/mlflow.db --host 127.0.0.1 --port 5000

reset:
	rm -rf $(DRIFTPILOT_HOME)

clean: reset
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
