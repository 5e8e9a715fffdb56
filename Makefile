# Two commands do all set-up: `make run` and `make test` create the virtualenv and install what they need.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-unit test-browser bench bench-quick clean

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

# dynalite, the DynamoDB stand-in the benchmark measures on: exactly the versions in bench/package-lock.json.
BENCH_NODE := bench/node_modules/.package-lock.json
$(BENCH_NODE): bench/package.json bench/package-lock.json
	cd bench && npm ci --no-audit --no-fund
	touch $@

bench: $(STAMP) $(BENCH_NODE)  ## what each page costs the dashboard over its DynamoDB calls, on dynalite: bench/RESULTS.md
	$(BIN)/python -m bench.run

bench-quick: $(STAMP)  ## the benchmark in miniature, as tests/test_bench.py runs it: shape, not speed
	$(BIN)/python -m bench.run --quick

clean:
	rm -rf $(VENV) .pytest_cache test-output
