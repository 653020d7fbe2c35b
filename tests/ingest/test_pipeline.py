"""Ingesting a folder into a real Qdrant Edge store: skip what is unchanged, replace what changed,
remove what vanished, and never let one bad file stop the batch."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ingest import doc_id_for
from retrieval import AccessScope
from tests.conftest import SAMPLES

EVERYONE = AccessScope(("everyone",))


def copy_samples(tmp_path):
    target = tmp_path / "kb"
    shutil.copytree(SAMPLES, target)
    return target


def texts_for(kura, query, k=10):
    return [h.chunk.text for h in kura.retriever.search(query, EVERYONE, k=k)]


def test_first_ingest_adds_every_sample_and_rerun_changes_nothing(kura, tmp_path):
    folder = copy_samples(tmp_path)
    first = kura.ingestor.ingest([folder], groups=("everyone",))
    assert (first.added, first.updated, first.deleted, first.failed) == (8, 0, 0, [])
    assert first.chunks == kura.store.count() > 8

    second = kura.ingestor.ingest([folder], groups=("everyone",))
    assert (second.added, second.updated, second.unchanged, second.chunks) == (0, 0, 8, 0)
    assert kura.store.count() == first.chunks


def test_an_unchanged_resync_embeds_nothing_and_never_loads_the_model(kura, tmp_path, monkeypatch):
    folder = copy_samples(tmp_path)
    kura.ingestor.ingest([folder], groups=("everyone",))

    class NoEmbedding:
        def __getattr__(self, name):
            raise AssertionError(f"the re-sync touched the embedder ({name})")

    monkeypatch.setattr(kura.ingestor.indexer, "embedder", NoEmbedding())
    report = kura.ingestor.ingest([folder], groups=("everyone",))
    assert (report.unchanged, report.chunks, report.failed) == (8, 0, [])


def test_opening_the_embedder_loads_neither_torch_nor_the_model():
    import subprocess
    import sys

    probe = (
        "import sys; from retrieval.embed import DenseEmbedder; assert DenseEmbedder().dim == 384; "
        "assert 'torch' not in sys.modules and 'sentence_transformers' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", probe], check=True, timeout=120)


def test_progress_reports_files_chunks_failures_rate_and_eta(kura, tmp_path):
    folder = copy_samples(tmp_path)
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    snapshots = []
    report = kura.ingestor.ingest([folder], groups=("everyone",), progress=snapshots.append)

    assert [s.files_done for s in snapshots[:-1]] == list(range(1, 10)), "one snapshot per file, in order"
    assert {s.files_total for s in snapshots} == {9}
    assert [s.chunks for s in snapshots] == sorted(s.chunks for s in snapshots), "chunks only grow"
    last = snapshots[-1]
    assert (last.files_done, last.chunks, last.failed, last.current) == (9, report.chunks, 1, "")
    assert last.eta_s == 0 and last.eta_clock == "0:00" and last.chunks_per_s > 0 and last.files_per_s > 0
    halfway = next(s for s in snapshots if s.files_done == 3)
    assert halfway.eta_s == pytest.approx(6 * halfway.elapsed_s / 3) and halfway.current.startswith(str(folder))


def test_eta_reads_as_a_clock():
    from ingest import IngestProgress

    assert IngestProgress(0, 10, 0, 0, "", 0.0).eta_clock == "–"
    assert IngestProgress(1, 11, 5, 0, "a", 6.5).eta_clock == "1:05"
    assert IngestProgress(1, 1001, 5, 0, "a", 4.0).eta_clock == "1:06:40"


def test_touched_but_identical_file_is_not_reembedded(kura, tmp_path):
    folder = copy_samples(tmp_path)
    kura.ingestor.ingest([folder], groups=("everyone",))
    faq = folder / "product" / "kumo-sync-faq.md"
    faq.write_text(faq.read_text())  # new mtime, same content
    report = kura.ingestor.ingest([folder], groups=("everyone",))
    assert (report.unchanged, report.updated, report.chunks) == (8, 0, 0)


def test_editing_a_file_replaces_its_chunks(kura, tmp_path):
    folder = copy_samples(tmp_path)
    kura.ingestor.ingest([folder], groups=("everyone",))
    policy = folder / "policies" / "expenses-and-travel.md"
    policy.write_text("# Expenses\n\nMeals while travelling are covered up to 9,500 yen per day.\n")
    report = kura.ingestor.ingest([folder], groups=("everyone",))
    assert (report.updated, report.unchanged) == (1, 7)
    found = texts_for(kura, "meal allowance per day when travelling")
    assert any("9,500 yen" in t for t in found)
    assert not any("6,000 yen" in t for t in found), "the old version's chunks must be gone"
    doc_chunks = [h for h in kura.retriever.search("expenses", EVERYONE, k=50) if h.chunk.doc_id == doc_id_for(policy)]
    assert len(doc_chunks) == 1


def record_embedded_texts(kura, monkeypatch) -> list[str]:
    """Every text the model is asked to embed from now on."""
    embedded, real_embed = [], kura.embedder.embed

    def recording(texts):
        embedded.extend(texts)
        return real_embed(texts)

    monkeypatch.setattr(kura.embedder, "embed", recording)
    return embedded


def test_text_already_indexed_is_never_embedded_again(kura, tmp_path, monkeypatch):
    """A copied file, the untouched sections of an edited one, and two new copies of the same text all reuse
    one vector: the model only sees text the index has never had."""
    folder = copy_samples(tmp_path)
    kura.ingestor.ingest([folder], groups=("everyone",))
    embedded = record_embedded_texts(kura, monkeypatch)

    leave = folder / "policies" / "leave-and-time-off.md"
    shutil.copy(leave, folder / "leave-copy.md")
    copied = kura.ingestor.ingest([folder], groups=("everyone",))
    assert copied.added == 1 and copied.reused == copied.chunks > 1 and embedded == []

    leave.write_text(leave.read_text().replace("16 weeks", "20 weeks"))
    edited = kura.ingestor.ingest([folder], groups=("everyone",))
    assert edited.updated == 1 and edited.reused == edited.chunks - 1
    assert len(embedded) == 1 and "20 weeks of fully paid parental leave" in embedded[0]

    for name in ("canteen.md", "canteen-copy.md"):
        (folder / name).write_text("# Canteen\n\nThe canteen serves ramen on Thursdays.\n")
    twins = kura.ingestor.ingest([folder], groups=("everyone",))
    assert (twins.added, twins.chunks, twins.reused, len(embedded)) == (2, 2, 1, 2)

    assert any("20 weeks" in t for t in texts_for(kura, "how many weeks of parental leave"))
    assert {h.chunk.source for h in kura.retriever.search("ramen canteen", EVERYONE, k=5)} >= {
        str(folder / "canteen.md"),
        str(folder / "canteen-copy.md"),
    }


def test_deleted_files_leave_the_index_unless_no_delete(kura, tmp_path):
    folder = copy_samples(tmp_path)
    first = kura.ingestor.ingest([folder], groups=("everyone",))
    (folder / "support" / "sync-stuck.md").unlink()

    kept = kura.ingestor.ingest([folder], groups=("everyone",), delete_missing=False)
    assert kept.deleted == 0
    assert any("index database is damaged" in t for t in texts_for(kura, "sync stuck preparing index damaged"))

    removed = kura.ingestor.ingest([folder], groups=("everyone",))
    assert removed.deleted == 1
    assert not any("index database is damaged" in t for t in texts_for(kura, "sync stuck preparing index damaged"))
    assert kura.store.count() < first.chunks
    assert len(kura.manifest.all()) == 7


def test_deletion_only_touches_the_folder_being_synced(kura, tmp_path):
    folder = copy_samples(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    (other / "note.md").write_text("# Note\n\nThe canteen serves ramen on Thursdays.\n")
    kura.ingestor.ingest([folder, other], groups=("everyone",))
    report = kura.ingestor.ingest([folder], groups=("everyone",))
    assert report.deleted == 0
    assert any("ramen" in t for t in texts_for(kura, "what does the canteen serve on Thursdays"))


def test_a_bad_file_is_reported_and_the_rest_is_ingested(kura, tmp_path):
    folder = copy_samples(tmp_path)
    (folder / "broken.docx").write_bytes(b"not a zip")
    (folder / "empty.md").write_text("")
    (folder / "blank.txt").write_text("  \n\t\n")
    (folder / "old.doc").write_bytes(b"\xd0\xcf\x11\xe0 legacy word")
    report = kura.ingestor.ingest([folder, tmp_path / "missing.md"], groups=("everyone",))
    assert report.added == 8
    errors = {f.path.rsplit("/", 1)[-1]: f.error for f in report.failed}
    assert "not a valid DOCX" in errors["broken.docx"]
    assert errors["empty.md"] == "the file is empty"
    assert "no text" in errors["blank.txt"]
    assert "save it as .docx" in errors["old.doc"]
    assert errors["missing.md"] == "no such file or folder"
    failed = [r for r in kura.manifest.all() if r.status == "failed"]
    assert {r.path.rsplit("/", 1)[-1] for r in failed} == {"broken.docx", "empty.md", "blank.txt", "old.doc"}


def test_files_are_embedded_in_batches_and_one_bad_document_fails_alone(kura, tmp_path, monkeypatch):
    import ingest.indexing as indexing

    folder = copy_samples(tmp_path)
    real_chunker, batches = indexing.chunk_document, []
    real_embed = kura.embedder.embed

    def chunk_or_break(document, **fields):
        if fields["source"].endswith("security-and-devices.md"):
            raise ValueError("a chunker bug")
        return real_chunker(document, **fields)

    def counting_embed(texts):
        batches.append(len(texts))
        return real_embed(texts)

    monkeypatch.setattr(indexing, "chunk_document", chunk_or_break)
    monkeypatch.setattr(kura.embedder, "embed", counting_embed)
    report = kura.ingestor.ingest([folder], groups=("everyone",))

    assert report.added == 7 and [Path(f.path).name for f in report.failed] == ["security-and-devices.md"]
    assert "a chunker bug" in report.failed[0].error
    assert max(batches) > max(d.chunks for d in kura.manifest.under(str(folder)) if d.status == "ingested"), (
        "several files share one embedding call"
    )


def test_small_text_files_are_read_in_process_and_everything_else_in_a_child(tmp_path, monkeypatch):
    from ingest import worker

    class ChildStarted(Exception):
        pass

    def no_child():
        raise ChildStarted

    monkeypatch.setattr(worker, "_context", no_child)
    (tmp_path / "a.md").write_text("# Alpha\n\nhello\n")
    assert worker.parse_isolated(tmp_path / "a.md", worker.ParseOptions()).title == "Alpha"
    (tmp_path / "big.txt").write_text("word " * 300_000)  # 1.5 MB: big enough to deserve limits
    (tmp_path / "page.html").write_text("<h1>x</h1>")
    for name in ("big.txt", "page.html"):
        with pytest.raises(ChildStarted):
            worker.parse_isolated(tmp_path / name, worker.ParseOptions())


def test_the_same_content_at_two_paths_is_kept_for_each_and_reported(kura, tmp_path):
    folder = tmp_path / "kb"
    (folder / "hr").mkdir(parents=True)
    (folder / "hr" / "policy.md").write_text("# Policy\n\nBadges must be worn at all times.\n")
    (folder / "copy-of-policy.md").write_text("# Policy\n\nBadges must be worn at all times.\n")
    report = kura.ingestor.ingest([folder], groups=("everyone",))
    assert report.added == 2, "each path may carry different access groups, so both are indexed"
    assert [(Path(d.path).name, Path(d.same_as).name) for d in report.duplicates] == [
        ("policy.md", "copy-of-policy.md")
    ]


def test_a_parser_that_hangs_or_eats_memory_fails_that_file_only(kura, tmp_path, monkeypatch):
    """Fault injection: two parsers that misbehave on purpose (the forked worker inherits them)."""
    import time

    from ingest.formats import FORMATS, Format
    from ingest.worker import ParseOptions

    def hangs(path):
        time.sleep(60)

    def eats_memory(path):
        return bytearray(4 << 30)  # 4 GB

    monkeypatch.setitem(FORMATS, ".hang", Format(hangs))
    monkeypatch.setitem(FORMATS, ".hungry", Format(eats_memory))
    folder = copy_samples(tmp_path)
    (folder / "stuck.hang").write_text("x")
    (folder / "bomb.hungry").write_text("x")
    kura.ingestor.limits = ParseOptions(timeout_s=2, memory_mb=512)
    started = time.monotonic()
    report = kura.ingestor.ingest([folder], groups=("everyone",))
    errors = {Path(f.path).name: f.error for f in report.failed}
    assert report.added == 8 and time.monotonic() - started < 50
    assert "took longer than 2 s" in errors["stuck.hang"]
    assert "more memory than allowed" in errors["bomb.hungry"]


def test_groups_are_stored_on_every_chunk(kura, tmp_path):
    folder = copy_samples(tmp_path)
    kura.ingestor.ingest([folder / "policies"], groups=("hr", "managers"))
    assert kura.retriever.search("parental leave", AccessScope(("everyone",)), k=5) == []
    hits = kura.retriever.search("parental leave", AccessScope(("managers",)), k=5)
    assert hits and all(h.chunk.groups == ("hr", "managers") for h in hits)
    assert {r.groups for r in kura.manifest.all()} == {("hr", "managers")}


def test_kuras_own_state_is_never_ingested(kura, tmp_path):
    """The fixture's KURA_HOME lives inside tmp_path: ingesting tmp_path must skip it."""
    (tmp_path / "note.md").write_text("# Note\n\nThe canteen serves ramen on Thursdays.\n")
    _ = kura.store  # creates the embedded store and manifest under KURA_HOME
    report = kura.ingestor.ingest([tmp_path], groups=("everyone",))
    assert (report.added, report.failed) == (1, [])


