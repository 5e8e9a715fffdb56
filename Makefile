# Two commands do all set-up: `make run` and `make test` create the virtualenv and install what they need.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-unit test-browser bench load clean

$(STAMP): requirements.txt requirements-dev.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	touch $@

run: $(STAMP)  ## the dashboard on an embedded local DynamoDB with demo data, http://127.0.0.1:5000
	$(BIN)/python -m dashboard.local

test: $(STAMP)  ## every test: unit, integration over HTTP, and the browser suite where Chromium is installed
	$(BIN)/python -m pytest

test-unit: $(STAMP)
	$(BIN)/python -m pytest --ignore=tests/browser

test-browser: $(STAMP)
	$(BIN)/python -m pytest tests/browser

bench: $(STAMP)  ## what a page costs the dashboard itself; results in bench/results/
	$(BIN)/python -m bench.run

load: $(STAMP)  ## many clients against gunicorn while a fault proxy cycles DynamoDB faults; bench/results/load.json
	$(BIN)/python -m bench.load

clean:
	rm -rf $(VENV) .pytest_cache test-output
