# One-command set-up: every target creates .venv and installs the project into it first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install tour test test-slow mutation bench bench-baselines lint

$(BIN)/freeenergy: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(BIN)/freeenergy

install: $(BIN)/freeenergy

tour: install
	$(BIN)/freeenergy tour --out tour-report

test: install
	$(BIN)/python -m pytest -q

test-slow: install
	$(BIN)/python -m pytest -q -m slow

# Mutation testing of the update rules and estimators (docs/mutation.md); not part of `make test`.
# One thread per forked test process, one process per core; mutmut resumes an interrupted run.
mutation: install
	OMP_NUM_THREADS=1 $(BIN)/mutmut run --max-children $$(nproc)
	$(BIN)/python tools/mutation_report.py

# One thread per pool for ours and every baseline, pinned to one core, 5 interleaved rounds.
# `make bench BENCH_ARGS=--quick` is the smoke run (small sizes; it measures nothing).
bench: install
	LEARNERGY_PATH=$(VENV)/learnergy-pkgs $(BIN)/python benchmarks/run_all.py $(BENCH_ARGS)

# Optional comparison packages for `make bench` (skipped there when absent). learnergy goes into
# its own folder without dependencies: its requirements would replace the pinned torch.
bench-baselines: install
	$(BIN)/pip install --quiet rbms 'torch==2.13.0'
	$(BIN)/pip install --quiet --no-deps --target $(VENV)/learnergy-pkgs learnergy

lint: install
	$(BIN)/ruff check .
