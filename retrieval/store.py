"""One small store interface over two Qdrant engines: Qdrant Edge in-process, or a Qdrant server.

Both use the same collection layout: named vectors `dense` (cosine) and `sparse` (BM25 term weights with
the IDF modifier, so Qdrant computes IDF), and a payload with doc_id, source, groups and the chunk fields.
Every search takes an AccessScope; the group filter is built from it here, in one place, for both engines.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from retrieval.types import AccessScope, CandidatePool, Chunk, IndexedChunk, SearchHit, SparseVector
from retrieval.urls import redacted

SearchMode = Literal["rrf", "dense", "sparse"]  # rrf: dense and BM25 prefetches fused by Qdrant
INDEXED_KEYWORDS = ("groups", "doc_id", "source", "owner", "text_key")
RRF_K = 60


class StoreError(RuntimeError):
    """The vector store cannot do what was asked; the message says what to do."""


class StoreLockedError(StoreError):
    """The embedded store is owned by another process."""


class Store(Protocol):
    """What ingest and search need from a vector store, whatever engine is behind it."""

    description: str

    def replace_document(self, doc_id: str, chunks: Sequence[IndexedChunk]) -> None:
        """Store a document's chunks, removing any it had before beyond the new ones."""

    def delete_document(self, doc_id: str) -> None: ...

    def vectors_for(self, text_keys: Sequence[str]) -> dict[str, list[float]]:
        """The stored dense vector of each of these texts (by IndexedChunk.text_key) that some chunk already has;
        repeated keys are asked once."""

    def set_groups(self, doc_id: str, groups: Sequence[str]) -> None:
        """Change who may read a document, on every chunk at once, without re-embedding it."""

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
        """The best `limit` readable chunks; `among` narrows the search to these chunk ids (a CandidatePool's)."""

    def candidates(
        self, *, dense: np.ndarray, sparse: SparseVector, scope: AccessScope, limit: int, vectors: int
    ) -> CandidatePool:
        """Every chunk the two prefetches of an rrf search for `limit` results find, in fused order, with the dense
        vectors of the first `vectors`."""

    def count(self, scope: AccessScope | None = None, doc_id: str | None = None) -> int:
        """Chunks in the store; with a scope, only those the caller may read; with a doc_id, that document's."""

    def optimize(self) -> None:
        """Build search indexes over what was written (HNSW, merged segments) after a batch of changes."""

    def close(self) -> None: ...


def _prefetch_limit(limit: int) -> int:
    return max(limit * 4, 40)


def _pool(ids: list, vectors: dict, count: int) -> CandidatePool:
    """A CandidatePool from fused ids and the vectors fetched for the first `count` of them (by id, any order)."""
    ids = [str(i) for i in ids]
    vectors = {str(i): v for i, v in vectors.items()}
    return CandidatePool(ids, [np.asarray(vectors[i], dtype=np.float32) for i in ids[:count] if i in vectors])


def _hits(points, query: np.ndarray) -> list[SearchHit]:
    """Search results as SearchHits, with the dense cosine recomputed so scores mean the same in every mode."""
    hits = []
    for point in points:
        vector = point.vector.get("dense") if isinstance(point.vector, dict) else None
        if vector is not None:
            vector = np.asarray(vector, dtype=np.float32)
        similarity = float(np.dot(query, vector)) if vector is not None else None
        hits.append(SearchHit(Chunk.from_payload(point.payload), float(point.score), similarity, vector))
    return hits


