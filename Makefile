# Quick start: `make run` (install, then run the default scenario); `make test` (install, then the tests).
# `make lint`: ruff and mypy, as configured in pyproject.toml (CI runs it after the tests).
PYTHON ?= $(shell ./tools/find-python)
VENV := .venv
BIN := $(VENV)/bin
SCENARIO ?= scenarios/baseline.yaml

.PHONY: install run test lint clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test,lint]'
	touch $@

run: install
	$(BIN)/sco-sim run $(SCENARIO)

test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) build *.egg-info
