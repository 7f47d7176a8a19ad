# Two commands: `make run` (set up and run the demo) and `make test` (set up and run the tests).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install install-dev system-test-deps clean

run: install
	$(BIN)/lbsup migrate --noinput
	$(BIN)/lbsup demo --host $(HOST) --port $(PORT)

test: install-dev system-test-deps
	$(BIN)/python -m pytest

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

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

# Real servers the tests talk to, from Debian's packages (installed once, when missing).
system-test-deps:
	@bash scripts/install-system-test-deps.sh

clean:
	rm -rf $(VENV) var
