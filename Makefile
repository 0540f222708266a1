# newsbot: the two commands a fresh machine needs are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint types check preview bench docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/newsbot run

test: $(STAMP)
	$(BIN)/ruff check bot tests bench
	$(BIN)/ruff format --check bot tests bench
	$(BIN)/mypy bot
	scripts/ensure-jekyll && scripts/ensure-postgres && scripts/ensure-chromium && $(BIN)/pytest -q -n 2 --dist loadfile

check: $(STAMP)
	$(BIN)/newsbot check

preview: $(STAMP)
	$(BIN)/newsbot preview

# Every benchmark at newsroom scale, one after the other (about 15 minutes on 2 cores); tables on
# stdout, figures in bench/results/. Pass options on, e.g. BENCH="--only fanout,pace" or "--smoke".
bench: $(STAMP)
	$(BIN)/python -m bench.run_all $(BENCH)

# Rewrite the settings table in the guide and .env.example from bot/settings.py.
docs: $(STAMP)
	$(BIN)/python -m bot.docs

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis
