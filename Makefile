# The two commands of the README: `make site` (set up and build) and `make test` (every test).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The source texts verify provenance; CI and a checkout beside ../shared have them.
SOURCES ?= $(firstword $(wildcard ../shared/seeds))
export PORTAL_SOURCES ?= $(if $(SOURCES),$(abspath $(SOURCES)),)
# `make serve PORT=8001` when 8000 is taken
PORT ?= 8000

.PHONY: site test serve validate bench audit clean

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test]'
	touch $@

site: $(VENV)/.installed
	$(BIN)/portal build

test: $(VENV)/.installed
	$(BIN)/python -m pytest -q

serve: $(VENV)/.installed
	$(BIN)/portal serve --port $(PORT)

validate: $(VENV)/.installed
	$(BIN)/portal validate

bench: $(VENV)/.installed
	$(BIN)/portal bench

# Lighthouse (mobile) on the home, a dataset and a region page; needs node, npm and chromium
audit: $(VENV)/.installed
	$(BIN)/portal audit

clean:
	rm -rf site .build
