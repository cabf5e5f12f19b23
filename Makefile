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
	@# exit 3 = finished with inputs quarantined: samples/README.txt is not DICOM, and says so in quarantine.csv
	$(BIN)/deidc apply rulesets/ps3.15-basic.deid samples -o demo-out --insecure-demo-key || [ $$? -eq 3 ]
	@echo "output tree, mappings/, audit.jsonl and quarantine.csv: demo-out/"

# The fault suite also checks released files with dcmtk's `dcmdump +E` (Debian's dcmtk) when present;
# `deidc verify --conformance` and its tests use dciodvfy (Debian's dicom3tools).
test: $(BIN)/.installed
	@command -v dcmdump >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq dcmtk >/dev/null 2>&1; } \
		|| echo "dcmdump: not installed (apt-get install dcmtk); the fault suite checks outputs with pydicom only"
	@command -v dciodvfy >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq dicom3tools >/dev/null 2>&1; } \
		|| echo "dciodvfy: not installed (apt-get install dicom3tools); the conformance tests are skipped"
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -m "slow or not slow"

# `make bench`: bench/throughput.py measures deidc against two floors and peer tools in one run,
# in a venv of its own (BENCH_VENV) so the peers never touch .venv: deidc (editable) plus the
# peers of bench/requirements-peers.txt, which all accept deidc's pydicom>=3,<4. idiscore 1.2
# pins pydicom<3 and numpy<2 (through dicomgenerator), so it gets its own venv under
# BENCH_PEER_VENVS and throughput.py runs it with that interpreter; if it fails to install, its
# row says "not installed". gdcmanon comes from Debian's libgdcm-tools (installed here when run
# as root). Extra arguments: make bench BENCH_ARGS="--corpus /tmp/ct2000 --json bench.json".
BENCH_VENV ?= .venv-bench
BENCH_PEER_VENVS ?= bench/.venvs
BENCH_ARGS ?=

$(BENCH_VENV)/.installed: pyproject.toml bench/requirements-peers.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	echo '*' > $(BENCH_VENV)/.gitignore
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet -e . -r bench/requirements-peers.txt
	touch $@

$(BENCH_PEER_VENVS)/idiscore/.installed: bench/requirements-idiscore.txt
	mkdir -p $(BENCH_PEER_VENVS) && echo '*' > $(BENCH_PEER_VENVS)/.gitignore
	$(PYTHON) -m venv $(BENCH_PEER_VENVS)/idiscore
	$(BENCH_PEER_VENVS)/idiscore/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_PEER_VENVS)/idiscore/bin/python -m pip install --quiet -r bench/requirements-idiscore.txt \
		&& touch $@ || { rm -rf $(BENCH_PEER_VENVS)/idiscore; echo "idiscore: install failed, benchmarked as not installed"; }

bench: $(BENCH_VENV)/.installed $(BENCH_PEER_VENVS)/idiscore/.installed
	@command -v gdcmanon >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq libgdcm-tools >/dev/null; } \
		|| echo "gdcmanon: not installed (apt-get install libgdcm-tools), its row will say so"
	$(BENCH_VENV)/bin/python bench/throughput.py --venvs $(BENCH_PEER_VENVS) $(BENCH_ARGS)

samples: $(BIN)/.installed
	$(BIN)/python scripts/make_samples.py

clean:
	rm -rf $(VENV) $(BENCH_VENV) $(BENCH_PEER_VENVS) demo-out build dist *.egg-info
