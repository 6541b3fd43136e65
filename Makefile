# Everything a fresh machine needs (Python 3.11 + make) is set up by these targets.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
REGDESK_TEST_PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres
export REGDESK_TEST_PG_URL

.PHONY: demo test bench clean setup screenshots

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/regdesk demo

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# SVG screenshots of the main screens at 80x24 for the README (docs/screens/).
screenshots: $(STAMP)
	$(BIN)/python tools/screenshots.py $(SCREENSHOT_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info src/*.egg-info
