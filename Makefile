# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DATA   ?= data/sample
MODEL  ?= models/$(notdir $(abspath $(DATA)))
DEV    := $(firstword $(wildcard $(DATA)/valid.txt $(DATA)/dev.txt))
SEEDS  ?= 1 2 3
TEXT   ?= Major Tom is a great battle commander.

.PHONY: setup setup-inference setup-bench run test test-floors docs bench bench-accuracy bench-distill bench-rawtext bench-speed bench-serve bench-cluster clean

# Everything: training (TensorFlow), tagging and the tests.
setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[train,test,ray,docs]'
	touch $@

# What `pip install ner-lstm` gives a user who only tags (no TensorFlow); the tests drive it.
INFER ?= .venv-inference
setup-inference: $(INFER)/.installed

$(INFER)/.installed: pyproject.toml $(wildcard ner_lstm/*.py ner_lstm/*/*.py ner_lstm/*/*/*.py)
	test -x $(INFER)/bin/python || $(PYTHON) -m venv $(INFER)
	$(INFER)/bin/python -m pip install --quiet --upgrade pip
	$(INFER)/bin/python -m pip install --quiet .
	$(INFER)/bin/python -m pip install --quiet --force-reinstall --no-deps .  # this checkout's code, always
	touch $@

# Benchmarks need a little more (sacremoses for the raw-text benchmark's detokeniser, aiohttp for the load).
setup-bench: $(VENV)/.installed-bench

$(VENV)/.installed-bench: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $@

run: setup
	@test -f $(DATA)/train.txt || { echo "make run: $(DATA)/train.txt not found (DATA=folder with train.txt and valid.txt or dev.txt)" >&2; exit 2; }
	$(BIN)/ner-lstm train --train $(DATA)/train.txt $(if $(DEV),--dev $(DEV)) --model $(MODEL) --overwrite
	$(BIN)/ner-lstm predict --model $(MODEL) "$(TEXT)"

test: setup setup-inference
	NER_LSTM_INFERENCE_VENV=$(INFER) $(BIN)/python -m pytest -q

# The documentation site in build/site (the tests build it too, with --strict, and open it in Chromium).
docs: setup
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# The light install at the lowest versions pyproject.toml admits (.ci/floors.py), built afresh, then the
# inference tests on it: every floor is a version that was tried. .ci/run calls it after `make test`.
FLOORS ?= .venv-floors
test-floors: setup
	rm -rf $(FLOORS) && $(PYTHON) -m venv $(FLOORS)
	$(FLOORS)/bin/python -m pip install --quiet --upgrade pip
	$(BIN)/python .ci/floors.py > $(FLOORS)/floors.txt
	$(FLOORS)/bin/python -m pip install --quiet -c $(FLOORS)/floors.txt .
	NER_LSTM_INFERENCE_VENV=$(FLOORS) NER_LSTM_FLOORS=$(FLOORS)/floors.txt $(BIN)/python -m pytest -q tests/test_inference_install.py

SPACY  := benchmarks/.venv-spacy

bench: bench-accuracy bench-rawtext bench-speed bench-serve bench-cluster

bench-accuracy: setup-bench
	$(BIN)/python benchmarks/accuracy.py --data $(DATA) --seeds $(SEEDS)

# Distillation: teachers (seeds 1-3 of the default recipe, kept by accuracy.py --keep), then a student per seed.
TEACHERS ?= models/teachers
bench-distill: setup-bench
	@test -f $(TEACHERS)/seed3/model.onnx || $(BIN)/python benchmarks/accuracy.py --data $(DATA) --seeds 1 2 3 --keep $(TEACHERS) --out $(TEACHERS)/accuracy.json
	$(BIN)/python benchmarks/distill.py --data $(DATA) --teachers $(TEACHERS)/seed1 $(TEACHERS)/seed2 $(TEACHERS)/seed3 --seeds $(SEEDS)

# Needs a trained model: MODEL=models/conll2003 (make run DATA=... writes it). SPLIT=valid to tune.
SPLIT ?= test
bench-rawtext: setup-bench
	@test -f $(MODEL)/model.onnx || { echo "make bench-rawtext: no trained model in $(MODEL); run 'make run DATA=$(DATA)' first or pass MODEL=dir" >&2; exit 2; }
	$(BIN)/python benchmarks/rawtext.py --data $(DATA) --model $(MODEL) --split $(SPLIT)

# Needs a trained model: MODEL=models/conll2003 (make run DATA=... writes it).
bench-speed: setup-bench setup-inference $(SPACY)/.installed
	@test -f $(MODEL)/model.onnx || { echo "make bench-speed: no trained model in $(MODEL); run 'make run DATA=$(DATA)' first or pass MODEL=dir" >&2; exit 2; }
	$(BIN)/python benchmarks/throughput.py --data $(DATA) --model $(MODEL) --inference-venv $(INFER)

# Needs a trained model; loopback only, 20 s per concurrency level.
bench-serve: setup-bench
	@test -f $(MODEL)/model.onnx || { echo "make bench-serve: no trained model in $(MODEL); run 'make run DATA=$(DATA)' first or pass MODEL=dir" >&2; exit 2; }
	$(BIN)/python benchmarks/serve.py --data $(DATA) --model $(MODEL)

# Needs a trained model; starts and stops a local Ray (ray start --head) around the runs.
bench-cluster: setup
	@test -f $(MODEL)/model.onnx || { echo "make bench-cluster: no trained model in $(MODEL); run 'make run DATA=$(DATA)' first or pass MODEL=dir" >&2; exit 2; }
	$(BIN)/python benchmarks/cluster.py --data $(DATA) --model $(MODEL)

$(SPACY)/.installed:
	test -x $(SPACY)/bin/python || $(PYTHON) -m venv $(SPACY)
	$(SPACY)/bin/python -m pip install --quiet 'spacy>=3.8,<3.9'
	touch $@

clean:
	rm -rf $(VENV) $(INFER) build *.egg-info .pytest_cache