def conditions(
    scope: AccessScope | None = None,
    doc_id: str | None = None,
    min_position: int | None = None,
    text_keys: Sequence[str] | None = None,
    chunk_ids: Sequence[str] | None = None,
) -> list[tuple[str, str, object]]:
    """The filter for any store operation, engine-neutral. Access rules live here and only here:
    a scope always restricts to the caller's groups (an empty group list matches nothing)."""
    result: list[tuple[str, str, object]] = []
    if scope is not None:
        readable = ("any", "groups", list(scope.groups))
        if scope.user:  # or owned by the caller
            readable = ("either", "", [readable, ("value", "owner", scope.user)])
        result.append(readable)
        if scope.sources:
            result.append(("any", "source", list(scope.sources)))
    if doc_id is not None:
        result.append(("value", "doc_id", doc_id))
    if min_position is not None:
        result.append(("gte", "position", min_position))
    if text_keys is not None:
        result.append(("any", "text_key", list(text_keys)))
    if chunk_ids is not None:
        result.append(("ids", "", list(chunk_ids)))
    return result


def collect_vectors(text_keys: Sequence[str], scroll) -> dict[str, list[float]]:
    """One vector per key, by scrolling `scroll(keys, limit) -> points` over the keys not found yet: a text stored
    ten thousand times (a footer, a disclaimer) costs one round, not ten thousand points."""
    found: dict[str, list[float]] = {}
    remaining = set(text_keys)
    while remaining:
        points = scroll(sorted(remaining), len(remaining))
        new = {p.payload["text_key"]: p.vector["dense"] for p in points if p.payload.get("text_key") in remaining}
        if not new:
            break
        found.update(new)
        remaining -= new.keys()
    return found


@dataclass(frozen=True)
class CollectionLayout:
    """How a new collection is spread over a Qdrant cluster (ignored by Edge, which is one shard)."""

    shards: int = 1
    replication: int = 1
    write_consistency: int = 1


def open_store(
    *,
    path: Path | None = None,
    url: str | None = None,
    api_key: str | None = None,
    collection: str = "kura",
    dim: int,
    layout: CollectionLayout = CollectionLayout(),
) -> Store:
    """Qdrant Edge at `path` (embedded default), or the Qdrant server at `url` when one is given."""
    if url:
        from qdrant_client import QdrantClient

        return ServerStore(
            QdrantClient(url=url, api_key=api_key, timeout=30),
            collection,
            dim,
            description=redacted(url),
            layout=layout,
        )
    if path is None:
        raise StoreError("Give either a store path (embedded Qdrant Edge) or KURA_QDRANT_URL (Qdrant server).")
    return EdgeStore(Path(path), dim)


