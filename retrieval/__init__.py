"""Finding chunks: embeddings, the vector store (Qdrant Edge or a Qdrant server), and search."""

from retrieval.embed import DenseEmbedder, SparseEncoder
from retrieval.errors import ConfigError, KuraError, RetrievalError
from retrieval.search import Retriever
from retrieval.store import Store, StoreError, StoreLockedError, open_store
from retrieval.types import AccessScope, Chunk, IndexedChunk, SearchHit, SearchMode, SparseVector

__all__ = [
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
