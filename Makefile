# The two commands a newcomer needs: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
UV_VERSION := 0.13.9
BOOTSTRAP := .bootstrap
UV := $(BOOTSTRAP)/bin/uv
VENV := .venv
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)
export MELTANO_SEND_ANONYMOUS_USAGE_STATS := false

.PHONY: env demo test lint typecheck pytest bench constraints clean orchestrate orchestrate-screenshot

$(UV):
	$(PYTHON) -m venv $(BOOTSTRAP)
	$(BOOTSTRAP)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) uv.lock pyproject.toml */pyproject.toml
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

## env: create .venv with every package, Meltano and the dev tools
env: $(VENV)/.synced

## demo: run every pipeline against the local sandbox and print a summary
demo: env
	$(VENV)/bin/python scripts/demo.py

## lint / typecheck: ruff and mypy
lint: env
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: env
	$(VENV)/bin/mypy

# Two workers: the tests that run `meltano` in this project share one (tests/conftest.py).
PYTEST_ARGS ?= -n 2
pytest: env
	$(VENV)/bin/pytest $(PYTEST_ARGS)

## test: lint, typecheck and every test
test: lint typecheck pytest

## bench: every benchmark and the reliability harness, summary, charts, docs (docs/benchmarks.md)
## (about 2 h; `make bench BENCH_ARGS=--quick` takes about 15 min and leaves the docs alone)
BENCH_ARGS ?=
bench: env
	$(VENV)/bin/python -m bench.run_all $(BENCH_ARGS)

## orchestrate: Airflow 3 runs the Meltano schedules against the sandbox until Ctrl-C
## (UI http://127.0.0.1:8080; ORCHESTRATE_ARGS="--every-minute" runs the account schedules every minute)
## orchestrate-screenshot: regenerate docs/img/airflow_*.png from a fresh instance (installs chromium)
ORCHESTRATE := PYTHONPATH=orchestrate:orchestrate/airflow/dags $(VENV)/bin/python -m local_airflow
ORCHESTRATE_ARGS ?=
orchestrate: env
	$(ORCHESTRATE) serve $(ORCHESTRATE_ARGS)

orchestrate-screenshot: env
	command -v chromium >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
	$(ORCHESTRATE) screenshot

## constraints: pin the Meltano plugin venvs to the versions in uv.lock
## (tests/test_lockfile.py runs this target with CONSTRAINTS=<temp file> and compares)
CONSTRAINTS ?= plugin-constraints.txt
constraints: $(UV)
	$(UV) export --frozen --all-packages --no-dev --no-hashes --no-emit-workspace --no-annotate \
		--no-header --format requirements.txt -o $(CONSTRAINTS) -q

clean:
	rm -rf $(VENV) $(BOOTSTRAP) .meltano
