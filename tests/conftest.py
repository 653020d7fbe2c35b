"""Shared fixtures: real components everywhere (Qdrant Edge on disk, MiniLM, llama.cpp with the tiny GGUF)."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

import app  # noqa: F401  (turns on offline mode before any model library loads)
from app.service import Kura
from app.settings import REPO_ROOT, Settings
from retrieval import DenseEmbedder
from tests import network_guard

network_guard.install()

SAMPLES = REPO_ROOT / "samples"
SHARED = REPO_ROOT.parent / "shared"
GGUF = REPO_ROOT / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
# Tests whose subject is not the answer model run the tiny one (10× faster on 2 cores); the default model,
# Qwen2.5-Coder-1.5B, is exercised on purpose where a test says so (test_end_to_end, the offline bundle).
os.environ.setdefault("KURA_LLM_MODEL_PATH", str(GGUF))
# The query graph derived from the embedder is built once for the whole run, not once per test's KURA_HOME.
os.environ.setdefault("KURA_MODEL_CACHE", str(Path(tempfile.gettempdir()) / f"kura-test-models-{os.getuid()}"))


@pytest.fixture(autouse=True)
def no_outbound_traffic():
    """Fails any test during which something in this process tried to reach beyond loopback."""
    before = len(network_guard.violations)
    yield
    attempts = network_guard.violations[before:]
    assert not attempts, f"non-loopback network use attempted: {attempts}"


def shared_path(relative: str) -> Path:
    """A path in ../shared, or skip: CI has it beside the checkout, a bare clone may not."""
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared data folder must sit beside the checkout for this test")
    return path


def require_gguf() -> Path:
    if not GGUF.is_file():
        pytest.skip(f"{GGUF} is missing: run `make setup` to fetch the demo model")
    return GGUF


@pytest.fixture(scope="session")
def embedder() -> DenseEmbedder:
    return DenseEmbedder()


@pytest.fixture(scope="session")
def tiny_embedder(tmp_path_factory) -> Path:
    """A sentence-transformers model with MiniLM's vocabulary and one tiny random layer. For suites about
    reading files and keeping an index in sync, not about embedding quality: thousands of passages embed in seconds."""
    import torch
    from sentence_transformers import SentenceTransformer, models
    from transformers import AutoTokenizer, BertConfig, BertModel

    from retrieval.embed import default_model_path

    folder = tmp_path_factory.mktemp("tiny-embedder")
    tokenizer = AutoTokenizer.from_pretrained(str(default_model_path()))
    torch.manual_seed(0)
    BertModel(
        BertConfig(
            vocab_size=tokenizer.vocab_size,
            hidden_size=32,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=64,
        )
    ).save_pretrained(folder / "bert")
    tokenizer.save_pretrained(folder / "bert")
    transformer = models.Transformer(str(folder / "bert"), max_seq_length=256)
    SentenceTransformer(modules=[transformer, models.Pooling(32, "mean")]).save(str(folder / "model"))
    return folder / "model"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "kura-home", llm_backend="extractive", _env_file=None)


@pytest.fixture
def kura(settings: Settings, embedder: DenseEmbedder):
    """A fresh kura on its own embedded store, sharing the session's loaded embedder."""
    instance = Kura(settings)
    instance.__dict__["embedder"] = embedder
    yield instance
    instance.close()


@pytest.fixture(scope="session")
def ingested_samples(tmp_path_factory, embedder):
    """The sample knowledge base ingested once into its own store; tests only read from it."""
    settings = Settings(home=tmp_path_factory.mktemp("samples") / "kura-home", llm_backend="extractive", _env_file=None)
    instance = Kura(settings)
    instance.__dict__["embedder"] = embedder
    report = instance.ingestor.ingest([SAMPLES], groups=("everyone",))
    assert not report.failed, report.failed
    yield instance
    instance.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url: str, process: subprocess.Popen, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before answering {url}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"no answer from {url} after {timeout_s}s")


@contextlib.contextmanager
def running_server(command: list[str], health_url: str, log_path: Path, **popen):
    """Starts a server process, waits until `health_url` answers, and stops it afterwards; output goes to log_path."""
    with log_path.open("w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, **popen)
        try:
            wait_for_http(health_url, process)
            yield process
        finally:
            process.terminate()
            process.wait(timeout=30)


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory) -> str:
    """A real OpenAI-compatible server (llama.cpp) with the tiny model on a free loopback port → base URL."""
    model = require_gguf()
    port = free_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "4096",
        "--model_alias",
        "smollm2",
    ]
    with running_server(command, base_url + "/models", tmp_path_factory.mktemp("llama-server") / "server.log"):
        yield base_url


@pytest.fixture(scope="session")
def postgres_url():
    """A real PostgreSQL server for this test session, on a free loopback port, in a throwaway data folder."""
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not binaries:
        pytest.skip("PostgreSQL server binaries are not installed (apt-get install postgresql); .ci/run installs them")
    bindir = Path(binaries[-1]).parent
    root = Path(tempfile.mkdtemp(prefix="kura-pg-", dir="/tmp"))
    as_postgres = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(root, "postgres", "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    data, port = root / "data", free_port()
    subprocess.run(
        [*as_postgres, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "kura"],
        check=True,
        capture_output=True,
    )
    pg_ctl = [*as_postgres, str(bindir / "pg_ctl"), "-D", str(data)]
    subprocess.run(
        [*pg_ctl, "-o", f"-p {port} -k {root} -c listen_addresses=127.0.0.1", "-l", str(root / "log"), "-w", "start"],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://kura@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*pg_ctl, "-m", "fast", "-w", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
