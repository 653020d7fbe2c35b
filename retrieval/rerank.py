"""An optional second stage: a cross-encoder reads the question and each candidate passage together and
reorders them. Candidates come from the filtered search, so reranking never widens what a caller can see."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from retrieval.errors import ConfigError
from retrieval.types import AccessScope, SearchHit

if TYPE_CHECKING:
    from retrieval.second_stage import Fetch


class Reranker:
    """A sentence-transformers CrossEncoder from a local folder (KURA_RERANKER_MODEL); never downloads."""

    def __init__(self, model_path: Path, candidates: int = 30) -> None:
        from sentence_transformers import CrossEncoder

        self.model_path = Path(model_path)
        if not (self.model_path / "config.json").exists():
            raise ConfigError(
                f"No cross-encoder model at {self.model_path}. Set KURA_RERANKER_MODEL to a "
                "local folder (e.g. a copy of cross-encoder/ms-marco-MiniLM-L-6-v2)."
            )
        self.model = CrossEncoder(str(self.model_path), device="cpu", local_files_only=True)
        self.candidates = candidates

    def rerank(self, query: str, hits: list[SearchHit], k: int, scope: AccessScope, fetch: Fetch) -> list[SearchHit]:
        """The k best of `hits` by cross-encoder score (kept as `score`; the dense `similarity` is unchanged). It reads
        only the candidates it is given: it has no index of its own to search (`scope`, `fetch` unused)."""
        if not hits:
            return []
        scores = self.model.predict([(query, hit.chunk.text) for hit in hits], show_progress_bar=False)
        ranked = sorted(zip(hits, scores), key=lambda pair: -float(pair[1]))
        return [replace(hit, score=float(score)) for hit, score in ranked[:k]]