class FlakyClient:
    """qdrant-client in front of a real engine (local mode) that loses its connection after `ok_writes` upserts."""

    def __init__(self, client, ok_writes: int) -> None:
        self._client = client
        self.ok_writes = ok_writes

    def upsert(self, *args, **kwargs):
        from qdrant_client.http.exceptions import ResponseHandlingException

        if self.ok_writes == 0:
            raise ResponseHandlingException(ConnectionError("connection refused"))
        self.ok_writes -= 1
        return self._client.upsert(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._client, name)


def test_qdrant_going_away_mid_batch_stops_cleanly_and_a_rerun_resumes(kura, tmp_path, embedder):
    from qdrant_client import QdrantClient

    from ingest import Ingestor, Manifest
    from retrieval import StoreError
    from retrieval.store.server import ServerStore

    folder = copy_samples(tmp_path)
    client = QdrantClient(path=str(tmp_path / "qdrant"))
    manifest = Manifest(tmp_path / "manifest.sqlite3")

    def ingestor(ok_writes: int) -> Ingestor:
        store = ServerStore(FlakyClient(client, ok_writes), "kura", embedder.dim, "flaky")
        return Ingestor(store=store, embedder=embedder, sparse=kura.sparse, manifest=manifest)

    with pytest.raises(StoreError, match="stopped answering.*run the same command again"):
        ingestor(3).ingest([folder], groups=("everyone",))
    assert [r.status for r in manifest.all()] == ["ingested"] * 3, "only what was stored is recorded"
    report = ingestor(1000).ingest([folder], groups=("everyone",))
    assert (report.unchanged, report.added, report.failed) == (3, 5, [])
    assert client.count("kura").count == sum(r.chunks for r in manifest.all())
    manifest.close()
    client.close()


