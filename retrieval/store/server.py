"""A Qdrant server (or qdrant-client's local mode, which speaks the same API) through qdrant-client: the requests
Store builds are sent as they are."""

from __future__ import annotations

import contextlib
import warnings

from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from retrieval.store.base import INDEXED_KEYWORDS, CollectionLayout, Store, StoreError


class ServerStore(Store):
    def __init__(
        self,
        client: QdrantClient,
        collection: str,
        dim: int,
        description: str,
        layout: CollectionLayout = CollectionLayout(),
    ) -> None:
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
                vectors_config={"dense": models.VectorParams(size=dim, distance=models.Distance.COSINE)},
                sparse_vectors_config={"sparse": models.SparseVectorParams(modifier=models.Modifier.IDF)},
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
                    schema = models.KeywordIndexParams(type=models.KeywordIndexType.KEYWORD, is_tenant=key == "groups")
                    client.create_payload_index(collection, key, schema)

    @contextlib.contextmanager
    def _answering(self):
        """Connection and server failures in the middle of work become StoreError: the batch stops and says so."""
        try:
            yield
        except (ResponseHandlingException, UnexpectedResponse, ConnectionError, TimeoutError) as exc:
            raise StoreError(
                f"{self.description} stopped answering ({exc}). Nothing half-written is recorded: "
                "run the same command again once Qdrant is back, and it resumes."
            ) from exc

    def _replace(self, points, stale):
        with self._answering():
            if points:
                self._client.upsert(self.collection, points=points, wait=True)
            if stale is not None:
                self._client.delete(self.collection, points_selector=models.FilterSelector(filter=stale), wait=True)

    def _delete(self, flt):
        with self._answering():
            self._client.delete(self.collection, points_selector=models.FilterSelector(filter=flt), wait=True)

    def _set_payload(self, flt, payload):
        with self._answering():
            self._client.set_payload(
                self.collection, payload=payload, points=models.FilterSelector(filter=flt), wait=True
            )

    def _scroll(self, flt, limit, whole=False):
        payload, vector = (True, False) if whole else (["text_key"], ["dense"])
        with self._answering():
            return self._client.scroll(
                self.collection, scroll_filter=flt, limit=limit, with_payload=payload, with_vectors=vector
            )[0]

    def _query(self, request):
        with self._answering():
            return self._client.query_points(
                self.collection,
                prefetch=request.prefetch,
                query=request.query,
                using=request.using,
                query_filter=request.filter,
                limit=request.limit,
                with_payload=request.with_payload,
                with_vectors=request.with_vector,
            ).points

    def _retrieve(self, ids, with_payload, with_vector=True):
        if not ids:
            return []
        vectors = ["dense"] if with_vector else False
        with self._answering():
            return self._client.retrieve(self.collection, ids=ids, with_payload=with_payload, with_vectors=vectors)

    def _page(self, limit, offset, with_payload):
        with self._answering():
            return self._client.scroll(
                self.collection, limit=limit, offset=offset, with_payload=with_payload, with_vectors=False
            )

    def _count(self, flt):
        with self._answering():
            return self._client.count(self.collection, count_filter=flt, exact=True).count

    def optimize(self) -> None:
        """A Qdrant server optimizes continuously in the background: nothing to do."""

    def close(self) -> None:
        self._client.close()
