"""The one typed interface both Qdrant engines implement (cf. qdrant-client's client_base.py).

What a store does is written once, here, in qdrant-client's request models (points, filters, queries); an
engine only carries those requests out: `server.py` sends them as they are, `edge.py` converts them to Qdrant
Edge's types at its boundary. Both use the same collection layout: named vectors `dense` (cosine) and `sparse`
(BM25 term weights with the IDF modifier, so Qdrant computes IDF), and a payload with doc_id, source, groups
and the chunk fields."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from retrieval.errors import RetrievalError
from retrieval.store import filters
from retrieval.store.models import models
from retrieval.types import AccessScope, CandidatePool, Chunk, IndexedChunk, SearchHit, SearchMode, SparseVector

INDEXED_KEYWORDS = ("groups", "doc_id", "source", "owner", "text_key", "embedder")
RRF_K = 60


class StoreError(RetrievalError):
    """The vector store cannot do what was asked; the message says what to do."""


class StoreLockedError(StoreError):
    """The embedded store is owned by another process."""


@dataclass(frozen=True)
class CollectionLayout:
    """How a new collection is spread over a Qdrant cluster (ignored by Edge, which is one shard)."""

    shards: int = 1
    replication: int = 1
    write_consistency: int = 1


def prefetch_limit(limit: int) -> int:
    return max(limit * 4, 40)


def nearest(dense: np.ndarray, sparse: SparseVector) -> dict[str, models.NearestQuery]:
    """The dense and the BM25 query of a search, by the vector they search."""
    return {
        "dense": models.NearestQuery(nearest=[float(x) for x in dense]),
        "sparse": models.NearestQuery(nearest=models.SparseVector(indices=sparse.indices, values=sparse.values)),
    }


def fused(
    dense: np.ndarray, sparse: SparseVector, flt: models.Filter | None, limit: int, pool: bool
) -> models.QueryRequest:
    """The rrf request: a dense and a BM25 prefetch, fused by Qdrant; for a pool, every candidate, ids only."""
    prefetch = prefetch_limit(limit)
    return models.QueryRequest(
        prefetch=[
            models.Prefetch(query=query, using=using, limit=prefetch, filter=flt)
            for using, query in nearest(dense, sparse).items()
        ],
        query=models.RrfQuery(rrf=models.Rrf(k=RRF_K)),
        filter=flt,
        limit=2 * prefetch if pool else limit,
        with_payload=not pool,
        with_vector=False if pool else ["dense"],
    )


def hits(points: Sequence[Any], query: np.ndarray) -> list[SearchHit]:
    """Search results as SearchHits, with the dense cosine recomputed so scores mean the same in every mode."""
    found = []
    for point in points:
        vector = point.vector.get("dense") if isinstance(point.vector, dict) else None
        if vector is not None:
            vector = np.asarray(vector, dtype=np.float32)
        similarity = float(np.dot(query, vector)) if vector is not None else None
        found.append(SearchHit(Chunk.from_payload(point.payload), float(point.score), similarity, vector))
    return found


class Store(ABC):
    """What ingest and search need from a vector store, whatever engine is behind it."""

    description: str
    vectors: filters.VectorsOf | None = None  # the embedder whose vectors this store writes and searches

    # -- what kura asks of a store, written once ------------------------------------------------------------

    def replace_document(self, doc_id: str, chunks: Sequence[IndexedChunk]) -> None:
        """Store a document's chunks, removing any it had before beyond the new ones."""
        points = [
            models.PointStruct(
                id=c.chunk.chunk_id,
                vector={
                    "dense": [float(x) for x in c.dense],
                    "sparse": models.SparseVector(indices=c.sparse.indices, values=c.sparse.values),
                },
                payload={**c.payload(), "embedder": self.vectors.embedder} if self.vectors else c.payload(),
            )
            for c in chunks
        ]
        self._replace(points, filters.build(doc_id=doc_id, min_position=len(points)))

    def delete_document(self, doc_id: str) -> None:
        self._delete(filters.build(doc_id=doc_id))

    def vectors_for(self, text_keys: Sequence[str]) -> dict[str, list[float]]:
        """The stored dense vector of each of these texts (by IndexedChunk.text_key) that some chunk already has.
        One scroll per round over the keys not found yet: a text stored ten thousand times (a footer, a
        disclaimer) costs one round, not ten thousand points."""
        found: dict[str, list[float]] = {}
        remaining = set(text_keys)
        while remaining:
            points = self._scroll(filters.build(text_keys=sorted(remaining)), len(remaining))
            new = {p.payload["text_key"]: p.vector["dense"] for p in points if p.payload.get("text_key") in remaining}
            if not new:
                break
            found.update(new)
            remaining -= new.keys()
        return found

    def set_groups(self, doc_id: str, groups: Sequence[str]) -> None:
        """Change who may read a document, on every chunk at once, without re-embedding it."""
        self._set_payload(filters.build(doc_id=doc_id), {"groups": list(groups)})

    def search(
        self,
        *,
        dense: np.ndarray,
        sparse: SparseVector,
        mode: SearchMode,
        scope: AccessScope,
        limit: int,
        among: Sequence[str] | None = None,
    ) -> list[SearchHit]:
        """The best `limit` readable chunks; `among` narrows the search to these chunk ids (a CandidatePool's).
        rrf: a dense and a BM25 prefetch fused by Qdrant; dense or sparse: one of them alone."""
        mode = SearchMode(mode)
        if mode is SearchMode.HYBRID:
            raise ValueError("hybrid is the Retriever's mode (feedback over rrf candidates), not a store query")
        flt = filters.build(scope=scope, vectors=self.vectors, chunk_ids=among)
        if mode is SearchMode.RRF:
            request = fused(dense, sparse, flt, limit, pool=False)
        else:
            request = models.QueryRequest(
                query=nearest(dense, sparse)[mode],
                using=str(mode),
                filter=flt,
                limit=limit,
                with_payload=True,
                with_vector=["dense"],
            )
        return hits(self._query(request), dense)

    def candidates(
        self, *, dense: np.ndarray, sparse: SparseVector, scope: AccessScope, limit: int, vectors: int
    ) -> CandidatePool:
        """Every chunk the two prefetches of an rrf search for `limit` results find, in fused order, with the dense
        vectors of the first `vectors`."""
        ids = [
            str(point.id)
            for point in self._query(
                fused(dense, sparse, filters.build(scope=scope, vectors=self.vectors), limit, True)
            )
        ]
        # the ids come from the scoped query above: their vectors are the caller's to use
        found = {str(r.id): r.vector["dense"] for r in self._retrieve(ids[:vectors], with_payload=False)}
        return CandidatePool(ids, [np.asarray(found[i], dtype=np.float32) for i in ids[:vectors] if i in found])

    def passages(
        self, scope: AccessScope, *, doc_id: str | None = None, chunk_ids: Sequence[str] | None = None
    ) -> list[Chunk]:
        """A document's chunks, or these chunks, in document order, as far as the scope may read them: one it may
        not read is left out, as one that is not there."""
        flt = filters.build(scope=scope, doc_id=doc_id, chunk_ids=chunk_ids)
        found = self._count(flt)
        points = self._scroll(flt, found, whole=True) if found else []
        return sorted((Chunk.from_payload(p.payload) for p in points), key=lambda c: (c.doc_id, c.position))

    def count(self, scope: AccessScope | None = None, doc_id: str | None = None) -> int:
        """Chunks in the store; with a scope, only those the caller may read; with a doc_id, that document's."""
        return self._count(filters.build(scope=scope, doc_id=doc_id))

    def made_by_others(self) -> int:
        """Chunks embedded by another model than this store's (KURA_EMBEDDER changed): search leaves them out until
        an ingest re-embeds them."""
        return self._count(filters.made_by_others(self.vectors)) if self.vectors else 0

    # -- a second stage's vectors: a store of their own, keyed by the chunk ids of the index they belong to -----

    def keep_vectors(self, vectors: dict[str, tuple[np.ndarray, dict[str, Any]]]) -> None:
        """Store each vector under its chunk's id, with its payload (the key of its text, a copy of its access)."""
        points = [
            models.PointStruct(id=chunk_id, vector={"dense": [float(x) for x in vector]}, payload=payload)
            for chunk_id, (vector, payload) in vectors.items()
        ]
        if points:
            self._replace(points, None)

    def kept_vectors(self, chunk_ids: Sequence[str]) -> dict[str, tuple[np.ndarray, dict[str, Any]]]:
        """The vector kept for each of these chunk ids that has one, with its payload."""
        return {
            str(r.id): (np.asarray(r.vector["dense"], dtype=np.float32), r.payload or {})
            for r in self._retrieve(list(chunk_ids), with_payload=True)
        }

    def kept_payloads(self, chunk_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The payload kept for each of these chunk ids that has one, without its vector."""
        return {
            str(r.id): r.payload or {} for r in self._retrieve(list(chunk_ids), with_payload=True, with_vector=False)
        }

    def set_kept_payload(self, chunk_id: str, payload: dict[str, Any]) -> None:
        """Replace the payload kept with one vector (its readers changed), the vector as it is."""
        self._set_payload(filters.build(chunk_ids=[chunk_id]), payload)

    def present(self, chunk_ids: Sequence[str]) -> set[str]:
        """Which of these chunk ids the store holds."""
        return {str(r.id) for r in self._retrieve(list(chunk_ids), with_payload=False, with_vector=False)}

    def nearest_ids(self, vector: np.ndarray, scope: AccessScope, limit: int) -> list[str]:
        """The ids of the `limit` points nearest to `vector` that the scope may read, by their payload's access."""
        request = models.QueryRequest(
            query=models.NearestQuery(nearest=[float(x) for x in vector]),
            using="dense",
            filter=filters.build(scope=scope),
            limit=limit,
            with_payload=False,
            with_vector=False,
        )
        return [str(point.id) for point in self._query(request)]

    def forget(self, chunk_ids: Sequence[str]) -> None:
        if chunk_ids:
            self._delete(filters.build(chunk_ids=chunk_ids))

    def every_chunk(self, after: Any = None, limit: int = 64) -> tuple[list[Chunk], Any]:
        """A page of every chunk, whoever may read it, and where the next page starts (None after the last): for
        upkeep that turns passages into vectors (a second stage's upgrade), never shown to anyone."""
        points, following = self._page(limit, after, with_payload=True)
        return [Chunk.from_payload(p.payload) for p in points], following

    def every_id(self, after: Any = None, limit: int = 256) -> tuple[list[str], Any]:
        """A page of every point's id, and where the next page starts (None after the last)."""
        points, following = self._page(limit, after, with_payload=False)
        return [str(p.id) for p in points], following

    @abstractmethod
    def optimize(self) -> None:
        """Build search indexes over what was written (HNSW, merged segments) after a batch of changes."""

    @abstractmethod
    def close(self) -> None: ...

    # -- what an engine carries out -------------------------------------------------------------------------

    @abstractmethod
    def _replace(self, points: list[models.PointStruct], stale: models.Filter | None) -> None:
        """Upsert the points, then delete what `stale` matches (None: nothing), so no reader sees a mix."""

    @abstractmethod
    def _delete(self, flt: models.Filter | None) -> None: ...

    @abstractmethod
    def _set_payload(self, flt: models.Filter | None, payload: dict[str, Any]) -> None: ...

    @abstractmethod
    def _scroll(self, flt: models.Filter | None, limit: int, whole: bool = False) -> Sequence[Any]:
        """Points with their text_key payload and dense vector; `whole`: with their whole payload, no vector."""

    @abstractmethod
    def _query(self, request: models.QueryRequest) -> Sequence[Any]:
        """Scored points with .id, .score, .payload and .vector."""

    @abstractmethod
    def _retrieve(self, ids: list[str], with_payload: bool, with_vector: bool = True) -> Sequence[Any]:
        """These points (those that exist) with .id; with their dense vector and their payload (a second stage's
        store: small) as asked."""

    @abstractmethod
    def _page(self, limit: int, offset: Any, with_payload: bool) -> tuple[Sequence[Any], Any]:
        """Up to `limit` points from `offset` on, in id order, without vectors, and the next page's offset."""

    @abstractmethod
    def _count(self, flt: models.Filter | None) -> int: ...
