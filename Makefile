# The command surface of Strangler Fig. CI runs the same targets a person runs.
#
#   make run    install everything, then start the whole system on embedded defaults
#   make test   lint, type-check, check architecture contracts, run every test suite
#
# Every other command is `./strangler ...` (see README.md, "Two commands").

SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3

# uv from PATH, else a private copy installed with pip into .strangler/tools.
TOOLS_DIR := $(CURDIR)/.strangler/tools
UV ?= $(shell command -v uv 2>/dev/null || echo $(TOOLS_DIR)/bin/uv)
SOURCES := legacy-monolith/src gateway/src services/*/src libs/*/src infra/*/src
PYTEST := $(UV) run --frozen pytest

.PHONY: help install run test lint format typecheck contracts schemas schemas-check contracts-verify asyncapi-validate unit integration e2e bench-smoke bench bench-gateway bench-saga bench-startup bench-soak bench-reads clean

help:  ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(TOOLS_DIR)/bin/uv:
	@echo "uv not found: installing it with pip into $(TOOLS_DIR)"
	$(PYTHON) -m venv $(TOOLS_DIR)
	$(TOOLS_DIR)/bin/python -m pip install --quiet --disable-pip-version-check uv

# Compiled to bytecode at install, ours too (uv compiles site-packages only): a start-up then
# imports .pyc files instead of compiling every module again, even with PYTHONDONTWRITEBYTECODE.
install: $(if $(findstring $(TOOLS_DIR),$(UV)),$(TOOLS_DIR)/bin/uv)  ## install every workspace member from uv.lock, compiled to bytecode
	$(UV) sync --all-packages --locked --compile-bytecode
	$(UV) run --frozen python -m compileall -q $(SOURCES)

run: install  ## start every component locally (SQLite files, no Docker); then ./strangler status
	./strangler up

test: install lint typecheck contracts schemas-check contracts-verify unit integration e2e  ## everything CI runs

lint:  ## ruff lint and format check
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

format:  ## apply ruff's formatting and safe fixes
	$(UV) run --frozen ruff check --fix .
	$(UV) run --frozen ruff format .

typecheck:  ## mypy --strict on every member's source
	$(UV) run --frozen mypy $(SOURCES)

contracts:  ## import-linter: services, libs and the monolith keep their boundaries
	$(UV) run --frozen lint-imports

schemas:  ## write the event JSON Schemas and asyncapi.yaml (refuses breaking changes)
	$(UV) run --frozen python -m strangler_contracts.schemas generate

schemas-check:  ## fail if the committed schemas or asyncapi.yaml lag behind the models
	$(UV) run --frozen python -m strangler_contracts.schemas check

# The AsyncAPI project's own CLI, from the npm registry (runs offline once installed).
# 4.1.1: the last release that runs on node 20 (5.x and later need node 24). Installed once per
# user, outside the clone, so that a fresh clone (CI) finds it instead of spending minutes in
# npm; --prefer-offline takes what npm's cache holds without asking the registry again. It is
# installed beside its place and renamed into it, so an interrupted install is never found.
ASYNCAPI_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/strangler/asyncapi-cli-4.1.1
ASYNCAPI := $(ASYNCAPI_DIR)/node_modules/.bin/asyncapi

# npm comes from Debian's packages when the machine has none (as root, like nginx and wrk).
$(ASYNCAPI):
	@command -v npm >/dev/null || { echo "npm not found: installing Debian's nodejs and npm with apt-get"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; }
	mkdir -p $(dir $(ASYNCAPI_DIR))
	partial=$$(mktemp -d $(ASYNCAPI_DIR).partial-XXXXXX) && \
	npm install --prefix $$partial --prefer-offline --no-audit --no-fund --loglevel=error @asyncapi/cli@4.1.1 && \
	$$partial/node_modules/.bin/asyncapi config analytics --disable >/dev/null && \
	rm -rf $(ASYNCAPI_DIR) && mv $$partial $(ASYNCAPI_DIR)

asyncapi-validate: $(ASYNCAPI)  ## the committed asyncapi.yaml through the AsyncAPI CLI's validator
	$(ASYNCAPI) validate libs/contracts/asyncapi.yaml --fail-severity=error

# See README "Contracts in CI": pacts between the components, verified against real processes.
contracts-verify: asyncapi-validate  ## consumer pacts, provider verification, the matrix; then proof the gate fails
	PACT_DO_NOT_TRACK=true $(UV) run --frozen python -m tests.contracts.gate
	PACT_DO_NOT_TRACK=true $(PYTEST) tests/contracts/test_the_gate_fails.py -q -p no:cacheprovider

unit:  ## unit tests: fakes only, no network
	$(PYTEST) tests/unit -q

# Integration and e2e tests mostly wait (on processes, the broker, PostgreSQL): two pytest-xdist
# workers, each running whole test files, with its own broker and system (session fixtures are
# per worker). TEST_WORKERS=0 runs them in this one process, one after the other.
TEST_WORKERS ?= 2
PARALLEL := -n $(TEST_WORKERS) --dist loadfile

integration:  ## integration tests: real PostgreSQL on 127.0.0.1:5432, real sockets (TEST_WORKERS=2)
	$(PYTEST) tests/integration -q $(PARALLEL)

e2e:  ## end-to-end tests: real processes started on free ports (TEST_WORKERS=2)
	$(PYTEST) tests/e2e -q $(PARALLEL)

# Also part of `e2e` (tests/e2e/test_running_every_bench.py): every bench's --quick completes
# and prints its ratios, the load and its yes/NO verdicts; no figure is judged.
bench-smoke: install  ## run every bench/ script's --quick once as a smoke test (a few minutes)
	$(PYTEST) tests/e2e/test_running_every_bench.py -q

fuzz: install  ## schemathesis on every API of a running system: no 5xx, nothing undocumented (FUZZ_ARGS="--output FILE")
	$(UV) run --frozen python -m tests.fuzz.run $(FUZZ_ARGS)

bench: install  ## event path vs raw broker: rates and latencies (BENCH_ARGS="--database postgres")
	$(UV) run --frozen python bench/events.py $(BENCH_ARGS)

# Separate from `bench`: it needs nginx and wrk (apt-get installs them when missing, as root).
bench-gateway: install  ## gateway vs nginx vs direct: req/s, p50/p99, CPU per request (BENCH_GATEWAY_ARGS="--quick")
	$(UV) run --frozen python bench/gateway.py $(BENCH_GATEWAY_ARGS)

bench-saga: install  ## checkout sagas/s and p50/p99 beside the event path and raw broker (BENCH_SAGA_ARGS="--quick")
	$(UV) run --frozen python bench/saga.py $(BENCH_SAGA_ARGS)

bench-startup: install  ## `strangler up` time to healthy and RSS per component, median of 5 (BENCH_STARTUP_ARGS="--quick")
	$(UV) run --frozen python bench/startup.py $(BENCH_STARTUP_ARGS)

bench-soak: install  ## 10 min of steady traffic: RSS, descriptors by kind beside their pools' bounds, p99; leaks? (BENCH_SOAK_ARGS="--quick")
	$(UV) run --frozen python bench/soak.py $(BENCH_SOAK_ARGS)

bench-reads: install  ## a one-query read beside /health/live, monolith and billing, SQLite and PostgreSQL (BENCH_READS_ARGS="--quick")
	$(UV) run --frozen python bench/reads.py $(BENCH_READS_ARGS)

clean:  ## remove local state (databases, secrets, tools) and caches
	rm -rf .strangler .venv .pytest_cache .mypy_cache .ruff_cache
