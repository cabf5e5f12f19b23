# Two entry points on a fresh machine: `make demo` and `make test`. Both create their own
# virtual environment (.venv) and install deidc with everything it needs from PyPI.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test bench samples clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

demo: $(BIN)/.installed
	rm -rf demo-out
	@echo "deidc apply with the shipped PS3.15 Basic profile on samples/ (demo key: NOT for real data)"
	$(BIN)/deidc apply rulesets/ps3.15-basic.deid samples -o demo-out --insecure-demo-key
	@echo "output tree, mappings/, audit.jsonl and quarantine.csv: demo-out/"

test: $(BIN)/.installed
	$(BIN)/python -m pytest

bench: $(BIN)/.installed
	$(BIN)/python bench/throughput.py --workers 1
	$(BIN)/python bench/throughput.py --workers 2

samples: $(BIN)/.installed
	$(BIN)/python scripts/make_samples.py

clean:
	rm -rf $(VENV) demo-out build dist *.egg-info
