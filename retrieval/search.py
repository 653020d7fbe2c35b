"""Query → vectors → store search. The one entry point every caller (CLI, app, answers) searches through."""

from __future__ import annotations

import dataclasses
from typing import Literal, get_args

import numpy as np

from retrieval.embed import DenseEmbedder, SparseEncoder, is_cjk
from retrieval.rerank import Reranker
from retrieval.store import Store
from retrieval.types import AccessScope, SearchHit, SparseVector

# hybrid: rrf, then the query moved towards its best passages and searched again (pseudo-relevance feedback)
RetrievalMode = Literal["hybrid", "rrf", "dense", "sparse"]
MODES: tuple[str, ...] = get_args(RetrievalMode)


@dataclasses.dataclass(frozen=True)
class Feedback:
    """Rocchio feedback on dense vectors: query + weight × mean(top `passages` of the fused first pass).
    Tuned on msmarco (docs/benchmarks.md); the first pass is scoped, so feedback never sees unreadable text."""

    passages: int = 3
    weight: float = 2.0

    def expand(self, query: np.ndarray, first_pass: list[SearchHit]) -> np.ndarray:
        vectors = [hit.vector for hit in first_pass[:self.passages] if hit.vector is not None]
        if not vectors:
            return query
        moved = query + self.weight * np.mean(vectors, axis=0)
        return moved / np.linalg.norm(moved)


class Retriever:
    """Embeds a query both ways and asks the store, always within the caller's AccessScope."""

    def __init__(self, store: Store, embedder: DenseEmbedder, sparse: SparseEncoder, mode: RetrievalMode = "hybrid",
                 reranker: Reranker | None = None, multilingual_embedder: bool = False,
                 feedback: Feedback = Feedback()):
        # An English-only embedder (the default MiniLM) adds noise to Japanese queries: they use BM25 alone.
        self.multilingual_embedder = multilingual_embedder
        self.reranker = reranker  # when set, it reorders the filtered candidates
        self.store = store
        self.embedder = embedder
        self.sparse = sparse
        self.mode = mode
        self.feedback = feedback

    def search(self, query: str, scope: AccessScope, k: int = 10,
               mode: RetrievalMode | None = None) -> list[SearchHit]:
        if not isinstance(scope, AccessScope):
            raise TypeError("search needs an AccessScope: there is no search without the caller's groups")
        if not query.strip():
            return []
        mode = mode or self.mode
        if mode in ("hybrid", "rrf") and not self.multilingual_embedder and is_cjk(query):
            mode = "sparse"
        limit = max(k, self.reranker.candidates) if self.reranker else k
        hits = self.store_passes(self.embedder.embed_one(query), self.sparse.query(query), scope, limit, mode)
        return self.reranker.rerank(query, hits, k) if self.reranker else hits

    def store_passes(self, dense: np.ndarray, sparse: SparseVector, scope: AccessScope, limit: int,
                     mode: RetrievalMode = "hybrid") -> list[SearchHit]:
        """The store queries for an embedded question: one, or for hybrid the fused pass and the feedback pass."""
        if mode != "hybrid":
            return self.store.search(dense=dense, sparse=sparse, mode=mode, scope=scope, limit=limit)
        first_pass = self.store.search(dense=dense, sparse=sparse, mode="rrf", scope=scope, limit=self.feedback.passages)
        hits = self.store.search(dense=self.feedback.expand(dense, first_pass), sparse=sparse, mode="dense",
                                 scope=scope, limit=limit)
        # similarity stays the cosine to the question as asked: abstention compares it to a threshold
        return [dataclasses.replace(hit, similarity=float(np.dot(dense, hit.vector))) for hit in hits]
