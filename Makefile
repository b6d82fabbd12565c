# stickgen: the two commands (demo, test) plus export / lab.
# Everything installs into .venv; torch is pinned to the CPU wheel through constraints.txt.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BROWSER_STAMP := $(VENV)/.browser
export PATH := $(CURDIR)/$(BIN):$(PATH)
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export MPLBACKEND := Agg

.PHONY: install demo test nbtest pytest export lab browser clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -c constraints.txt torch==2.13.0
	$(BIN)/pip install -q -c constraints.txt -e ".[dev]"
	@touch $(STAMP)
	@echo "installed into $(VENV)"

# Headless Chromium for the browser tests (Debian packages; needs root or an existing install).
browser: $(BROWSER_STAMP)

$(BROWSER_STAMP):
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else echo "chromium + chromedriver are needed for the browser tests: install Debian's chromium chromium-driver"; exit 1; fi; \
	fi
	@mkdir -p $(VENV) && touch $(BROWSER_STAMP)

demo: install
	$(BIN)/stickgen demo --output-dir runs/demo

nbtest: install
	$(BIN)/nbdev-test --n-workers 2

pytest: install browser
	$(BIN)/python -m pytest -q tests

test: install browser
	$(BIN)/nbdev-test --n-workers 2
	$(BIN)/python -m pytest -q tests

export: install
	$(BIN)/nbdev-export
	$(BIN)/nbdev-clean
	$(BIN)/python scripts/make_readme.py nbs/index.ipynb README.md

lab: install
	$(BIN)/jupyter lab --notebook-dir=$(CURDIR) $$([ "$$(id -u)" = 0 ] && echo --allow-root)

# Docs site without Quarto: nbdev-export, then scripts/build_docs.py runs every notebook (cached in
# _proc/.docs_cache, per-notebook timeout), applies nbdev's doc processors (show_doc API entries) into _proc/,
# and builds the static site in _docs/ with mkdocs-material (config: mkdocs.yml).
# DOCS_ARGS passes options, e.g. DOCS_ARGS="--timeout 900" or DOCS_ARGS="--exec-re '^(?!50_eval)'".
DOCS_PORT ?= 8000
DOCS_JOBS ?= 2
DOCS_ARGS ?=
.PHONY: docs docs-serve docs-test

docs: install
	$(BIN)/nbdev-export
	$(BIN)/python scripts/build_docs.py --jobs $(DOCS_JOBS) $(DOCS_ARGS)

docs-serve: docs
	$(BIN)/python scripts/build_docs.py --serve-only --serve $(DOCS_PORT)

docs-test: install browser
	$(BIN)/python -m pytest -q tests/test_docs_site.py

clean:
	rm -rf _proc _docs .pytest_cache .hypothesis
