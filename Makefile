# make demo  - set everything up, start the sandbox, plan and apply the bundled example
# make test  - lint (ruff), types (mypy), then the whole test suite: what CI runs
# make lint  - ruff and mypy only
# make bench - refresh/plan benchmarks against the sandbox, one JSON line per case
# make bench-compare BASE=<git ref> - that commit's bench and this tree's, run turn about, side by side
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test lint bench bench-compare golden install clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest

demo: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/demo.sh

bench: $(STAMP)
	$(BIN)/python -m tests.bench.run

bench-compare: $(STAMP)
	@test -n "$(BASE)" || { echo "make bench-compare BASE=<git ref>: the commit to compare this tree with" >&2; exit 2; }
	$(BIN)/python -m tests.bench.compare --base "$(BASE)"

golden: $(STAMP)
	TETHER_REGENERATE_GOLDEN=1 $(BIN)/python -m pytest tests/golden -q

clean:
	rm -rf $(VENV) demo .bench *.egg-info
