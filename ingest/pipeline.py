"""Paths → parsed, chunked, embedded documents in the store, recorded in the manifest.

Unchanged files (same size and mtime, or same content hash) are skipped without parsing or embedding.
A bad file is recorded with its reason and the batch goes on. Re-ingesting a folder removes the
documents that disappeared from it, unless told not to."""

from __future__ import annotations

import hashlib
import shutil
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ingest.access import AccessRuleError, AccessRules
from ingest.chunk import chunk_document
from ingest.discovery import Discoverer, printable
from ingest.manifest import DocumentRecord, Manifest
from ingest.parse import ParsedDocument, parse
from ingest.worker import ParseLimits, describe, load_parsers, parse_isolated
from retrieval.embed import DenseEmbedder, SparseEncoder
from retrieval.errors import ConfigError
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
    repaired: int = 0  # documents the manifest recorded but the store had lost: indexed again
    held: list[dict] = field(default_factory=list)  # wider groups not applied without allow_widening
    skipped: list[dict] = field(default_factory=list)  # documents the caller may not read: left as they are
    warnings: list[dict] = field(default_factory=list)  # {"path", "warning"}: e.g. an ACL that names no group
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
class _Policy:
    """What one ingest may do: widen groups, touch documents the caller cannot read; and what the store lost."""

    allow_widening: bool
    reader: tuple[str, ...] | None
    lost: set[str]


@dataclass(frozen=True)
class ChunkingOptions:
    chunk_tokens: int = 200
    chunk_overlap: int = 40
    max_chunks_per_file: int = 5000  # a 3,000-page PDF fails with a reason instead of embedding for an hour


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


UNREADABLE_FOLDER = (
    "permission denied: kura cannot read this folder; the documents indexed from it are kept until it can be read again"
)
NOT_YOURS = "you may not read this document, so you may not re-sync or regroup it"


class DiskFullError(StoreError):
    """Too little free disk to ingest safely; raised before anything is half-written."""