class EdgeStore:
    """Qdrant Edge: the real Qdrant engine in this process. One process owns the store at a time."""

    OWNER_FILE = "kura-owner.json"

    def __init__(self, path: Path, dim: int) -> None:
        import qdrant_edge as q

        self._q = q
        self.path = path
        self.description = f"Qdrant Edge (embedded) at {path}"
        self._lock = threading.RLock()
        config = q.EdgeConfig(
            vectors={"dense": q.EdgeVectorParams(size=dim, distance=q.Distance.Cosine)},
            sparse_vectors={"sparse": q.EdgeSparseVectorParams(modifier=q.Modifier.Idf)},
        )
        try:
            if (path / "wal").exists():
                self._shard = q.EdgeShard.load(str(path), config)
            else:
                path.mkdir(parents=True, exist_ok=True)
                self._shard = q.EdgeShard.create(str(path), config)
        except Exception as exc:  # the binding raises plain Exception with the engine's message
            if "WouldBlock" in str(exc) or "lock" in str(exc).lower():
                raise StoreLockedError(self._locked_message()) from exc
            raise StoreError(f"Cannot open the embedded index at {path}: {exc}") from exc
        (path / self.OWNER_FILE).write_text(
            json.dumps({"pid": os.getpid(), "command": " ".join(sys.argv)[:300], "since": time.time()})
        )
        existing = self._shard.info().payload_schema
        for key in INDEXED_KEYWORDS:
            if key not in existing:
                self._shard.update(q.UpdateOperation.create_field_index(key, q.PayloadSchemaType.Keyword))

    def _locked_message(self) -> str:
        try:
            owner = json.loads((self.path / self.OWNER_FILE).read_text())
            who = f"process {owner['pid']} ({owner['command']})"
        except (OSError, ValueError, KeyError):
            who = "another process"
        return (
            f"The embedded index at {self.path} is in use by {who}. Qdrant Edge allows one process at a time: "
            "use the running app, stop that process, or set KURA_QDRANT_URL to a Qdrant server to share an index."
        )

    def _filter(self, **criteria):
        q = self._q
        build = {
            "any": lambda key, v: q.FieldCondition(key=key, match=q.MatchAny(any=v)),
            "value": lambda key, v: q.FieldCondition(key=key, match=q.MatchValue(v)),
            "gte": lambda key, v: q.FieldCondition(key=key, range=q.RangeFloat(gte=float(v))),
            "ids": lambda _, v: q.HasIdCondition(set(v)),
            "either": lambda _, parts: q.Filter(should=[build[kind](key, v) for kind, key, v in parts]),
        }
        return q.Filter(must=[build[kind](key, value) for kind, key, value in conditions(**criteria)])

    def replace_document(self, doc_id: str, chunks: Sequence[IndexedChunk]) -> None:
        q = self._q
        points = [
            q.Point(
                c.chunk.chunk_id,
                {"dense": [float(x) for x in c.dense], "sparse": q.SparseVector(c.sparse.indices, c.sparse.values)},
                c.payload(),
            )
            for c in chunks
        ]
        # Under one lock so a search in this process sees the old document or the new one, never a mix.
        with self._lock:
            if points:
                self._shard.update(q.UpdateOperation.upsert_points(points))
            self._shard.update(
                q.UpdateOperation.delete_points_by_filter(self._filter(doc_id=doc_id, min_position=len(points)))
            )

    def delete_document(self, doc_id: str) -> None:
        with self._lock:
            self._shard.update(self._q.UpdateOperation.delete_points_by_filter(self._filter(doc_id=doc_id)))

    def vectors_for(self, text_keys: Sequence[str]) -> dict[str, list[float]]:
        q = self._q

        def scroll(keys, limit):
            request = q.ScrollRequest(
                limit=limit, filter=self._filter(text_keys=keys), with_payload=["text_key"], with_vector=["dense"]
            )
            with self._lock:
                return self._shard.scroll(request)[0]

        return collect_vectors(text_keys, scroll)

    def set_groups(self, doc_id: str, groups: Sequence[str]) -> None:
        operation = self._q.UpdateOperation.set_payload_by_filter(self._filter(doc_id=doc_id), {"groups": list(groups)})
        with self._lock:
            self._shard.update(operation)

    def _nearest(self, dense, sparse) -> dict[str, object]:
        """The dense and the BM25 query of a search, by the vector they search."""
        q = self._q
        return {
            "dense": q.Query.Nearest([float(x) for x in dense], using="dense"),
            "sparse": q.Query.Nearest(q.SparseVector(sparse.indices, sparse.values), using="sparse"),
        }

    def _fused(self, dense, sparse, flt, limit: int, pool: bool):
        """The rrf request: a dense and a BM25 prefetch, fused by Qdrant; for a pool, every candidate, ids only."""
        q = self._q
        prefetch = _prefetch_limit(limit)
        return q.QueryRequest(
            limit=2 * prefetch if pool else limit,
            prefetches=[
                q.Prefetch(limit=prefetch, query=query, filter=flt) for query in self._nearest(dense, sparse).values()
            ],
            query=q.Fusion.Rrf(k=RRF_K),
            filter=flt,
            with_payload=not pool,
            with_vector=False if pool else ["dense"],
        )

    def search(self, *, dense, sparse, mode, scope, limit, among=None):
        q = self._q
        flt = self._filter(scope=scope, chunk_ids=among)
        if mode == "rrf":
            request = self._fused(dense, sparse, flt, limit, pool=False)
        else:
            request = q.QueryRequest(
                limit=limit,
                query=self._nearest(dense, sparse)[mode],
                filter=flt,
                with_payload=True,
                with_vector=["dense"],
            )
        with self._lock:
            points = self._shard.query(request)
        return _hits(points, dense)

    def candidates(self, *, dense, sparse, scope, limit, vectors):
        request = self._fused(dense, sparse, self._filter(scope=scope), limit, pool=True)
        with self._lock:
            ids = [point.id for point in self._shard.query(request)]
            # the ids come from the scoped query above: their vectors are the caller's to use
            records = (
                self._shard.retrieve(ids[:vectors], with_payload=False, with_vector=["dense"]) if ids[:vectors] else []
            )
        return _pool(ids, {r.id: r.vector["dense"] for r in records}, vectors)

    def count(self, scope: AccessScope | None = None, doc_id: str | None = None) -> int:
        flt = self._filter(scope=scope, doc_id=doc_id) if scope is not None or doc_id is not None else None
        with self._lock:
            return self._shard.count(self._q.CountRequest(exact=True, filter=flt))

    def optimize(self) -> None:
        """Edge indexes only when asked: until then new points are searched by brute force."""
        with self._lock:
            self._shard.optimize()

    def close(self) -> None:
        with self._lock:
            if self._shard is not None:
                self._shard.flush()
                self._shard.close()
                self._shard = None
                (self.path / self.OWNER_FILE).unlink(missing_ok=True)


