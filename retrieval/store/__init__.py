"""One store interface over two Qdrant engines, chosen by where the index is: a path (Qdrant Edge, embedded)
or a url (a Qdrant server). Engines are imported when chosen, so using one never loads the other."""

from __future__ import annotations

from pathlib import Path

from retrieval.store.base import CollectionLayout, Store, StoreError, StoreLockedError
from retrieval.store.filters import VectorsOf
from retrieval.urls import redacted

__all__ = ["CollectionLayout", "Store", "StoreError", "StoreLockedError", "VectorsOf", "open_store"]


def open_store(
    *,
    path: Path | None = None,
    url: str | None = None,
    api_key: str | None = None,
    collection: str = "kura",
    dim: int,
    layout: CollectionLayout = CollectionLayout(),
    vectors: VectorsOf | None = None,
) -> Store:
    """Qdrant Edge at `path` (embedded default), or the Qdrant server at `url` when one is given. With `vectors`,
    chunks are tagged with the embedder that made them and searches compare only that embedder's vectors."""
    store = _engine(path, url, api_key, collection, dim, layout)
    store.vectors = vectors
    return store


def _engine(
    path: Path | None, url: str | None, api_key: str | None, collection: str, dim: int, layout: CollectionLayout
) -> Store:
    if url:
        from qdrant_client import QdrantClient

        from retrieval.store.server import ServerStore

        return ServerStore(
            QdrantClient(url=url, api_key=api_key, timeout=30),
            collection,
            dim,
            description=redacted(url),
            layout=layout,
        )
    if path is None:
        raise StoreError("Give either a store path (embedded Qdrant Edge) or KURA_QDRANT_URL (Qdrant server).")
    from retrieval.store.edge import EdgeStore

    return EdgeStore(Path(path), dim)
