"""The same store contract on both engines: Qdrant Edge (embedded) and a Qdrant server through
qdrant-client (exercised with its local mode, which speaks the server's API)."""

from __future__ import annotations

import numpy as np
import pytest
from qdrant_client import QdrantClient

from retrieval import AccessScope, Chunk, IndexedChunk, StoreLockedError, open_store
from retrieval.store.edge import EdgeStore
from retrieval.store.server import ServerStore

TEXTS = {
    "hr": ["Parental leave lasts sixteen weeks.", "Sabbaticals come after five years.", "Salaries are paid monthly."],
    "eng": ["Laptops use full-disk encryption.", "Deploys happen on Tuesdays."],
}


@pytest.fixture(params=["edge", "server"])
def store(request, tmp_path, embedder):
    if request.param == "edge":
        instance = open_store(path=tmp_path / "edge", dim=embedder.dim)
        assert isinstance(instance, EdgeStore)
    else:
        instance = ServerStore(QdrantClient(path=str(tmp_path / "server")), "kura", embedder.dim, "local mode")
    yield instance
    instance.close()


def indexed(embedder, sparse, doc_id, texts, groups):
    chunks = [Chunk(doc_id, i, t, f"/docs/{doc_id}.md", doc_id.title(), groups=groups) for i, t in enumerate(texts)]
    return [
        IndexedChunk(c, v, sparse.document(c.text), embedder.text_key(t))
        for c, v, t in zip(chunks, embedder.embed(texts), texts)
    ]


def search(store, embedder, sparse, query, groups, mode="rrf", limit=10):
    return store.search(
        dense=embedder.embed_one(query), sparse=sparse.query(query), mode=mode, scope=AccessScope(groups), limit=limit
    )


@pytest.fixture
def filled(store, embedder):
    from retrieval import SparseEncoder

    sparse = SparseEncoder()
    store.replace_document("hr", indexed(embedder, sparse, "hr", TEXTS["hr"], ("hr",)))
    store.replace_document("eng", indexed(embedder, sparse, "eng", TEXTS["eng"], ("eng", "everyone")))
    return store, sparse


@pytest.mark.parametrize("mode", ["rrf", "dense", "sparse"])
def test_every_mode_finds_the_right_passage(filled, embedder, mode):
    store, sparse = filled
    hits = search(store, embedder, sparse, "how long is parental leave", ("hr",), mode)
    assert hits[0].chunk.text == "Parental leave lasts sixteen weeks."
    assert hits[0].similarity == pytest.approx(
        float(np.dot(embedder.embed_one("how long is parental leave"), embedder.embed_one(hits[0].chunk.text))),
        abs=1e-3,
    )


def test_group_filter_hides_other_groups_documents(filled, embedder):
    store, sparse = filled
    hits = search(store, embedder, sparse, "parental leave sixteen weeks", ("everyone",))
    assert hits and {h.chunk.doc_id for h in hits} == {"eng"}
    assert search(store, embedder, sparse, "parental leave", ()) == []


def test_source_filter_narrows_the_search(filled, embedder):
    store, sparse = filled
    hits = store.search(
        dense=embedder.embed_one("encryption"),
        sparse=sparse.query("encryption"),
        mode="rrf",
        scope=AccessScope(("hr", "eng"), sources=("/docs/hr.md",)),
        limit=10,
    )
    assert hits and {h.chunk.source for h in hits} == {"/docs/hr.md"}


def test_candidates_are_the_fused_ids_with_the_best_vectors_and_among_narrows_a_search(filled, embedder):
    """Hybrid search's two passes: the fused candidates by id (vectors of the best only), then a search among
    them. Both stay inside the caller's groups."""
    store, sparse = filled
    query = "parental leave sabbatical"
    pool = store.candidates(
        dense=embedder.embed_one(query), sparse=sparse.query(query), scope=AccessScope(("hr",)), limit=10, vectors=2
    )
    fused = search(store, embedder, sparse, query, ("hr",))
    assert pool.ids == [h.chunk.chunk_id for h in fused]
    assert len(pool.top_vectors) == 2
    assert np.allclose(pool.top_vectors[0], fused[0].vector, atol=1e-5)

    among = pool.ids[1:]
    hits = store.search(
        dense=embedder.embed_one(query),
        sparse=sparse.query(query),
        mode="dense",
        scope=AccessScope(("hr",)),
        limit=10,
        among=among,
    )
    assert sorted(h.chunk.chunk_id for h in hits) == sorted(among)
    eng_ids = [h.chunk.chunk_id for h in search(store, embedder, sparse, "laptops", ("eng",))]
    assert (
        store.search(
            dense=embedder.embed_one(query),
            sparse=sparse.query(query),
            mode="dense",
            scope=AccessScope(("hr",)),
            limit=10,
            among=eng_ids,
        )
        == []
    ), "among never widens the scope"
    assert (
        store.candidates(
            dense=embedder.embed_one(query), sparse=sparse.query(query), scope=AccessScope(()), limit=10, vectors=3
        ).ids
        == []
    )


