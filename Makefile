# Two entry points: `make run` (the main job on the default local model) and `make test`.
# Both create .venv once; a second call reuses it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Portable build of llama.cpp (runs on any x86-64, not only this CPU).
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF
# Benchmark data lies beside the repo; tests skip what needs it when it is absent.
export BEHAVOPT_DATA ?= $(abspath ../shared/benchmarks)

# The main job: optimize the prompt of a built-in task for the small local target with the larger local optimizer.
RUN_TASK ?= demo:object-counting
RUN_METHOD ?= apo
RUN_TARGET ?= local:qwen2.5-coder-0.5b
RUN_OPTIMIZER ?= local:qwen2.5-coder-1.5b
RUN_OUT ?= runs/make-run

.PHONY: run test setup clean

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[local,hf,test,study]'
	touch $(STAMP)

# A second call resumes the finished run from its checkpoint and cache, so it only prints the result again.
run: $(STAMP)
	$(BIN)/behavopt optimize --task $(RUN_TASK) --method $(RUN_METHOD) --target $(RUN_TARGET) \
		--optimizer $(RUN_OPTIMIZER) --preset quick --out $(RUN_OUT) \
		$$(test -f $(RUN_OUT)/config.json && echo --resume)

# SmolLM2 for the end-to-end plumbing tests; Qwen-1.5B for the adherence judge's check against hand labels.
test: $(STAMP)
	$(BIN)/behavopt models pull smollm2-135m
	$(BIN)/behavopt models pull qwen2.5-coder-1.5b
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) runs
