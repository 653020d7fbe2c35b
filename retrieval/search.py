"""Query → vectors → store search. The one entry point every caller (CLI, app, answers) searches through."""

from __future__ import annotations

import dataclasses

import numpy as np

from retrieval.embed import SparseEncoder
from retrieval.embedders import Embedder
from retrieval.languages import is_cjk
from retrieval.second_stage import SecondStage
from retrieval.store import Store
from retrieval.types import AccessScope, SearchHit, SearchMode, SparseVector


@dataclasses.dataclass(frozen=True)
class Feedback:
    """Rocchio feedback on dense vectors: query + weight × mean(top `passages` of the fused first pass).
    Tuned on msmarco (docs/benchmarks.md); the first pass is scoped, so feedback never sees unreadable text."""

    passages: int = 3
    weight: float = 2.0

    def expand(self, query: np.ndarray, vectors: list[np.ndarray]) -> np.ndarray:
        vectors = vectors[: self.passages]
        if not vectors:
            return query
        moved = query + self.weight * np.mean(vectors, axis=0)
        return moved / np.linalg.norm(moved)


BALANCED_DEPTH = 40  # hits ranked again for language balance: a dense prefetch's depth for a 10-result search


class Retriever:
    """Embeds a query both ways and asks the store, always within the caller's AccessScope."""

    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        sparse: SparseEncoder,
        mode: SearchMode = SearchMode.HYBRID,
        reranker: SecondStage | None = None,
        multilingual_embedder: bool = False,
        feedback: Feedback = Feedback(),
        same_language_penalty: float = 0.0,
    ):
        # An English-only embedder (the default MiniLM) adds noise to Japanese queries: they use BM25 alone.
        self.multilingual_embedder = multilingual_embedder
        self.reranker = reranker  # when set, it reorders the filtered candidates
        self.store = store
        self.embedder = embedder
        self.sparse = sparse
        self.mode = mode
        self.feedback = feedback
        # A multilingual model scores passages in the question's own language higher than equally good ones in
        # another: with Japanese and English documents side by side, a Japanese question's top passages are
        # Japanese whatever they say. Ranking and similarity (abstention's measure) subtract this from
        # same-language passages (tuned on the mixed set, docs/benchmarks.md).
        self.same_language_penalty = same_language_penalty

    def search(self, query: str, scope: AccessScope, k: int = 10, mode: SearchMode | None = None) -> list[SearchHit]:
        if not isinstance(scope, AccessScope):
            raise TypeError("search needs an AccessScope: there is no search without the caller's groups")
        if not query.strip():
            return []
        mode = SearchMode(mode or self.mode)
        if mode in (SearchMode.HYBRID, SearchMode.RRF) and not self.multilingual_embedder and is_cjk(query):
            mode = SearchMode.SPARSE
        wanted = max(k, self.reranker.candidates) if self.reranker else k
        balanced = bool(self.same_language_penalty) and mode in (SearchMode.HYBRID, SearchMode.DENSE)  # cosine scores
        limit = max(wanted, BALANCED_DEPTH) if balanced else wanted
        dense, sparse = self.embedder.embed_one(query), self.sparse.query(query)
        hits = self.store_passes(dense, sparse, scope, limit, mode)
        if self.same_language_penalty:
            hits = self._balanced(is_cjk(query), hits, resort=balanced)[:wanted]
        if not self.reranker:
            return hits

        def fetch(chunk_ids: list[str]) -> list[SearchHit]:
            """Passages the second stage found itself, as far as the caller may read them: the index decides."""
            return self.store.search(
                dense=dense, sparse=sparse, mode=SearchMode.DENSE, scope=scope, limit=len(chunk_ids), among=chunk_ids
            )

        return self.reranker.rerank(query, hits, k, scope, fetch)

    def awaiting_reembedding(self) -> int:
        """Passages left out of every search because another embedder made their vectors (KURA_EMBEDDER changed)."""
        return self.store.made_by_others()

    def _balanced(self, question_cjk: bool, hits: list[SearchHit], resort: bool) -> list[SearchHit]:
        """Hits with the same-language penalty taken from their similarity, and (when their scores are cosines)
        from their scores, re-ordered by them (a stable sort: ties keep the store's order)."""
        adjusted = []
        for hit in hits:
            penalty = self.same_language_penalty if is_cjk(hit.chunk.text) == question_cjk else 0.0
            similarity = None if hit.similarity is None else hit.similarity - penalty
            score = hit.score - penalty if resort else hit.score
            adjusted.append(dataclasses.replace(hit, score=score, similarity=similarity))
        return sorted(adjusted, key=lambda hit: -hit.score) if resort else adjusted

    def store_passes(
        self,
        dense: np.ndarray,
        sparse: SparseVector,
        scope: AccessScope,
        limit: int,
        mode: SearchMode = SearchMode.HYBRID,
    ) -> list[SearchHit]:
        """The store queries for an embedded question: one, or for hybrid the fused candidates (ids only) and then
        those candidates ranked by the moved query; re-ranking the pool finds what a second full search would
        (msmarco, docs/benchmarks.md) at a fraction of its cost."""
        if mode != SearchMode.HYBRID:
            return self.store.search(dense=dense, sparse=sparse, mode=mode, scope=scope, limit=limit)
        pool = self.store.candidates(
            dense=dense, sparse=sparse, scope=scope, limit=limit, vectors=self.feedback.passages
        )
        if not pool.ids:
            return []
        hits = self.store.search(
            dense=self.feedback.expand(dense, pool.top_vectors),
            sparse=sparse,
            mode=SearchMode.DENSE,
            scope=scope,
            limit=limit,
            among=pool.ids,
        )
        # similarity stays the cosine to the question as asked: abstention compares it to a threshold
        return [dataclasses.replace(hit, similarity=float(np.dot(dense, hit.vector))) for hit in hits]