def test_replacing_a_document_with_fewer_chunks_drops_the_tail(filled, embedder):
    store, sparse = filled
    assert store.count() == 5
    store.replace_document("hr", indexed(embedder, sparse, "hr", ["Parental leave lasts twenty weeks."], ("hr",)))
    assert store.count() == 3
    texts = [h.chunk.text for h in search(store, embedder, sparse, "salaries sabbatical parental", ("hr",))]
    assert texts == ["Parental leave lasts twenty weeks."]


def test_delete_document(filled, embedder):
    store, sparse = filled
    store.delete_document("eng")
    assert store.count() == 3
    assert search(store, embedder, sparse, "laptops", ("eng",)) == []


def test_a_store_of_second_stage_vectors_keeps_them_by_chunk_id_and_pages_through_every_point(filled, tmp_path):
    """A second stage's vectors live in a store of their own, keyed by the chunk ids of the index (the upgrade
    walks the index page by page, and forgets what is gone)."""
    index, _ = filled
    chunks, after = index.every_chunk(limit=2)
    assert len(chunks) == 2 and after is not None
    rest, end = index.every_chunk(after, limit=10)
    assert end is None
    assert sorted(c.text for c in chunks + rest) == sorted(TEXTS["hr"] + TEXTS["eng"])
    ids = [c.chunk_id for c in chunks + rest]
    assert index.every_id(limit=2)[0] + index.every_id(index.every_id(limit=2)[1], limit=10)[0] == ids

    if isinstance(index, EdgeStore):  # the same engine as the index
        vectors = open_store(path=tmp_path / "strong", dim=3)
    else:
        vectors = ServerStore(QdrantClient(path=str(tmp_path / "strong")), "strong", 3, "local mode")
    hr, eng = {"groups": ["hr"], "text_key": "a"}, {"groups": ["eng"], "text_key": "b"}
    vectors.keep_vectors({ids[0]: (np.array([1.0, 0, 0]), hr), ids[1]: (np.array([0.8, 0.6, 0]), eng)})
    kept = vectors.kept_vectors([ids[0], ids[1], ids[2]])
    assert set(kept) == {ids[0], ids[1]} and kept[ids[1]][1] == eng
    assert kept[ids[0]][0] == pytest.approx([1.0, 0, 0])
    assert vectors.present(ids) == {ids[0], ids[1]}
    assert vectors.nearest_ids(np.array([1.0, 0, 0]), AccessScope(("hr", "eng")), 5) == [ids[0], ids[1]]
    assert vectors.nearest_ids(np.array([1.0, 0, 0]), AccessScope(("eng",)), 5) == [ids[1]], "narrowed by access"
    vectors.forget([ids[0]])
    vectors.forget([])  # forgetting nothing is not forgetting everything
    assert set(vectors.kept_vectors(ids)) == {ids[1]}
    vectors.close()


def test_edge_store_survives_a_reopen(tmp_path, embedder):
    from retrieval import SparseEncoder

    sparse = SparseEncoder()
    store = open_store(path=tmp_path / "edge", dim=embedder.dim)
    store.replace_document("hr", indexed(embedder, sparse, "hr", TEXTS["hr"], ("hr",)))
    store.close()
    reopened = open_store(path=tmp_path / "edge", dim=embedder.dim)
    try:
        assert reopened.count() == 3
        assert search(reopened, embedder, sparse, "parental leave", ("hr",))[0].chunk.doc_id == "hr"
    finally:
        reopened.close()


def test_a_second_owner_of_an_edge_store_gets_a_clear_message(tmp_path, embedder):
    first = open_store(path=tmp_path / "edge", dim=embedder.dim)
    try:
        with pytest.raises(StoreLockedError) as error:
            open_store(path=tmp_path / "edge", dim=embedder.dim)
        message = str(error.value)
        assert "in use by process" in message and "KURA_QDRANT_URL" in message
    finally:
        first.close()


