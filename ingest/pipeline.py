"""Paths → parsed, chunked, embedded documents in the store, recorded in the manifest.

Unchanged files (same size and mtime, or same content hash) are skipped without parsing or embedding.
A bad file is recorded with its reason and the batch goes on. Re-ingesting a folder removes the
documents that disappeared from it, unless told not to."""

from __future__ import annotations

import hashlib
import time
from collections import deque
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ingest.access import AccessRuleError, AccessRules
from ingest.discovery import Discoverer, printable
from ingest.disk import check_free_space
from ingest.documents import ParsedDocument
from ingest.formats import parse
from ingest.indexing import ChunkingOptions, Indexer
from ingest.manifest import DocumentRecord, Manifest, doc_id_for, hash_file
from ingest.report import AclWarning, Duplicate, Failure, Held, IngestReport, ProgressCallback, ProgressTracker, Skipped
from ingest.worker import ParseOptions, describe, load_parsers, parse_isolated
from retrieval.embed import SparseEncoder
from retrieval.embedders import Embedder
from retrieval.errors import ConfigError
from retrieval.store import Store, StoreError


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


@dataclass
class _Run:
    """One ingest's state: its policy, the parses in flight, the content hashes met (to report duplicates)."""

    policy: _Policy
    owner: str | None
    report: IngestReport
    progress: ProgressTracker
    pending: deque[tuple[_Job, Future]] = field(default_factory=deque)
    seen: dict[str, str] = field(default_factory=dict)


UNREADABLE_FOLDER = (
    "permission denied: kura cannot read this folder; the documents indexed from it are kept until it can be read again"
)
NOT_YOURS = "you may not read this document, so you may not re-sync or regroup it"


class Ingestor:
    """Owns nothing: the store, embedder and manifest are passed in and outlive it."""

    EMBED_FILES = 32  # files parsed ahead and embedded together: one model call instead of one per small file

    def __init__(
        self,
        *,
        store: Store,
        embedder: Embedder,
        sparse: SparseEncoder,
        manifest: Manifest,
        options: ChunkingOptions = ChunkingOptions(),
        state_dir: Path | None = None,
        state_allowed: tuple[Path, ...] = (),
        limits: ParseOptions | None = ParseOptions(),
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
        self.indexer = Indexer(store, embedder, sparse, options)
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
        report = IngestReport()
        found = self.discoverer.discover(paths)
        report.failed += [Failure(str(path), "no such file or folder") for path in found.missing]
        report.failed += [Failure(**refused) for refused in found.refused]
        report.failed += [Failure(printable(folder), UNREADABLE_FOLDER) for folder in found.unreadable]
        for folder in found.folders:
            self.manifest.record_root(str(folder))
        rules = AccessRules(groups, self.posix_groups, [*self.library_roots, *map(Path, self.manifest.roots())])
        run = _Run(_Policy(allow_widening, reader, self._lost_from_store()), owner, report,
                   ProgressTracker(len(found.files), report, progress))  # fmt: skip
        with ThreadPoolExecutor(self.parse_workers) as parsers:
            for path, root in found.files.items():
                job = self._plan(path, root, rules, run)
                if job is None:  # unchanged, regrouped, refused or unreadable: nothing to parse
                    run.progress.tick(path)
                    continue
                load_parsers()  # here, not in a parse thread; and a re-sync that parses nothing never pays for it
                run.pending.append((job, parsers.submit(self._parse, job.path)))
                while len(run.pending) > max(2 * self.parse_workers, self.EMBED_FILES):
                    self._finish_batch(run)
            while run.pending:
                self._finish_batch(run, draining=True)
        report.warnings += [AclWarning(path, warning) for path, warning in rules.warnings.items()]
        if delete_missing:
            self._delete_vanished(found.folders, found.unreadable, set(map(str, found.files)), reader, report)
        if report.added or report.updated or report.deleted:
            self.store.optimize()  # index what changed now, not on the first slow query
        run.progress.tick(None)
        report.seconds = round(time.perf_counter() - run.progress.started, 3)
        return report

    def _finish_batch(self, run: _Run, draining: bool = False) -> None:
        """The oldest parsed file, with the ones parsed after it, embedded in one batch. While files are still
        being planned only finished parses join; once all are submitted there is nothing else to wait for."""
        batch = [run.pending.popleft()]
        while run.pending and len(batch) < self.EMBED_FILES and (draining or run.pending[0][1].done()):
            batch.append(run.pending.popleft())
        check_free_space(self.state_dir, self.min_free_mb)
        self._store(batch, run.report, run.owner)
        for job, _ in batch:
            run.progress.tick(job.path)

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

    def _parse(self, path: Path) -> ParsedDocument:
        return parse_isolated(path, self.limits) if self.limits else parse(path)

    def delete(self, doc_id: str) -> bool:
        if self.manifest.get(doc_id) is None:
            return False
        self.store.delete_document(doc_id)
        self.manifest.delete(doc_id)
        return True

    def _plan(self, path: Path, root: Path, rules: AccessRules, run: _Run) -> _Job | None:
        """What a file needs: nothing (unchanged; only its groups updated if they changed), or parsing."""
        policy, report, seen = run.policy, run.report, run.seen
        doc_id = doc_id_for(path)
        previous = self.manifest.get(doc_id)
        if policy.reader is not None and previous is not None and not set(previous.groups) & set(policy.reader):
            report.skipped.append(Skipped(str(path), NOT_YOURS))
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
            content_hash = None if same_file else hash_file(path)
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
            report.duplicates.append(Duplicate(str(path), twin))
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
        report.held.append(Held(str(path), list(kept), list(wanted)))
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
        report.failed.append(Failure(str(path), reason))

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
                chunks = self.indexer.chunk(job.doc_id, str(job.path), document, job.groups, owner)
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
        try:
            per_document, reused = self.indexer.embed([chunks for _, _, chunks in chunked])
        except ConfigError:
            raise
        except Exception as exc:
            if len(chunked) > 1:  # one document broke the shared model call: find it by indexing each on its own
                for job, document, _ in chunked:
                    self._index_parsed([(job, document)], report, owner)
                return
            for job, _, _ in chunked:
                self._fail(job.doc_id, job.path, job.groups, describe(exc), report, job.previous)
            return
        report.reused += reused
        for (job, document, _), indexed in zip(chunked, per_document):
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
