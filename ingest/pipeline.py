"""Paths → parsed, chunked, embedded documents in the store, recorded in the manifest.

Unchanged files (same size and mtime, or same content hash) are skipped without parsing or embedding.
A bad file is recorded with its reason and the batch goes on. Re-ingesting a folder removes the
documents that disappeared from it, unless told not to."""

from __future__ import annotations

import hashlib
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ingest.chunk import chunk_document
from ingest.manifest import DocumentRecord, Manifest
from ingest.parse import ParsedDocument, parse
from ingest.worker import ParseLimits, describe, load_parsers, parse_isolated
from retrieval.embed import DenseEmbedder, SparseEncoder
from retrieval.store import Store, StoreError
from retrieval.types import Chunk, IndexedChunk


@dataclass(frozen=True)
class IngestProgress:
    """One snapshot of a running ingest, rendered the same by the CLI's bar and the Library page."""

    files_done: int
    files_total: int
    chunks: int
    failed: int
    current: str  # the file just finished; "" once the batch is over
    elapsed_s: float

    @property
    def files_per_s(self) -> float:
        return self.files_done / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def chunks_per_s(self) -> float:
        return self.chunks / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        """Seconds left at the rate so far; None until a file has finished."""
        if not self.files_done:
            return None
        return (self.files_total - self.files_done) * self.elapsed_s / self.files_done

    @property
    def eta_clock(self) -> str:
        """The ETA as h:mm:ss or m:ss, the same in every language; "–" while unknown."""
        if self.eta_s is None:
            return "–"
        minutes, seconds = divmod(round(self.eta_s), 60)
        hours, minutes = divmod(minutes, 60)
        return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


