# kura app image: the same code as `make run`, configured by KURA_* environment variables.
FROM python:3.11-slim-bookworm

RUN apt-get update && apt-get install -y --no-install-recommends build-essential cmake curl \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/kura
COPY pyproject.toml README.md requirements.lock ./
COPY app ./app
COPY ingest ./ingest
COPY retrieval ./retrieval
COPY llm ./llm
COPY samples ./samples
COPY .streamlit ./.streamlit

# CPU torch first (no CUDA download), then llama.cpp built for any x86-64, then kura itself.
RUN pip install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu \
    && CMAKE_ARGS="-DGGML_NATIVE=OFF" pip install --no-cache-dir llama-cpp-python==0.3.36 \
    && pip install --no-cache-dir ".[server]" -c requirements.lock

RUN useradd --create-home --uid 10001 kura && mkdir -p /data /models && chown kura /data
USER kura
ENV KURA_HOME=/data \
    KURA_LLM_MODEL_PATH=/models/Qwen2.5-Coder-1.5B-Instruct.Q4_K_M.gguf \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 DO_NOT_TRACK=1 STREAMLIT_BROWSER_GATHER_USAGE_STATS=false

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s CMD curl -fsS http://localhost:8501/_stcore/health || exit 1
CMD ["kura", "app", "--port", "8501", "--address", "0.0.0.0"]
