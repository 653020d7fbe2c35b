"""Query → vectors → store search. The one entry point every caller (CLI, app, answers) searches through."""

from __future__ import annotations

from retrieval.embed import DenseEmbedder, SparseEncoder, is_cjk
from retrieval.rerank import Reranker
from retrieval.store import SearchMode, Store
from retrieval.types import AccessScope, SearchHit


class Retriever:
    """Embeds a query both ways and asks the store, always within the caller's AccessScope."""

    def __init__(self, store: Store, embedder: DenseEmbedder, sparse: SparseEncoder, mode: SearchMode = "hybrid",
                 reranker: Reranker | None = None, multilingual_embedder: bool = False):
        # An English-only embedder (the default MiniLM) adds noise to Japanese queries: they use BM25 alone.
        self.multilingual_embedder = multilingual_embedder
        self.reranker = reranker  # when set, it reorders the filtered candidates
        self.store = store
        self.embedder = embedder
        self.sparse = sparse
        self.mode = mode

    def search(self, query: str, scope: AccessScope, k: int = 10, mode: SearchMode | None = None) -> list[SearchHit]:
        if not isinstance(scope, AccessScope):
            raise TypeError("search needs an AccessScope: there is no search without the caller's groups")
        if not query.strip():
            return []
        mode = mode or self.mode
        if mode == "hybrid" and not self.multilingual_embedder and is_cjk(query):
            mode = "sparse"
        hits = self.store.search(
            dense=self.embedder.embed_one(query),
            sparse=self.sparse.query(query),
            mode=mode,
            scope=scope,
            limit=max(k, self.reranker.candidates) if self.reranker else k,
        )
        return self.reranker.rerank(query, hits, k) if self.reranker else hits