class RecordingClient(QdrantClient):
    """qdrant-client's local mode, remembering what kura asked of it (local mode ignores cluster settings)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls: list[tuple[str, dict]] = []

    def create_collection(self, *args, **kwargs):
        self.calls.append(("create_collection", kwargs))
        return super().create_collection(*args, **kwargs)

    def create_payload_index(self, collection_name, field_name, field_schema=None, **kwargs):
        self.calls.append(("create_payload_index", {"field": field_name, "schema": field_schema}))
        return super().create_payload_index(collection_name, field_name, field_schema, **kwargs)


def test_a_new_server_collection_gets_the_cluster_layout_and_tenant_index(tmp_path, embedder):
    from retrieval.store import CollectionLayout

    client = RecordingClient(path=str(tmp_path / "server"))
    ServerStore(client, "kura", embedder.dim, "cluster", CollectionLayout(shards=3, replication=2, write_consistency=1))
    created = dict(client.calls)["create_collection"]
    assert (created["shard_number"], created["replication_factor"], created["write_consistency_factor"]) == (3, 2, 1)
    indexes = {c["field"]: c["schema"] for name, c in client.calls if name == "create_payload_index"}
    assert set(indexes) == {"groups", "doc_id", "source", "owner", "text_key", "embedder"}
    assert indexes["groups"].is_tenant and not indexes["doc_id"].is_tenant
    client.close()


def test_a_collection_made_by_an_older_kura_gains_the_indexes_added_since(tmp_path, embedder):
    from qdrant_client import models

    client = RecordingClient(path=str(tmp_path / "server"))
    client.create_collection(
        "kura", vectors_config={"dense": models.VectorParams(size=embedder.dim, distance=models.Distance.COSINE)}
    )
    client.get_collection = lambda name: models.CollectionInfo.model_construct(
        payload_schema={key: None for key in ("groups", "doc_id", "source", "owner")}
    )  # what kura 0.1 indexed
    ServerStore(client, "kura", embedder.dim, "older collection")
    assert [c["field"] for name, c in client.calls if name == "create_payload_index"] == ["text_key", "embedder"]
    client.close()


def test_set_groups_changes_access_on_every_chunk(filled, embedder):
    store, sparse = filled
    store.set_groups("hr", ["board"])
    assert search(store, embedder, sparse, "parental leave", ("hr",)) == []
    hits = search(store, embedder, sparse, "parental leave salaries sabbatical", ("board",))
    assert len(hits) == 3 and {h.chunk.groups for h in hits} == {("board",)}


def test_an_owner_reads_their_own_document_whatever_its_groups(store, embedder):
    from dataclasses import replace

    from retrieval import SparseEncoder

    sparse = SparseEncoder()
    mine = [
        replace(c, chunk=replace(c.chunk, owner="mei"))
        for c in indexed(embedder, sparse, "notes", ["Mei's draft budget is 3 million yen."], ("finance",))
    ]
    store.replace_document("notes", mine)
    query = dict(dense=embedder.embed_one("draft budget"), sparse=sparse.query("draft budget"), mode="rrf", limit=5)
    assert [h.chunk.owner for h in store.search(scope=AccessScope(("staff",), user="mei"), **query)] == ["mei"]
    assert store.search(scope=AccessScope(("staff",), user="ken"), **query) == []
    assert store.search(scope=AccessScope(("staff",)), **query) == []
    assert store.count(AccessScope(("staff",), user="mei")) == 1 and store.count(AccessScope(("staff",))) == 0


def test_stored_vectors_are_found_by_their_text_however_often_the_text_is_stored(filled, embedder):
    """Ingest asks this before embedding: a text some chunk already has is not embedded again."""
    store, sparse = filled
    for copy in range(5):  # the same paragraph in five more documents
        store.replace_document(f"copy{copy}", indexed(embedder, sparse, f"copy{copy}", TEXTS["hr"][:1], ("hr",)))
    keys = [embedder.text_key(t) for t in TEXTS["hr"] + TEXTS["eng"]]
    found = store.vectors_for([*keys, embedder.text_key("never stored")])
    assert set(found) == set(keys)
    for key, text in zip(keys, TEXTS["hr"] + TEXTS["eng"]):
        assert np.dot(found[key], embedder.embed_one(text)) == pytest.approx(1.0, abs=1e-4)
    assert store.vectors_for([]) == {}


def test_a_store_searches_only_the_vectors_of_its_own_embedder(store, embedder):
    """Each chunk is tagged with the embedder that made its vector; a search compares a question only with vectors
    of its own model, whatever the mode (BM25 included: the fused list must not carry a foreign vector). Chunks
    written before tags existed are the default MiniLM's. After a switch, `made_by_others` counts what an
    ingest must re-embed."""
    from retrieval import SparseEncoder
    from retrieval.store import VectorsOf

    sparse = SparseEncoder()
    store.replace_document("legacy", indexed(embedder, sparse, "legacy", TEXTS["hr"][:1], ("hr",)))  # untagged
    store.vectors = VectorsOf("model-b")
    store.replace_document("b", indexed(embedder, sparse, "b", TEXTS["hr"][1:2], ("hr",)))

    def found(query):
        return {
            h.chunk.doc_id
            for mode in ("rrf", "dense", "sparse")
            for h in search(store, embedder, sparse, query, ("hr",), mode)
        }

    assert found("parental leave sabbaticals") == {"b"}
    assert store.made_by_others() == 1
    store.vectors = VectorsOf("minilm", untagged=True)  # back to the default: untagged chunks are its own
    assert found("parental leave sabbaticals") == {"legacy"}
    assert store.made_by_others() == 1
    store.vectors = None  # a store opened without an embedder (tools, tests) sees everything
    assert found("parental leave sabbaticals") == {"legacy", "b"}
