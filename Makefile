# Two commands: `make run` (set up and run the demo) and `make test` (set up and run the tests).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# The review desk's browser library (htmx) comes from the npm registry via package-lock.json and is
# copied into a gitignored static folder: nothing third-party is committed by hand.
DESK_VENDOR := lbsup/desk/static/desk/vendor

.PHONY: run test install install-dev desk-assets system-test-deps clean

run: install desk-assets
	$(BIN)/lbsup migrate --noinput
	$(BIN)/lbsup demo --host $(HOST) --port $(PORT)

test: install-dev desk-assets system-test-deps
	$(BIN)/python -m pytest

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev
desk-assets: $(DESK_VENDOR)/htmx.min.js

$(VENV)/.created:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.created
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.created
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

$(DESK_VENDOR)/htmx.min.js: package-lock.json
	npm ci --no-audit --no-fund
	mkdir -p $(DESK_VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js $@

# Real servers the tests drive (IMAP, browser), from Debian's packages, installed once when missing.
system-test-deps:
	@bash scripts/install-system-test-deps.sh

clean:
	rm -rf $(VENV) var node_modules $(DESK_VENDOR)/htmx.min.js
