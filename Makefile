# tariffscope: `make demo` and `make test` work on a fresh machine with only Python 3.11+.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
TS     := $(VENV)/bin/tariffscope
BASE   := $(VENV)/.installed-base
TEST   := $(VENV)/.installed-test
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: demo test fuzz bench embedded-data chromium clean

$(BASE): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "tariffscope needs Python 3.11+"'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	@touch $@

$(TEST): $(BASE)
	$(PY) -m pip install -q -e '.[test]'
	@touch $@

demo: $(BASE)
	$(TS) demo

# Browser tests drive Debian's Chromium; install it when missing (CI runs as root).
chromium:
	@test -x /usr/bin/chromium || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

test: $(TEST) chromium
	$(PY) -m pytest -q -n 2 --dist loadgroup

# The long fuzz run: many hypothesis examples per command with fresh randomness (slow commands too),
# then the fault figures of docs/data.md.
fuzz: $(TEST)
	TARIFFSCOPE_FUZZ_EXAMPLES=200 TARIFFSCOPE_FUZZ_LONG=1 $(PY) -m pytest -q -n 2 tests/test_fuzz_cli.py
	$(PY) scripts/fault_figures.py --per-command 40 --all

bench: $(TEST)
	$(PY) benchmarks/run.py

# Rebuild the package's embedded fact tables from ../shared/data (not needed for demo/test).
embedded-data: $(BASE)
	$(PY) scripts/build_embedded_data.py

clean:
	rm -rf $(VENV) build *.egg-info test-artifacts
