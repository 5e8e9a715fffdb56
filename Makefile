# Two commands do all set-up: `make run` and `make test` create the virtualenv and install what they need.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-unit test-browser lint lock bench bench-quick load scale dayranges clean

# pyproject.toml holds only tool settings (nothing is installed from it), so the stamp does not depend on it.
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

lint: $(STAMP)  ## ruff, mypy (pyproject.toml) and the import contract (.importlinter); all run, so one pass shows every finding
	status=0; $(BIN)/ruff check . || status=1; $(BIN)/mypy || status=1; $(BIN)/lint-imports --no-logo || status=1; exit $$status

# Only uv, at its pinned version: a requirements file that no longer agrees with constraints.txt must not stop
# the lock that fixes it.
$(BIN)/uv: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "$$(grep '^uv==' requirements-dev.txt)"
	touch $@

lock: $(BIN)/uv  ## constraints.txt from requirements*.txt; keeps its pins unless ARGS='--upgrade-package NAME' or ARGS=--upgrade
	$(BIN)/uv pip compile requirements-dev.txt --python-version 3.11 --python-platform linux -o constraints.txt $(ARGS)

# dynalite, the DynamoDB stand-in the benchmark measures on: exactly the versions in bench/package-lock.json.
BENCH_NODE := bench/node_modules/.package-lock.json
$(BENCH_NODE): bench/package.json bench/package-lock.json
	cd bench && npm ci --no-audit --no-fund
	touch $@

bench: $(STAMP) $(BENCH_NODE)  ## what each page costs the dashboard over its DynamoDB calls, on dynalite: bench/RESULTS.md
	$(BIN)/python -m bench.run

bench-quick: $(STAMP)  ## the benchmark in miniature, as tests/test_bench.py runs it: shape, not speed
	$(BIN)/python -m bench.run --quick

load: $(STAMP)  ## many clients against gunicorn while a fault proxy cycles DynamoDB faults; bench/results/load.json
	$(BIN)/python -m bench.load

# The dynalite directory is kept under /tmp (bench/scaledata.py): a second run skips the load. ARGS=--quick for 20,000 events.
scale: $(STAMP) $(BENCH_NODE)  ## 1,000,000 events over 30 days, read with the time index and without: bench/results/scale.json
	$(BIN)/python -m bench.scale $(ARGS)

# The dynalite directory is kept under /tmp (bench/dayranges.py): a second run skips the loads.
dayranges: $(STAMP) $(BENCH_NODE)  ## first pages of day-long ranges (10,000 and 100,000 events) and of a sparse table: bench/results/dayranges.json
	$(BIN)/python -m bench.dayranges $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-output
