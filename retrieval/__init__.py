"""Finding chunks: embeddings, the vector store (Qdrant Edge or a Qdrant server), and search.

Names are imported on first use (retrieval/exports.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from retrieval.exports import on_first_use

if TYPE_CHECKING:
    from retrieval.embed import DenseEmbedder, SparseEncoder
    from retrieval.errors import ConfigError, KuraError, RetrievalError
    from retrieval.search import Retriever
    from retrieval.store import Store, StoreError, StoreLockedError, open_store
    from retrieval.types import AccessScope, Chunk, IndexedChunk, SearchHit, SearchMode, SparseVector

_WHERE = {
    "DenseEmbedder": "retrieval.embed",
    "SparseEncoder": "retrieval.embed",
    "ConfigError": "retrieval.errors",
    "KuraError": "retrieval.errors",
    "RetrievalError": "retrieval.errors",
    "Retriever": "retrieval.search",
    "Store": "retrieval.store",
    "StoreError": "retrieval.store",
    "StoreLockedError": "retrieval.store",
    "open_store": "retrieval.store",
    "AccessScope": "retrieval.types",
    "Chunk": "retrieval.types",
    "IndexedChunk": "retrieval.types",
    "SearchHit": "retrieval.types",
    "SearchMode": "retrieval.types",
    "SparseVector": "retrieval.types",
}
__all__ = [  # the same names as _WHERE
    "AccessScope",
    "Chunk",
    "ConfigError",
    "DenseEmbedder",
    "IndexedChunk",
    "KuraError",
    "RetrievalError",
    "Retriever",
    "SearchHit",
    "SearchMode",
    "SparseEncoder",
    "SparseVector",
    "Store",
    "StoreError",
    "StoreLockedError",
    "open_store",
]


__getattr__ = on_first_use(__name__, _WHERE)
