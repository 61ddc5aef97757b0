# The two commands of the README: `make run` (the pipeline on the demo corpus) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.kwal-installed
LOCK   := requirements.lock

.PHONY: run test install bench eval simulate-review clean-outputs lock upgrade

# Exact versions: every dependency as pinned in requirements.lock (see README, "Exact installs").
$(STAMP): pyproject.toml $(LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c $(LOCK) -e '.[test]'
	@echo "Preparing deduce's Dutch name lists (once after install, about a minute)..."
	$(BIN)/python -c "from deduce import Deduce; Deduce()" >/dev/null
	$(BIN)/python -c "from kwalitatief.pseudonymise import trimmed_deduce_cache; trimmed_deduce_cache()"
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/kwal run

test: $(STAMP)
	$(BIN)/python -m pytest

# score the coding against a gold file coded by people (default: the shared development set)
GOLD ?= ../shared/eval/coding_dev.jsonl
eval: $(STAMP)
	$(BIN)/kwal eval $(GOLD) --out outputs/eval_$(basename $(notdir $(GOLD))).json

# learning from review: a simulated reviewer answers the queue with the gold file's codes
simulate-review: $(STAMP)
	$(BIN)/python benchmarks/review_learning.py $(GOLD) --every 20

bench: $(STAMP)
	$(BIN)/python benchmarks/run_benchmark.py
	$(BIN)/python benchmarks/review_learning.py $(GOLD) --every 20

# Rewrite requirements.lock from .venv: what is installed stays at its version, a dependency new in
# pyproject.toml gets the newest version it allows. uv's resolver writes the file (uv pip compile).
lock:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m pip freeze --all --exclude-editable > $(VENV)/installed.txt
	$(BIN)/uv pip compile pyproject.toml --extra test --python $(BIN)/python -c $(VENV)/installed.txt \
	    --annotation-style line --custom-compile-command "make lock" --quiet -o $(LOCK)
	@echo "$(LOCK): $$(grep -c '==' $(LOCK)) pinned packages; commit it (and dvc.lock after make run)"

# The newest versions pyproject.toml allows, installed and locked; then rerun and commit dvc.lock.
upgrade:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade -e '.[test]'
	$(MAKE) lock

clean-outputs:
	rm -rf outputs/work outputs/private outputs/cache outputs/*.db outputs/*.html outputs/*.md