class Ingestor:
    """Owns nothing: the store, embedder and manifest are passed in and outlive it.
    Without a manifest only index_documents() is usable (evaluation corpora are indexed that way)."""

    EMBED_FILES = 32  # files parsed ahead and embedded together: one model call instead of one per small file

    def __init__(
        self,
        *,
        store: Store,
        embedder: DenseEmbedder,
        sparse: SparseEncoder,
        manifest: Manifest | None,
        options: ChunkingOptions = ChunkingOptions(),
        state_dir: Path | None = None,
        state_allowed: tuple[Path, ...] = (),
        limits: ParseLimits | None = ParseLimits(),
        parse_workers: int = 2,
        posix_groups: bool = False,
        library_roots: tuple[Path, ...] = (),
        min_free_mb: int = 0,
        public_groups: tuple[str, ...] = ("everyone",),
    ) -> None:
        self.limits = limits  # None parses in this process (no isolation)
        self.parse_workers = parse_workers
        self.state_dir = state_dir.resolve() if state_dir else None  # never ingested, except state_allowed
        self.discoverer = Discoverer(self.state_dir, state_allowed)
        self.store = store
        self.embedder = embedder
        self.sparse = sparse
        self.manifest = manifest
        self.options = options
        self.posix_groups = posix_groups
        self.library_roots = tuple(Path(r).resolve() for r in library_roots)
        self.min_free_mb = min_free_mb
        self.public_groups = frozenset(public_groups)  # every user is in them: a public document cannot widen
        self.index_key = hashlib.sha256(
            f"{embedder.model_id}|{options.chunk_tokens}|{options.chunk_overlap}".encode()
        ).hexdigest()[:16]

    def ingest(
        self,
        paths: Iterable[Path],
        *,
        groups: tuple[str, ...],
        delete_missing: bool = True,
        progress: ProgressCallback | None = None,
        owner: str | None = None,
        allow_widening: bool = False,
        reader: tuple[str, ...] | None = None,
    ) -> IngestReport:
        """`groups` apply to files no .kura-acl (or, with posix_groups, no POSIX group) assigns; `owner` (who
        uploaded them) may read them too. A document already indexed never gets wider groups (anyone new able
        to read it) unless `allow_widening`: it keeps the groups both allow, reported under `held`. With `reader`
        (the caller's groups), documents the caller may not read are left alone. Files are parsed in worker
        processes while earlier ones are embedded."""
        started = time.perf_counter()
        report = IngestReport()
        found = self.discoverer.discover(paths)
        files = found.files
        report.failed.extend({"path": str(path), "error": "no such file or folder"} for path in found.missing)
        report.failed.extend(found.refused)
        report.failed.extend({"path": printable(folder), "error": UNREADABLE_FOLDER} for folder in found.unreadable)
        for folder in found.folders:
            self.manifest.record_root(str(folder))
        rules = AccessRules(groups, self.posix_groups, [*self.library_roots, *map(Path, self.manifest.roots())])
        policy = _Policy(allow_widening, reader, self._lost_from_store())
        pending: deque[tuple[_Job, Future]] = deque()
        seen: dict[str, str] = {}
        done = 0

        def tick(path: Path | None) -> None:
            nonlocal done
            done += path is not None
            if progress:
                progress(
                    IngestProgress(
                        done,
                        len(files),
                        report.chunks,
                        len(report.failed),
                        str(path) if path else "",
                        time.perf_counter() - started,
                    )
                )

        def finish_batch(draining: bool = False) -> None:
            """The oldest parsed file, with the ones parsed after it, embedded in one batch. While files are still
            being planned only finished parses join; once all are submitted there is nothing else to wait for."""
            batch = [pending.popleft()]
            while pending and len(batch) < self.EMBED_FILES and (draining or pending[0][1].done()):
                batch.append(pending.popleft())
            self._check_free_space()
            self._store(batch, report, owner)
            for job, _ in batch:
                tick(job.path)

        with ThreadPoolExecutor(self.parse_workers) as parsers:
            for path, root in files.items():
                job = self._plan(path, root, rules, policy, report, seen)
                if job is None:  # unchanged, regrouped, refused or unreadable: nothing to parse
                    tick(path)
                    continue
                load_parsers()  # here, not in a parse thread; and a re-sync that parses nothing never pays for it
                pending.append((job, parsers.submit(self._parse, job.path)))
                while len(pending) > max(2 * self.parse_workers, self.EMBED_FILES):
                    finish_batch()
            while pending:
                finish_batch(draining=True)
        report.warnings.extend({"path": path, "warning": warning} for path, warning in rules.warnings.items())
        if delete_missing:
            self._delete_vanished(found.folders, found.unreadable, set(map(str, files)), reader, report)
        if report.added or report.updated or report.deleted:
            self.store.optimize()  # index what changed now, not on the first slow query
        tick(None)
        report.seconds = round(time.perf_counter() - started, 3)
        return report

    def _delete_vanished(
        self,
        folders: list[Path],
        unreadable: list[Path],
        present: set[str],
        reader: tuple[str, ...] | None,
        report: IngestReport,
    ) -> None:
        """Documents of the walked folders whose files are gone; never those under a folder that could not be
        read (gone from view is not gone), nor kura's own uploads and approved replies, nor the caller's unreadable."""
        for folder in folders:
            for record in self.manifest.under(str(folder)):
                path = Path(record.path)
                kept = (
                    record.path in present
                    or any(path.is_relative_to(u) for u in unreadable)
                    or (self.state_dir and path.is_relative_to(self.state_dir))
                    or (reader is not None and not set(record.groups) & set(reader))
                )
                if not kept:
                    self.store.delete_document(record.doc_id)
                    self.manifest.delete(record.doc_id)
                    report.deleted += 1

    def _lost_from_store(self) -> set[str]:
        """Documents the manifest records whose chunks the store no longer has in full (segments lost, a new empty
        server behind an old manifest): they are indexed again instead of being "unchanged" forever."""
        records = [r for r in self.manifest.all() if r.chunks]
        if self.store.count() == sum(r.chunks for r in records):
            return set()
        return {r.doc_id for r in records if self.store.count(doc_id=r.doc_id) != r.chunks}

    def _check_free_space(self) -> None:
        """Qdrant Edge writes through memory maps: a full disk kills the process (SIGBUS) with no message."""
        if not self.min_free_mb or self.state_dir is None:
            return
        folder = next(p for p in [self.state_dir, *self.state_dir.parents] if p.exists())
        free_mb = shutil.disk_usage(folder).free // (1024 * 1024)
        if free_mb < self.min_free_mb:
            raise DiskFullError(
                f"only {free_mb} MB free on the disk of {self.state_dir}, under the {self.min_free_mb} "
                "MB kura keeps free (KURA_MIN_FREE_MB): free some space and run the ingest again; "
                "what was ingested so far is kept and the rest resumes"
            )

    def _parse(self, path: Path) -> ParsedDocument:
        return parse_isolated(path, self.limits) if self.limits else parse(path)

    def index_documents(
        self, documents: list[tuple[str, str, ParsedDocument, tuple[str, ...]]], owner: str | None = None
    ) -> list[int]:
        """(doc_id, source, parsed document, groups) → chunks embedded in one batch and stored, document by
        document. Returns each document's chunk count; a document with no text stores nothing, keeping old chunks."""
        per_document, _ = self._embed([self._chunk(*document, owner) for document in documents])
        for (doc_id, *_), indexed in zip(documents, per_document):
            if indexed:
                self.store.replace_document(doc_id, indexed)
        return [len(indexed) for indexed in per_document]

    def _chunk(
        self, doc_id: str, source: str, document: ParsedDocument, groups: tuple[str, ...], owner: str | None
    ) -> list[Chunk]:
        return chunk_document(
            document,
            doc_id=doc_id,
            source=source,
            groups=groups,
            owner=owner,
            chunk_tokens=self.options.chunk_tokens,
            chunk_overlap=self.options.chunk_overlap,
            tokenize=self.embedder.tokenize,
        )

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
            result.append(indexed[start : start + len(doc_chunks)])
            start += len(doc_chunks)
        return result, len(keys) - len(new)

    def delete(self, doc_id: str) -> bool:
        if self.manifest.get(doc_id) is None:
            return False
        self.store.delete_document(doc_id)
        self.manifest.delete(doc_id)
        return True

    def _plan(
        self, path: Path, root: Path, rules: AccessRules, policy: _Policy, report: IngestReport, seen: dict[str, str]
    ) -> _Job | None:
        """What a file needs: nothing (unchanged; only its groups updated if they changed), or parsing.
        `seen` maps the content hashes met in this run to their first path, to report duplicates."""
        doc_id = doc_id_for(path)
        previous = self.manifest.get(doc_id)
        if policy.reader is not None and previous is not None and not set(previous.groups) & set(policy.reader):
            report.skipped.append({"path": str(path), "reason": NOT_YOURS})
            return None
        try:
            groups = self._granted(path, previous, rules.groups_for(path, root), policy.allow_widening, report)
        except AccessRuleError as exc:  # fail closed: nothing new indexed, old passages hidden
            self._fail(doc_id, path, previous.groups if previous else (), str(exc), report, previous, hide=True)
            return None
        try:
            stat = path.stat()
            ingested = (
                previous is not None
                and previous.status == "ingested"
                and doc_id not in policy.lost
                and previous.index_key in (None, self.index_key)
            )
            same_file = ingested and previous.size == stat.st_size and previous.mtime_ns == stat.st_mtime_ns
            content_hash = None if same_file else _hash_file(path)
        except OSError as exc:
            self._fail(doc_id, path, groups, describe(exc), report, previous)
            return None
        if ingested and (same_file or previous.content_hash == content_hash):
            if previous.groups != groups:  # only the access rules changed: no parsing, no embedding
                self.store.set_groups(doc_id, groups)
                self.manifest.record_ingested(
                    doc_id=doc_id,
                    path=str(path),
                    title=previous.title,
                    content_hash=previous.content_hash,
                    size=stat.st_size,
                    mtime_ns=stat.st_mtime_ns,
                    chunks=previous.chunks,
                    groups=groups,
                    index_key=previous.index_key,
                )
                report.regrouped += 1
            elif not same_file:
                self.manifest.touch(doc_id, stat.st_mtime_ns)
            report.unchanged += 1
            return None
        report.repaired += doc_id in policy.lost
        twin = seen.get(content_hash) or next(
            (r.path for r in self.manifest.with_hash(content_hash) if r.doc_id != doc_id), None
        )
        if twin is not None:  # kept: each path has its own access groups; reported so it can be cleaned up
            report.duplicates.append({"path": str(path), "same_as": twin})
        seen.setdefault(content_hash, str(path))
        return _Job(path, doc_id, groups, stat.st_size, stat.st_mtime_ns, content_hash, previous)

    def _granted(
        self,
        path: Path,
        previous: DocumentRecord | None,
        wanted: tuple[str, ...],
        allow_widening: bool,
        report: IngestReport,
    ) -> tuple[str, ...]:
        """The groups a document gets: what its rules say, but never readable by anyone new without
        allow_widening (an ACL removed, a subfolder ingested with other --groups): then the groups both allow.
        A public document (readable by a default group, which every user has) cannot be widened."""
        if (
            previous is None
            or allow_widening
            or set(wanted) <= set(previous.groups)
            or self.public_groups & set(previous.groups)
        ):
            return wanted
        kept = tuple(g for g in previous.groups if g in wanted)
        report.held.append({"path": str(path), "groups": list(kept), "wanted": list(wanted)})
        return kept

    def _fail(
        self,
        doc_id: str,
        path: Path,
        groups: tuple[str, ...],
        reason: str,
        report: IngestReport,
        previous: DocumentRecord | None = None,
        hide: bool = False,
    ) -> None:
        """Records the failure. An earlier version's chunks stay searchable, but under the groups the file has now
        (an ACL tightened while the new version fails to parse tightens the old chunks too), or by nobody (hide)."""
        if previous is not None and previous.chunks and (hide or previous.groups != groups):
            self.store.set_groups(doc_id, () if hide else groups)
        self.manifest.record_failed(doc_id=doc_id, path=str(path), error=reason, groups=groups)
        report.failed.append({"path": str(path), "error": reason})

    def _store(self, batch: list[tuple[_Job, Future]], report: IngestReport, owner: str | None) -> None:
        """Collects the parsed files of a batch (a parse failure fails that file only) and indexes them together."""
        parsed = []
        for job, future in batch:
            try:
                parsed.append((job, future.result()))
            except Exception as exc:  # one bad file never stops the batch
                self._fail(job.doc_id, job.path, job.groups, describe(exc), report, job.previous)
        self._index_parsed(parsed, report, owner)

    def _index_parsed(self, parsed: list[tuple[_Job, ParsedDocument]], report: IngestReport, owner: str | None) -> None:
        """Chunks each parsed file (a file that cannot be chunked fails alone), embeds them all in one call, then
        stores and records each: the manifest commits only after its chunks are in."""
        chunked = []
        limit = self.options.max_chunks_per_file
        for job, document in parsed:
            try:
                chunks = self._chunk(job.doc_id, str(job.path), document, job.groups, owner)
            except ConfigError:
                raise  # the embedder's setting is wrong: every file would fail the same way
            except Exception as exc:  # one bad file never stops the batch
                self._fail(job.doc_id, job.path, job.groups, describe(exc), report, job.previous)
                continue
            if len(chunks) > limit:
                self._fail(
                    job.doc_id,
                    job.path,
                    job.groups,
                    f"the file makes {len(chunks)} passages, more than the "
                    f"{limit} allowed per file (KURA_MAX_CHUNKS_PER_FILE): split it into smaller files or "
                    "raise the limit",
                    report,
                    job.previous,
                )
                continue
            chunked.append((job, document, chunks))
        parsed = [(job, document) for job, document, _ in chunked]
        try:
            per_document, reused = self._embed([chunks for _, _, chunks in chunked])
        except ConfigError:
            raise
        except Exception as exc:
            if len(parsed) > 1:  # one document broke the shared model call: find it by indexing each on its own
                for one in parsed:
                    self._index_parsed([one], report, owner)
                return
            for job, _ in parsed:
                self._fail(job.doc_id, job.path, job.groups, describe(exc), report, job.previous)
            return
        report.reused += reused
        for (job, document), indexed in zip(parsed, per_document):
            if not indexed:
                self._fail(job.doc_id, job.path, job.groups, "no text found in this file", report, job.previous)
                continue
            try:
                self.store.replace_document(job.doc_id, indexed)
            except StoreError:
                raise  # the store is gone: stop; what is recorded so far is stored, and a rerun resumes
            except Exception as exc:  # the engine refused this one document
                self._fail(job.doc_id, job.path, job.groups, describe(exc), report, job.previous)
                continue
            self._record(job, document, len(indexed), report)

    def _record(self, job: _Job, document: ParsedDocument, chunk_count: int, report: IngestReport) -> None:
        self.manifest.record_ingested(
            doc_id=job.doc_id,
            path=str(job.path),
            title=document.title,
            content_hash=job.content_hash,
            size=job.size,
            mtime_ns=job.mtime_ns,
            chunks=chunk_count,
            groups=job.groups,
            index_key=self.index_key,
        )
        report.chunks += chunk_count
        previous = job.previous
        if previous is None or previous.status == "failed" and previous.content_hash is None:
            report.added += 1
        else:
            report.updated += 1
