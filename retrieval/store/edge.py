"""Qdrant Edge: the real Qdrant engine in this process. One process owns the store at a time.

Store builds its requests in qdrant-client's models; `to_edge` converts the few shapes kura uses (filters,
nearest and rrf queries, prefetches, points) into Qdrant Edge's types, here at the engine boundary only."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import qdrant_edge as q

from retrieval.store.base import INDEXED_KEYWORDS, Store, StoreError, StoreLockedError
from retrieval.store.models import models


def to_edge(value: Any) -> Any:
    """One qdrant-client model (or None, or a list of them) as the Qdrant Edge object that means the same."""
    match value:
        case None:
            return None
        case list():
            return [to_edge(item) for item in value]
        case models.Filter():
            return q.Filter(
                must=to_edge(value.must or []),
                should=to_edge(value.should or []),
                must_not=to_edge(value.must_not or []),
            )
        case models.IsEmptyCondition(is_empty=models.PayloadField(key=key)):
            return q.IsEmptyCondition(key)
        case models.FieldCondition(match=models.MatchAny(any=values)):
            return q.FieldCondition(key=value.key, match=q.MatchAny(any=list(values)))
        case models.FieldCondition(match=models.MatchValue(value=single)):
            return q.FieldCondition(key=value.key, match=q.MatchValue(single))
        case models.FieldCondition(range=models.Range(gte=low)) if low is not None:
            return q.FieldCondition(key=value.key, range=q.RangeFloat(gte=float(low)))
        case models.HasIdCondition():
            return q.HasIdCondition(set(value.has_id))
        case models.SparseVector():
            return q.SparseVector(value.indices, value.values)
        case models.PointStruct():
            vectors = {
                name: to_edge(v) if isinstance(v, models.SparseVector) else v for name, v in value.vector.items()
            }
            return q.Point(value.id, vectors, value.payload)
    raise TypeError(f"no Qdrant Edge form for {type(value).__name__}: add it to retrieval/store/edge.py")


def edge_query(query: Any, using: str | None) -> Any:
    match query:
        case models.NearestQuery(nearest=vector):
            return q.Query.Nearest(to_edge(vector) if isinstance(vector, models.SparseVector) else vector, using=using)
        case models.RrfQuery(rrf=models.Rrf(k=k)):
            return q.Fusion.Rrf(k=k)
    raise TypeError(f"no Qdrant Edge form for {type(query).__name__}: add it to retrieval/store/edge.py")


def edge_request(request: models.QueryRequest) -> q.QueryRequest:
    prefetches = [
        q.Prefetch(limit=p.limit, query=edge_query(p.query, p.using), filter=to_edge(p.filter))
        for p in request.prefetch or []
    ]
    return q.QueryRequest(
        limit=request.limit,
        prefetches=prefetches,
        query=edge_query(request.query, request.using),
        filter=to_edge(request.filter),
        with_payload=request.with_payload,
        with_vector=request.with_vector,
    )


class EdgeStore(Store):
    OWNER_FILE = "kura-owner.json"

    def __init__(self, path: Path, dim: int) -> None:
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

    # Every engine call holds the lock: a search in this process sees the old document or the new one, never a mix.

    def _replace(self, points, stale):
        with self._lock:
            if points:
                self._shard.update(q.UpdateOperation.upsert_points(to_edge(points)))
            if stale is not None:
                self._shard.update(q.UpdateOperation.delete_points_by_filter(to_edge(stale)))

    def _delete(self, flt):
        with self._lock:
            self._shard.update(q.UpdateOperation.delete_points_by_filter(to_edge(flt)))

    def _set_payload(self, flt, payload):
        with self._lock:
            self._shard.update(q.UpdateOperation.set_payload_by_filter(to_edge(flt), payload))

    def _scroll(self, flt, limit, whole=False):
        payload, vector = (True, False) if whole else (["text_key"], ["dense"])
        request = q.ScrollRequest(limit=limit, filter=to_edge(flt), with_payload=payload, with_vector=vector)
        with self._lock:
            return self._shard.scroll(request)[0]

    def _query(self, request):
        with self._lock:
            return self._shard.query(edge_request(request))

    def _retrieve(self, ids, with_payload, with_vector=True):
        if not ids:
            return []
        with self._lock:
            return self._shard.retrieve(ids, with_payload=with_payload, with_vector=["dense"] if with_vector else False)

    def _page(self, limit, offset, with_payload):
        request = q.ScrollRequest(limit=limit, offset=offset, with_payload=with_payload, with_vector=False)
        with self._lock:
            return self._shard.scroll(request)

    def _count(self, flt):
        with self._lock:
            return self._shard.count(q.CountRequest(exact=True, filter=to_edge(flt)))

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