IMPORTS_BY_THREAD = """
import json, sys, threading

from ingest.formats import libraries

importers = {}
def record(event, args):
    if event == "import" and args[0].startswith(libraries()):
        importers[args[0]] = threading.current_thread().name
sys.addaudithook(record)

from app.cli import main
sys.argv = ["kura", "ingest", sys.argv[1], "--json"]
try:
    main()
except SystemExit as exit:
    assert not exit.code, exit.code
print(json.dumps(importers))
"""


@pytest.mark.slow  # two real ingests in fresh processes (~20 s)
def test_parser_libraries_load_before_the_parse_threads_start(tmp_path, tiny_embedder):
    """Parse threads that import the same packages at once can deadlock on Python's module locks, and Python
    then fails a file with _DeadlockError (it happened in a fresh offline install). So the batch imports
    every parser library on its own thread first, and no parse thread imports one."""
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "KURA_HOME": str(tmp_path / "home"), "KURA_EMBED_MODEL": str(tiny_embedder)}
    folder = str(copy_samples(tmp_path))

    def ingest() -> tuple[dict, dict]:
        """The ingest report, and which thread imported each parser module."""
        done = subprocess.run(
            [sys.executable, "-c", IMPORTS_BY_THREAD, folder], env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr[-6000:]
        report, importers = done.stdout.strip().splitlines()[-2:]
        return json.loads(report), json.loads(importers)

    def packages(importers: dict) -> set[str]:
        return {name.split(".")[0] for name in importers}

    report, importers = ingest()
    assert report["added"] == 8 and {"pypdf", "docx", "llama_index"} <= packages(importers)
    assert set(importers.values()) == {"MainThread"}
    report, importers = ingest()  # a re-sync that parses nothing does not pay for loading the parsers
    assert report["unchanged"] == 8 and not {"pypdf", "docx", "llama_index"} & packages(importers)
