# Every target installs what it needs first (idempotent: stamps skip work
# already done), so `make serve` and `make test` work on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PIP_INSTALL := $(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt

export NO_MKDOCS_2_WARNING := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export DEBIAN_FRONTEND := noninteractive

.PHONY: help serve test build lint audit bench setup-docs setup-test chromium clean

help:
	@echo "make serve   serve the site at http://127.0.0.1:8000 with live reload"
	@echo "make test    lint, type-check, unit tests, doctests, strict build, browser tests, then the audit"
	@echo "make build   build the site into site/ (strict, notebooks executed)"
	@echo "make lint    ruff check, ruff format --check, mypy"
	@echo "make audit   the audit alone: Lighthouse on every page (served compressed), its four scores and page weights"
	@echo "make bench   time conv, pooling and an epoch against PyTorch; time the build"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# What `make serve` and `make build` install. The notebooks compare each run
# with PyTorch only where it is installed: DOCS_EXTRAS=docs,reference adds it
# (the Pages workflow does, so the published site shows the comparisons).
DOCS_EXTRAS ?= docs
DOCS_STAMP := $(VENV)/.stamp-$(DOCS_EXTRAS)

$(DOCS_STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(PIP_INSTALL) -e '.[$(DOCS_EXTRAS)]'
	touch $@

$(VENV)/.test-stamp: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP_INSTALL) -e '.[docs,test,reference]'
	touch $@ $(VENV)/.stamp-docs $(VENV)/.stamp-docs,reference

node_modules/.npm-stamp: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Debian's Chromium for the browser test; installed only when missing.
# Set CHROMIUM=/path/to/a/chromium-based/browser to use another one.
chromium:
	@if [ -n "$${CHROMIUM:-}" ]; then "$$CHROMIUM" --version; else \
	  command -v chromium >/dev/null || { \
	    $(SUDO) apt-get update -qq && \
	    $(SUDO) apt-get install -y -qq --no-install-recommends chromium >/dev/null; }; \
	  chromium --version; fi

setup-docs: $(DOCS_STAMP) node_modules/.npm-stamp
setup-test: $(VENV)/.test-stamp node_modules/.npm-stamp chromium

# The labs' matrices are small: one BLAS thread is faster than two, and two
# threads per process spin against each other when the build, the notebooks
# and two test workers share the machine's cores. `make bench` keeps the
# default threads, as it measures the library against PyTorch's defaults.
serve build test audit: export OPENBLAS_NUM_THREADS := 1

# Reproducible builds: dates on the site (the sitemap, the provenance stamp)
# are the last commit's, not the clock's. Empty outside a git checkout.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null)
ifneq ($(SOURCE_DATE_EPOCH),)
serve build test: export SOURCE_DATE_EPOCH := $(SOURCE_DATE_EPOCH)
endif

# The notebook execution cache (.cache/notebooks/, keyed on every input of
# the outputs: tools/notebook_exec.py) for `make serve` and `make build`;
# off under CI=true (the hook refuses it there too) and in the tests.
# NOTEBOOK_CACHE=0 makes a local build execute every notebook.
NOTEBOOK_CACHE ?= $(if $(filter true,$(CI)),0,1)
serve build: export NOTEBOOK_CACHE := $(NOTEBOOK_CACHE)

serve: setup-docs
	$(BIN)/mkdocs serve --strict --dirty -a 127.0.0.1:8000

build: setup-docs
	$(BIN)/mkdocs build --strict

lint: $(VENV)/.test-stamp
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Two workers; pyproject's --dist loadfile keeps each file on one worker, so a
# page's examples share their namespace and the browser tests one site build.
# Then the audit, on its own: Lighthouse times the pages, and would time them
# against whatever else ran beside it. Both sessions share one folder, emptied
# first: the first builds the site there, and the audit audits that build.
test: export TEST_SHARED_DIR := $(CURDIR)/test-artifacts/shared
test: setup-test lint
	rm -rf "$$TEST_SHARED_DIR"
	$(BIN)/pytest -n 2 -m "not audit"
	$(BIN)/pytest -m audit

# The site's budgets as Lighthouse measures them: its four scores
# (performance the median of three runs) and the first load's weight on every
# page (reports under test-artifacts/lighthouse/). The last step of `make
# test`, where it audits the site the tests before it built; alone, some
# five minutes on this machine, the site's build included.
audit: setup-test
	$(BIN)/pytest -m audit

# The performance comparison needs PyTorch: it uses the test set-up. Both
# scripts always run; the target fails if either missed a goal.
bench: $(VENV)/.test-stamp node_modules/.npm-stamp
	$(BIN)/python benchmarks/perf.py; perf=$$?; \
	$(BIN)/python benchmarks/run.py && exit $$perf

clean:
	rm -rf site .cache .pytest_cache .mypy_cache .ruff_cache test-artifacts
