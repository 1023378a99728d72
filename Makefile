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

.PHONY: run test setup clean llama-server

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[local,hf,test,study,tracking,ray]'
	touch $(STAMP)

# A second call resumes the finished run from its checkpoint and cache, so it only prints the result again.
run: $(STAMP)
	$(BIN)/behavopt optimize --task $(RUN_TASK) --method $(RUN_METHOD) --target $(RUN_TARGET) \
		--optimizer $(RUN_OPTIMIZER) --preset quick --out $(RUN_OUT) \
		$$(test -f $(RUN_OUT)/config.json && echo --resume)

# SmolLM2 for the end-to-end plumbing tests; Qwen-1.5B for the adherence judge's check against hand labels;
# Debian's chromium for the reports' browser test (installed where apt can; the test skips without it).
test: $(STAMP)
	command -v chromium >/dev/null 2>&1 || (apt-get install -y -qq chromium || (apt-get update -qq && \
		apt-get install -y -qq chromium)) >/dev/null 2>&1 || echo "chromium not installed: the browser test skips"
	$(BIN)/behavopt models pull smollm2-135m
	$(BIN)/behavopt models pull qwen2.5-coder-1.5b
	$(BIN)/python -m pytest -q --durations=25

# Optional: llama.cpp's own server (parallel slots, `behavopt serve --llama-server .build/llama-server --parallel N`),
# built offline from the llama.cpp sources inside the llama-cpp-python sdist we pin (same llama.cpp as in-process).
LLAMA_CPP_PYTHON := 0.3.36
LLAMA_SERVER := .build/llama-server
llama-server: $(LLAMA_SERVER)

$(LLAMA_SERVER):
	mkdir -p .build/src
	$(PYTHON) -m pip download --quiet --no-deps --no-binary :all: llama-cpp-python==$(LLAMA_CPP_PYTHON) -d .build/src
	tar xzf .build/src/llama_cpp_python-$(LLAMA_CPP_PYTHON).tar.gz -C .build/src
	cmake -S .build/src/llama_cpp_python-$(LLAMA_CPP_PYTHON)/vendor/llama.cpp -B .build/llama.cpp \
		-DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
		-DLLAMA_BUILD_APP=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF -DLLAMA_BUILD_SERVER=ON
	cmake --build .build/llama.cpp --target llama-server -j $$(nproc)
	ln -sf llama.cpp/bin/llama-server $@  # a link: the binary finds its shared libraries beside it

clean:
	rm -rf $(VENV) runs .build