class ServerStore:
    """A Qdrant server (or qdrant-client's local mode, which speaks the same API) through qdrant-client."""

    def __init__(
        self, client, collection: str, dim: int, description: str, layout: CollectionLayout = CollectionLayout()
    ) -> None:
        from qdrant_client import models as m

        self._m = m
        self._client = client
        self.collection = collection
        self.description = f"Qdrant server at {description}, collection {collection}"
        try:
            exists = client.collection_exists(collection)
        except Exception as exc:
            raise StoreError(
                f"The Qdrant server at {description} is not answering ({exc}). Check that it runs and KURA_QDRANT_URL."
            ) from exc
        if not exists:
            client.create_collection(
                collection,
                vectors_config={"dense": m.VectorParams(size=dim, distance=m.Distance.COSINE)},
                sparse_vectors_config={"sparse": m.SparseVectorParams(modifier=m.Modifier.IDF)},
                shard_number=layout.shards,
                replication_factor=layout.replication,
                write_consistency_factor=layout.write_consistency,
            )
        indexed = client.get_collection(collection).payload_schema or {}
        with warnings.catch_warnings():  # qdrant-client's local mode ignores payload indexes, and says so
            warnings.simplefilter("ignore", UserWarning)
            for key in INDEXED_KEYWORDS:
                if key not in indexed:  # a collection made by an older kura gains the indexes added since
                    # groups is the tenant key of every query: Qdrant co-locates each group's points for it.
                    schema = m.KeywordIndexParams(type=m.KeywordIndexType.KEYWORD, is_tenant=key == "groups")
                    client.create_payload_index(collection, key, schema)

    @contextlib.contextmanager
    def _answering(self):
        """Connection and server failures in the middle of work become StoreError: the batch stops and says so."""
        from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

        try:
            yield
        except (ResponseHandlingException, UnexpectedResponse, ConnectionError, TimeoutError) as exc:
            raise StoreError(
                f"{self.description} stopped answering ({exc}). Nothing half-written is recorded: "
                "run the same command again once Qdrant is back, and it resumes."
            ) from exc

    def _filter(self, **criteria):
        m = self._m
        build = {
            "any": lambda key, v: m.FieldCondition(key=key, match=m.MatchAny(any=v)),
            "value": lambda key, v: m.FieldCondition(key=key, match=m.MatchValue(value=v)),
            "gte": lambda key, v: m.FieldCondition(key=key, range=m.Range(gte=v)),
            "ids": lambda _, v: m.HasIdCondition(has_id=v),
            "either": lambda _, parts: m.Filter(should=[build[kind](key, v) for kind, key, v in parts]),
        }
        return m.Filter(must=[build[kind](key, value) for kind, key, value in conditions(**criteria)])

    def replace_document(self, doc_id: str, chunks: Sequence[IndexedChunk]) -> None:
        m = self._m
        points = [
            m.PointStruct(
                id=c.chunk.chunk_id,
                vector={
                    "dense": [float(x) for x in c.dense],
                    "sparse": m.SparseVector(indices=c.sparse.indices, values=c.sparse.values),
                },
                payload=c.payload(),
            )
            for c in chunks
        ]
        with self._answering():
            if points:
                self._client.upsert(self.collection, points=points, wait=True)
            self._client.delete(
                self.collection,
                points_selector=m.FilterSelector(filter=self._filter(doc_id=doc_id, min_position=len(points))),
                wait=True,
            )

    def delete_document(self, doc_id: str) -> None:
        m = self._m
        with self._answering():
            self._client.delete(
                self.collection, points_selector=m.FilterSelector(filter=self._filter(doc_id=doc_id)), wait=True
            )

    def vectors_for(self, text_keys: Sequence[str]) -> dict[str, list[float]]:
        def scroll(keys, limit):
            with self._answering():
                return self._client.scroll(
                    self.collection,
                    scroll_filter=self._filter(text_keys=keys),
                    limit=limit,
                    with_payload=["text_key"],
                    with_vectors=["dense"],
                )[0]

        return collect_vectors(text_keys, scroll)

    def set_groups(self, doc_id: str, groups: Sequence[str]) -> None:
        m = self._m
        with self._answering():
            self._client.set_payload(
                self.collection,
                payload={"groups": list(groups)},
                points=m.FilterSelector(filter=self._filter(doc_id=doc_id)),
                wait=True,
            )

    def _nearest(self, dense, sparse) -> dict[str, object]:
        """The dense and the BM25 query of a search, by the vector they search."""
        return {
            "dense": [float(x) for x in dense],
            "sparse": self._m.SparseVector(indices=sparse.indices, values=sparse.values),
        }

    def _fused(self, dense, sparse, flt, limit: int) -> dict:
        m = self._m
        prefetch = _prefetch_limit(limit)
        return dict(
            prefetch=[
                m.Prefetch(query=query, using=using, limit=prefetch, filter=flt)
                for using, query in self._nearest(dense, sparse).items()
            ],
            query=m.RrfQuery(rrf=m.Rrf(k=RRF_K)),
            query_filter=flt,
        )

    def search(self, *, dense, sparse, mode, scope, limit, among=None):
        flt = self._filter(scope=scope, chunk_ids=among)
        if mode == "rrf":
            request = self._fused(dense, sparse, flt, limit)
        else:
            request = dict(query=self._nearest(dense, sparse)[mode], using=mode, query_filter=flt)
        with self._answering():
            response = self._client.query_points(
                self.collection, **request, limit=limit, with_payload=True, with_vectors=["dense"]
            )
        return _hits(response.points, dense)

    def candidates(self, *, dense, sparse, scope, limit, vectors):
        request = self._fused(dense, sparse, self._filter(scope=scope), limit)
        with self._answering():
            points = self._client.query_points(
                self.collection, **request, limit=2 * _prefetch_limit(limit), with_payload=False, with_vectors=False
            ).points
            ids = [point.id for point in points]
            # the ids come from the scoped query above: their vectors are the caller's to use
            records = (
                self._client.retrieve(self.collection, ids=ids[:vectors], with_payload=False, with_vectors=["dense"])
                if ids[:vectors]
                else []
            )
        return _pool(ids, {r.id: r.vector["dense"] for r in records}, vectors)

    def count(self, scope: AccessScope | None = None, doc_id: str | None = None) -> int:
        flt = self._filter(scope=scope, doc_id=doc_id) if scope is not None or doc_id is not None else None
        with self._answering():
            return self._client.count(self.collection, count_filter=flt, exact=True).count

    def optimize(self) -> None:
        """A Qdrant server optimizes continuously in the background: nothing to do."""

    def close(self) -> None:
        self._client.close()
