"""The manifest keeps the same promises on SQLite (one process) and PostgreSQL (several ingest workers),
and PostgreSQL lets two workers ingest into one index at the same time."""

from __future__ import annotations

import shutil
import threading

import pytest
from qdrant_client import QdrantClient

from ingest import Ingestor, Manifest
from retrieval import AccessScope, Retriever
from retrieval.store.server import ServerStore
from tests.conftest import SAMPLES


@pytest.fixture(params=["sqlite", "postgresql"])
def manifest(request, tmp_path):
    if request.param == "sqlite":
        instance = Manifest(tmp_path / "manifest.sqlite3")
    else:
        url = request.getfixturevalue("postgres_url")
        instance = Manifest(url)
        for record in instance.all():  # the server outlives a test: start from an empty table
            instance.delete(record.doc_id)
    yield instance
    instance.close()


def test_ingested_failed_and_deleted_records(manifest):
    manifest.record_ingested(
        doc_id="a",
        path="/kb/a.md",
        title="A",
        content_hash="h1",
        size=10,
        mtime_ns=1_700_000_000_000_000_000,
        chunks=3,
        groups=("hr",),
    )
    manifest.record_failed(doc_id="b", path="/kb/b.pdf", error="the PDF is encrypted", groups=("everyone",))
    a, b = manifest.all()
    assert (a.status, a.chunks, a.groups, a.mtime_ns) == ("ingested", 3, ("hr",), 1_700_000_000_000_000_000)
    assert (b.status, b.error) == ("failed", "the PDF is encrypted")

    manifest.record_failed(doc_id="a", path="/kb/a.md", error="now unreadable", groups=("hr",))
    failed = manifest.get("a")
    assert failed.status == "failed" and failed.content_hash == "h1", "the good version's record is kept"
    manifest.record_ingested(
        doc_id="a", path="/kb/a.md", title="A2", content_hash="h2", size=11, mtime_ns=2, chunks=4, groups=("hr",)
    )
    assert (manifest.get("a").status, manifest.get("a").error, manifest.get("a").title) == ("ingested", None, "A2")
    manifest.touch("a", 5)
    assert manifest.get("a").mtime_ns == 5
    assert [r.doc_id for r in manifest.under("/kb")] == ["a", "b"] and manifest.under("/other") == []
    manifest.delete("b")
    assert manifest.get("b") is None


def test_two_workers_share_one_postgresql_manifest(postgres_url, tmp_path, embedder):
    from retrieval import SparseEncoder

    folder = tmp_path / "kb"
    shutil.copytree(SAMPLES, folder)
    store = ServerStore(QdrantClient(path=str(tmp_path / "qdrant")), "kura", embedder.dim, "shared")
    manifests = [Manifest(postgres_url) for _ in range(3)]
    for record in manifests[0].all():
        manifests[0].delete(record.doc_id)
    sparse = SparseEncoder()
    workers = [Ingestor(store=store, embedder=embedder, sparse=sparse, manifest=m) for m in manifests]
    reports = {}

    def work(n, path):
        reports[n] = workers[n].ingest([path], groups=("everyone",))

    threads = [
        threading.Thread(target=work, args=(0, folder / "policies")),
        threading.Thread(target=work, args=(1, folder / "support")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert reports[0].added == 5 and reports[1].added == 2
    assert len(manifests[2].all()) == 7, "a third worker sees both workers' documents"
    rerun = workers[2].ingest([folder / "policies", folder / "support"], groups=("everyone",))
    assert (rerun.unchanged, rerun.added, rerun.chunks) == (7, 0, 0)
    hits = Retriever(store, embedder, sparse).search("sync stuck on preparing", AccessScope(("everyone",)), k=3)
    assert any("index database is damaged" in h.chunk.text for h in hits)
    for m in manifests:
        m.close()
    store.close()
