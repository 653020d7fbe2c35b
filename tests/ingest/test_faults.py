"""Bad input and broken storage never crash a batch or lose data, and every failure says what to do.

Each case is one the adversarial pass hit: a file name that is not UTF-8 aborted the whole batch; a huge PDF
embedded for ten minutes; an unreadable subfolder had its documents deleted; a full disk killed ingest with
SIGBUS; a damaged manifest printed a database traceback; a store that lost its segments (or a new, empty Qdrant
server behind an old manifest) answered "unchanged" forever; new chunking or embedding settings were ignored by a
re-ingest; a watch whose sync thread died kept "watching"."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from ingest import ChunkingOptions, DiskFullError, Ingestor
from ingest.report import Failure
from retrieval import AccessScope, StoreError
from tests.conftest import SAMPLES

EVERYONE = AccessScope(("everyone",))


def copy_samples(tmp_path: Path) -> Path:
    folder = tmp_path / "kb"
    shutil.copytree(SAMPLES, folder)
    return folder


def test_a_file_name_that_is_not_utf8_fails_alone(kura, tmp_path):
    folder = copy_samples(tmp_path)
    name = "テスト.md".encode("cp932")  # a Windows share copied byte for byte
    with open(os.path.join(os.fsencode(folder), name), "wb") as handle:
        handle.write(b"# Test\n\nA document whose name is Shift_JIS.\n")
    report = kura.ingestor.ingest([folder], groups=("everyone",))
    assert report.added == 8
    [failure] = report.failed
    assert "not valid UTF-8" in failure.error and "rename" in failure.error
    assert "\\x83" in failure.path, "the name is shown, its bad bytes escaped"


def test_a_file_with_too_many_passages_fails_with_a_reason_and_the_batch_goes_on(kura, tmp_path):
    folder = copy_samples(tmp_path)
    (folder / "huge.md").write_text(
        "# Huge\n\n"
        + "\n\n".join(
            f"Paragraph {i} says something new about topic {i} in enough words to fill a passage." * 8
            for i in range(40)
        )
    )
    limited = Ingestor(
        store=kura.store,
        embedder=kura.embedder,
        sparse=kura.sparse,
        manifest=kura.manifest,
        options=ChunkingOptions(200, 40, max_chunks_per_file=20),
    )
    report = limited.ingest([folder], groups=("everyone",))
    assert report.added == 8 and [Path(f.path).name for f in report.failed] == ["huge.md"]
    assert "more than the 20 allowed per file (KURA_MAX_CHUNKS_PER_FILE)" in report.failed[0].error


def test_an_unreadable_subfolder_is_an_error_never_a_deletion(kura, tmp_path, monkeypatch):
    folder = copy_samples(tmp_path)
    kura.ingestor.ingest([folder], groups=("everyone",))
    policies = str(folder / "policies")
    real_scandir = os.scandir

    def scandir(path="."):  # root reads every folder: the refusal another user gets is injected
        if os.fspath(path) == policies:
            raise PermissionError(13, "Permission denied", policies)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    report = kura.ingestor.ingest([folder], groups=("everyone",))
    assert report.deleted == 0
    assert report.failed == [
        Failure(
            policies,
            "permission denied: kura cannot read this folder; the "
            "documents indexed from it are kept until it can be read again",
        )
    ]
    assert any("policies" in h.chunk.source for h in kura.retriever.search("parental leave", EVERYONE, k=5))


def test_too_little_free_disk_stops_before_writing_with_a_clear_message(kura, tmp_path):
    folder = copy_samples(tmp_path)
    cramped = Ingestor(
        store=kura.store,
        embedder=kura.embedder,
        sparse=kura.sparse,
        manifest=kura.manifest,
        state_dir=kura.settings.home,
        min_free_mb=10**9,
    )  # a petabyte: never free
    with pytest.raises(DiskFullError, match=r"MB free on the disk of .*KURA_MIN_FREE_MB.*free some space"):
        cramped.ingest([folder], groups=("everyone",))
    assert kura.manifest.all() == [] and kura.store.count() == 0, "nothing half-written"


def test_a_damaged_manifest_is_named_with_what_to_do(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    (home / "manifest.sqlite3").write_bytes(b"this is not a database" * 100)
    monkeypatch.setenv("KURA_HOME", str(home))
    result = CliRunner().invoke(cli, ["ingest", str(SAMPLES / "support")])
    assert result.exit_code == 2
    assert "manifest" in result.stderr and "is damaged" in result.stderr and "Move it aside" in result.stderr
    assert "Traceback" not in result.output


def test_documents_the_store_lost_are_found_and_indexed_again(kura, tmp_path):
    folder = copy_samples(tmp_path)
    kura.ingestor.ingest([folder], groups=("everyone",))
    lost = [r for r in kura.manifest.all() if r.path.endswith((".pdf", "sync-stuck.md"))]
    for record in lost:  # as if their segments were gone
        kura.store.delete_document(record.doc_id)
    health = kura.status()["health"]
    assert not health["index"]["ok"] and "run `kura ingest`" in health["index"]["detail"]
    report = kura.ingestor.ingest([folder], groups=("everyone",))
    assert (report.repaired, report.updated, report.unchanged) == (2, 2, 6)
    assert kura.store.count() == sum(r.chunks for r in kura.manifest.all())
    assert "index" not in kura.status()["health"]


def test_an_empty_server_behind_an_old_manifest_is_filled_again(kura, tmp_path):
    from qdrant_client import QdrantClient

    from retrieval.store.server import ServerStore

    folder = copy_samples(tmp_path)
    kura.ingestor.ingest([folder], groups=("everyone",))
    empty = ServerStore(QdrantClient(path=str(tmp_path / "new-server")), "kura", kura.embedder.dim, "new server")
    report = Ingestor(store=empty, embedder=kura.embedder, sparse=kura.sparse, manifest=kura.manifest).ingest(
        [folder], groups=("everyone",)
    )
    assert report.repaired == 8 and empty.count() == sum(r.chunks for r in kura.manifest.all())
    empty.close()


def test_new_chunking_settings_reindex_what_they_shape(kura, tmp_path):
    folder = copy_samples(tmp_path)
    first = kura.ingestor.ingest([folder], groups=("everyone",))
    smaller = Ingestor(
        store=kura.store,
        embedder=kura.embedder,
        sparse=kura.sparse,
        manifest=kura.manifest,
        options=ChunkingOptions(chunk_tokens=100, chunk_overlap=20),
    )
    report = smaller.ingest([folder], groups=("everyone",))
    assert report.updated == 8 and report.chunks > first.chunks
    assert smaller.ingest([folder], groups=("everyone",)).unchanged == 8
    assert smaller.index_key != kura.ingestor.index_key


def test_another_embedding_backend_reindexes_too(kura, tmp_path, monkeypatch):
    folder = copy_samples(tmp_path)
    kura.ingestor.ingest([folder / "support"], groups=("everyone",))
    monkeypatch.setattr(type(kura.embedder), "model_id", property(lambda self: "all-MiniLM-L6-v2+onnx-int8"))
    monkeypatch.setattr(kura.embedder, "embed", lambda texts: [[0.1] * kura.embedder.dim for _ in texts])
    other = Ingestor(store=kura.store, embedder=kura.embedder, sparse=kura.sparse, manifest=kura.manifest)
    assert other.ingest([folder / "support"], groups=("everyone",)).updated == 2


def test_a_watch_reports_a_failed_sync_keeps_going_and_stops_when_the_store_is_gone(tmp_path):
    from ingest.pipeline import IngestReport
    from ingest.watch import FolderWatcher

    outcomes = iter([RuntimeError("a parser library is broken"), None, StoreError("the store stopped answering")])
    errors, reports = [], []

    def sync():
        outcome = next(outcomes)
        if outcome is not None:
            raise outcome
        return IngestReport(added=1)

    with FolderWatcher(tmp_path, sync, quiet_s=0.1, on_report=reports.append, on_error=errors.append) as watcher:
        for n in range(3):  # one change, one sync, its outcome seen: then the next change
            (tmp_path / f"note{n}.md").write_text("x")
            deadline = time.monotonic() + 10
            while len(errors) + len(reports) <= n and time.monotonic() < deadline:
                time.sleep(0.05)
        assert watcher.stopped.wait(10), "a watch whose store is gone ends instead of pretending to watch"
    assert [str(e) for e in errors] == ["a parser library is broken", "the store stopped answering"]
    assert [r.added for r in reports] == [1] and isinstance(watcher.failed, StoreError)