ProgressCallback = Callable[[IngestProgress], None]


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    failed: list[dict] = field(default_factory=list)
    chunks: int = 0
    reused: int = 0  # chunks whose text some stored chunk already had: its vector was reused, not computed
    regrouped: int = 0  # unchanged documents whose access groups changed (payload updated, not re-embedded)
    duplicates: list[dict] = field(default_factory=list)  # same content as another document, at another path
    seconds: float = 0.0

    def to_json(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class _Job:
    """A file to parse and store, with what was known about it before."""

    path: Path
    doc_id: str
    groups: tuple[str, ...]
    size: int
    mtime_ns: int
    content_hash: str
    previous: DocumentRecord | None


@dataclass(frozen=True)
class ChunkingOptions:
    chunk_tokens: int = 200
    chunk_overlap: int = 40


def embedding_text(chunk: Chunk) -> str:
    """What is embedded and BM25-indexed for a chunk: its title and heading path give it context."""
    return "\n".join(part for part in (chunk.title, chunk.heading, chunk.text) if part)


def doc_id_for(path: Path) -> str:
    """A document's identity is its absolute path: the same file always maps to the same id."""
    return hashlib.sha256(str(path).encode()).hexdigest()[:32]


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


TEMPORARY_SUFFIXES = (".tmp", ".temp", ".swp", ".swx", ".part", ".crdownload", ".partial", "~")


def is_temporary(path: Path) -> bool:
    """Editors' and browsers' scratch files: Office lock files (~$x.docx), vim swaps, downloads in progress."""
    name = path.name.lower()
    return name.startswith(("~$", ".~lock", "#")) or name.endswith(TEMPORARY_SUFFIXES)


def _expand(paths: Iterable[Path], exclude: Path | None = None) -> tuple[dict[Path, Path], list[Path], list[Path]]:
    """Given paths → ({file: the root it was found under}, folders walked, missing paths).
    Hidden files and folders (.kura-acl among them), editors' temporary files and `exclude` (kura's own state)
    are skipped when walking a folder."""
    files: dict[Path, Path] = {}
    folders, missing = [], []
    for raw in paths:
        path = Path(raw).expanduser().resolve()
        if path.is_dir():
            folders.append(path)
            for p in sorted(path.rglob("*")):
                hidden = any(part.startswith(".") for part in p.relative_to(path).parts)
                skipped = hidden or is_temporary(p) or (exclude and p.is_relative_to(exclude))
                if p.is_file() and not skipped:
                    files.setdefault(p, path)
        elif path.is_file():
            files.setdefault(path, path.parent)
        else:
            missing.append(path)
    return files, folders, missing


ACL_FILE = ".kura-acl"


def read_acl(path: Path) -> tuple[str, ...]:
    """A .kura-acl file: group names separated by commas or newlines; # starts a comment."""
    names = []
    for line in path.read_text(encoding="utf-8").splitlines():
        names.extend(part.strip() for part in line.split("#", 1)[0].split(","))
    return tuple(dict.fromkeys(name for name in names if name))


class AccessRules:
    """Which groups a file belongs to: the nearest .kura-acl in its folder or above (up to the ingested root)
    wins; else its POSIX group, when that mapping is on; else the groups given for the ingest."""

    def __init__(self, default: tuple[str, ...], posix_groups: bool = False) -> None:
        self.default = default
        self.posix_groups = posix_groups
        self._acl_cache: dict[Path, tuple[str, ...] | None] = {}

    def _acl(self, folder: Path) -> tuple[str, ...] | None:
        if folder not in self._acl_cache:
            acl = folder / ACL_FILE
            self._acl_cache[folder] = read_acl(acl) if acl.is_file() else None
        return self._acl_cache[folder]

    def groups_for(self, path: Path, root: Path) -> tuple[str, ...]:
        for folder in [path.parent, *path.parent.parents]:
            acl = self._acl(folder)
            if acl is not None:
                return acl
            if folder == root or folder == folder.parent:
                break
        if self.posix_groups:
            import grp

            try:
                return (grp.getgrgid(path.stat().st_gid).gr_name,)
            except KeyError:
                pass
        return self.default


class Ingestor:
    """Owns nothing: the store, embedder and manifest are passed in and outlive it.
    Without a manifest only index_documents() is usable (evaluation corpora are indexed that way)."""

    EMBED_FILES = 32  # files parsed ahead and embedded together: one model call instead of one per small file

    def __init__(self, *, store: Store, embedder: DenseEmbedder, sparse: SparseEncoder, manifest: Manifest | None,
                 options: ChunkingOptions = ChunkingOptions(), state_dir: Path | None = None,
                 limits: ParseLimits | None = ParseLimits(), parse_workers: int = 2) -> None:
        self.limits = limits  # None parses in this process (no isolation)
        self.parse_workers = parse_workers
        self.state_dir = state_dir.resolve() if state_dir else None  # never ingested, even inside a given folder
        self.store = store
        self.embedder = embedder
        self.sparse = sparse
        self.manifest = manifest
        self.options = options

    def ingest(self, paths: Iterable[Path], *, groups: tuple[str, ...], delete_missing: bool = True,
               progress: ProgressCallback | None = None, posix_groups: bool = False,
               owner: str | None = None) -> IngestReport:
        """`groups` apply to files no .kura-acl (or, with posix_groups, no POSIX group) assigns; `owner` (who
        uploaded them) may read them too. Files are parsed in worker processes while earlier ones are embedded."""
        started = time.perf_counter()
        report = IngestReport()
        files, folders, missing = _expand(paths, self.state_dir)
        rules = AccessRules(groups, posix_groups)
        for path in missing:
            report.failed.append({"path": str(path), "error": "no such file or folder"})
        pending: deque[tuple[_Job, Future]] = deque()
        seen: dict[str, str] = {}
        done = 0

        def tick(path: Path | None) -> None:
            nonlocal done
            done += path is not None
            if progress:
                progress(IngestProgress(done, len(files), report.chunks, len(report.failed),
                                        str(path) if path else "", time.perf_counter() - started))

        def finish_batch(draining: bool = False) -> None:
            """The oldest parsed file, with the ones parsed after it, embedded in one batch. While files are still
            being planned only finished parses join; once all are submitted there is nothing else to wait for."""
            batch = [pending.popleft()]
            while pending and len(batch) < self.EMBED_FILES and (draining or pending[0][1].done()):
                batch.append(pending.popleft())
            self._store(batch, report, owner)
            for job, _ in batch:
                tick(job.path)

        with ThreadPoolExecutor(self.parse_workers) as parsers:
            for path, root in files.items():
                job = self._plan(path, rules.groups_for(path, root), report, seen)
                if job is None:  # unchanged, regrouped, or unreadable: nothing to parse
                    tick(path)
                    continue
                load_parsers()  # here, not in a parse thread; and a re-sync that parses nothing never pays for it
                pending.append((job, parsers.submit(self._parse, job.path)))
                while len(pending) > max(2 * self.parse_workers, self.EMBED_FILES):
                    finish_batch()
            while pending:
                finish_batch(draining=True)
        if delete_missing:
            seen = {str(p) for p in files}
            for folder in folders:
                for record in self.manifest.under(str(folder)):
                    kept_state = self.state_dir and Path(record.path).is_relative_to(self.state_dir)
                    if record.path not in seen and not kept_state:  # uploads and approved replies live in state
                        self.store.delete_document(record.doc_id)
                        self.manifest.delete(record.doc_id)
                        report.deleted += 1
        if report.added or report.updated or report.deleted:
            self.store.optimize()  # index what changed now, not on the first slow query
        tick(None)
        report.seconds = round(time.perf_counter() - started, 3)
        return report

    def _parse(self, path: Path) -> ParsedDocument:
        return parse_isolated(path, self.limits) if self.limits else parse(path)

    def index_documents(self, documents: list[tuple[str, str, ParsedDocument, tuple[str, ...]]],
                        owner: str | None = None) -> list[int]:
        """(doc_id, source, parsed document, groups) → chunks embedded in one batch and stored, document by
        document. Returns each document's chunk count; a document with no text stores nothing, keeping old chunks."""
        per_document, _ = self._embed([self._chunk(*document, owner) for document in documents])
        for (doc_id, *_), indexed in zip(documents, per_document):
            if indexed:
                self.store.replace_document(doc_id, indexed)
        return [len(indexed) for indexed in per_document]

    def _chunk(self, doc_id: str, source: str, document: ParsedDocument, groups: tuple[str, ...],
               owner: str | None) -> list[Chunk]:
        return chunk_document(document, doc_id=doc_id, source=source, groups=groups, owner=owner,
                              chunk_tokens=self.options.chunk_tokens, chunk_overlap=self.options.chunk_overlap,
                              tokenize=self.embedder.tokenize)

    def _embed(self, per_document: list[list[Chunk]]) -> tuple[list[list[IndexedChunk]], int]:
        """Each document's chunks with their vectors, and how many vectors were reused. A text some stored chunk
        already has (a copied file, the unchanged sections of an edited one) reuses that vector; the rest go to
        the model in one call, each once."""
        chunks = [c for doc_chunks in per_document for c in doc_chunks]
        texts = [embedding_text(c) for c in chunks]
        keys = [self.embedder.text_key(t) for t in texts]
        vectors = self.store.vectors_for(keys)
        new = {key: text for key, text in zip(keys, texts) if key not in vectors}
        vectors.update(zip(new, self.embedder.embed(list(new.values()))))
        indexed = [IndexedChunk(c, vectors[k], self.sparse.document(t), k) for c, t, k in zip(chunks, texts, keys)]
        result, start = [], 0
        for doc_chunks in per_document:
            result.append(indexed[start:start + len(doc_chunks)])
            start += len(doc_chunks)
        return result, len(keys) - len(new)

    def delete(self, doc_id: str) -> bool:
        if self.manifest.get(doc_id) is None:
            return False
        self.store.delete_document(doc_id)
        self.manifest.delete(doc_id)
        return True

    def _plan(self, path: Path, groups: tuple[str, ...], report: IngestReport, seen: dict[str, str]) -> _Job | None:
        """What a file needs: nothing (unchanged; only its groups updated if they changed), or parsing.
        `seen` maps the content hashes met in this run to their first path, to report duplicates."""
        doc_id = doc_id_for(path)
        previous = self.manifest.get(doc_id)
        try:
            stat = path.stat()
            ingested = previous is not None and previous.status == "ingested"
            same_file = ingested and previous.size == stat.st_size and previous.mtime_ns == stat.st_mtime_ns
            content_hash = None if same_file else _hash_file(path)
        except OSError as exc:
            self._fail(doc_id, path, groups, describe(exc), report)
            return None
        if ingested and (same_file or previous.content_hash == content_hash):
            if previous.groups != groups:  # only the access rules changed: no parsing, no embedding
                self.store.set_groups(doc_id, groups)
                self.manifest.record_ingested(
                    doc_id=doc_id, path=str(path), title=previous.title, content_hash=previous.content_hash,
                    size=stat.st_size, mtime_ns=stat.st_mtime_ns, chunks=previous.chunks, groups=groups)
                report.regrouped += 1
            elif not same_file:
                self.manifest.touch(doc_id, stat.st_mtime_ns)
            report.unchanged += 1
            return None
        twin = seen.get(content_hash) or next(
            (r.path for r in self.manifest.with_hash(content_hash) if r.doc_id != doc_id), None)
        if twin is not None:  # kept: each path has its own access groups; reported so it can be cleaned up
            report.duplicates.append({"path": str(path), "same_as": twin})
        seen.setdefault(content_hash, str(path))
        return _Job(path, doc_id, groups, stat.st_size, stat.st_mtime_ns, content_hash, previous)

    def _fail(self, doc_id: str, path: Path, groups: tuple[str, ...], reason: str, report: IngestReport) -> None:
        self.manifest.record_failed(doc_id=doc_id, path=str(path), error=reason, groups=groups)
        report.failed.append({"path": str(path), "error": reason})

    def _store(self, batch: list[tuple[_Job, Future]], report: IngestReport, owner: str | None) -> None:
        """Collects the parsed files of a batch (a parse failure fails that file only) and indexes them together."""
        parsed = []
        for job, future in batch:
            try:
                parsed.append((job, future.result()))
            except Exception as exc:  # one bad file never stops the batch
                self._fail(job.doc_id, job.path, job.groups, describe(exc), report)
        self._index_parsed(parsed, report, owner)

    def _index_parsed(self, parsed: list[tuple[_Job, ParsedDocument]], report: IngestReport,
                      owner: str | None) -> None:
        """Chunks each parsed file (a file that cannot be chunked fails alone), embeds them all in one call, then
        stores and records each: the manifest commits only after its chunks are in."""
        chunked = []
        for job, document in parsed:
            try:
                chunked.append((job, document, self._chunk(job.doc_id, str(job.path), document, job.groups, owner)))
            except Exception as exc:  # one bad file never stops the batch
                self._fail(job.doc_id, job.path, job.groups, describe(exc), report)
        parsed = [(job, document) for job, document, _ in chunked]
        try:
            per_document, reused = self._embed([chunks for _, _, chunks in chunked])
        except Exception as exc:
            if len(parsed) > 1:  # one document broke the shared model call: find it by indexing each on its own
                for one in parsed:
                    self._index_parsed([one], report, owner)
                return
            for job, _ in parsed:
                self._fail(job.doc_id, job.path, job.groups, describe(exc), report)
            return
        report.reused += reused
        for (job, document), indexed in zip(parsed, per_document):
            if not indexed:
                self._fail(job.doc_id, job.path, job.groups, "no text found in this file", report)
                continue
            try:
                self.store.replace_document(job.doc_id, indexed)
            except StoreError:
                raise  # the store is gone: stop; what is recorded so far is stored, and a rerun resumes
            except Exception as exc:  # the engine refused this one document
                self._fail(job.doc_id, job.path, job.groups, describe(exc), report)
                continue
            self._record(job, document, len(indexed), report)

    def _record(self, job: _Job, document: ParsedDocument, chunk_count: int, report: IngestReport) -> None:
        self.manifest.record_ingested(
            doc_id=job.doc_id, path=str(job.path), title=document.title, content_hash=job.content_hash,
            size=job.size, mtime_ns=job.mtime_ns, chunks=chunk_count, groups=job.groups,
        )
        report.chunks += chunk_count
        previous = job.previous
        if previous is None or previous.status == "failed" and previous.content_hash is None:
            report.added += 1
        else:
            report.updated += 1
