"""Paths → parsed, chunked, embedded documents in the store, recorded in the manifest.

Unchanged files (same size and mtime, or same content hash) are skipped without parsing or embedding.
A bad file is recorded with its reason and the batch goes on. Re-ingesting a folder removes the
documents that disappeared from it, unless told not to."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ingest.chunk import chunk_document
from ingest.manifest import Manifest
from ingest.parse import ParsedDocument, ParseError, parse
from retrieval.embed import DenseEmbedder, SparseEncoder
from retrieval.store import Store, StoreError
from retrieval.types import Chunk, IndexedChunk

ProgressCallback = Callable[[int, int, str], None]


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    failed: list[dict] = field(default_factory=list)
    chunks: int = 0
    regrouped: int = 0  # unchanged documents whose access groups changed (payload updated, not re-embedded)
    seconds: float = 0.0

    def to_json(self) -> dict:
        return dict(self.__dict__)


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


def _expand(paths: Iterable[Path], exclude: Path | None = None) -> tuple[dict[Path, Path], list[Path], list[Path]]:
    """Given paths → ({file: the root it was found under}, folders walked, missing paths).
    Hidden files and folders (.kura-acl among them) are skipped, and so is `exclude` (kura's own state)."""
    files: dict[Path, Path] = {}
    folders, missing = [], []
    for raw in paths:
        path = Path(raw).expanduser().resolve()
        if path.is_dir():
            folders.append(path)
            for p in sorted(path.rglob("*")):
                hidden = any(part.startswith(".") for part in p.relative_to(path).parts)
                if p.is_file() and not hidden and not (exclude and p.is_relative_to(exclude)):
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


def _describe(exc: Exception) -> str:
    if isinstance(exc, ParseError):
        return str(exc)
    if isinstance(exc, PermissionError):
        return "permission denied: kura cannot read this file"
    return f"could not be read ({type(exc).__name__}: {exc})"


class Ingestor:
    """Owns nothing: the store, embedder and manifest are passed in and outlive it.
    Without a manifest only index_documents() is usable (evaluation corpora are indexed that way)."""

    def __init__(self, *, store: Store, embedder: DenseEmbedder, sparse: SparseEncoder, manifest: Manifest | None,
                 options: ChunkingOptions = ChunkingOptions(), state_dir: Path | None = None) -> None:
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
        uploaded them) may read them too."""
        started = time.perf_counter()
        report = IngestReport()
        files, folders, missing = _expand(paths, self.state_dir)
        rules = AccessRules(groups, posix_groups)
        for path in missing:
            report.failed.append({"path": str(path), "error": "no such file or folder"})
        for done, (path, root) in enumerate(files.items()):
            if progress:
                progress(done, len(files), str(path))
            self._ingest_file(path, rules.groups_for(path, root), report, owner)
        if delete_missing:
            seen = {str(p) for p in files}
            for folder in folders:
                for record in self.manifest.under(str(folder)):
                    kept_state = self.state_dir and Path(record.path).is_relative_to(self.state_dir)
                    if record.path not in seen and not kept_state:  # uploads and approved replies live in state
                        self.store.delete_document(record.doc_id)
                        self.manifest.delete(record.doc_id)
                        report.deleted += 1
        if progress:
            progress(len(files), len(files), "")
        report.seconds = round(time.perf_counter() - started, 3)
        return report

    def index_documents(self, documents: list[tuple[str, str, ParsedDocument]], groups: tuple[str, ...],
                        owner: str | None = None) -> list[int]:
        """(doc_id, source, parsed document) → chunks embedded in one batch and stored, document by document.
        Returns each document's chunk count; a document with no text stores nothing and keeps any old chunks."""
        per_document = [
            chunk_document(document, doc_id=doc_id, source=source, groups=groups, owner=owner,
                           chunk_tokens=self.options.chunk_tokens, chunk_overlap=self.options.chunk_overlap,
                           tokenize=self.embedder.model.tokenizer.tokenize)
            for doc_id, source, document in documents
        ]
        chunks = [c for doc_chunks in per_document for c in doc_chunks]
        texts = [embedding_text(c) for c in chunks]
        vectors = self.embedder.embed(texts)
        indexed = [IndexedChunk(c, d, self.sparse.document(t)) for c, d, t in zip(chunks, vectors, texts)]
        start = 0
        for (doc_id, _, _), doc_chunks in zip(documents, per_document):
            if doc_chunks:
                self.store.replace_document(doc_id, indexed[start:start + len(doc_chunks)])
            start += len(doc_chunks)
        return [len(doc_chunks) for doc_chunks in per_document]

    def delete(self, doc_id: str) -> bool:
        if self.manifest.get(doc_id) is None:
            return False
        self.store.delete_document(doc_id)
        self.manifest.delete(doc_id)
        return True

    def _ingest_file(self, path: Path, groups: tuple[str, ...], report: IngestReport, owner: str | None) -> None:
        doc_id = doc_id_for(path)
        previous = self.manifest.get(doc_id)
        try:
            stat = path.stat()
            ingested = previous is not None and previous.status == "ingested"
            same_file = ingested and previous.size == stat.st_size and previous.mtime_ns == stat.st_mtime_ns
            content_hash = None if same_file else _hash_file(path)
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
                return
            document = parse(path)
            (chunk_count,) = self.index_documents([(doc_id, str(path), document)], groups, owner)
            if not chunk_count:
                raise ParseError("no text found in this file")
        except StoreError:
            raise  # the store is gone: stop the batch, a rerun resumes from the manifest
        except Exception as exc:  # one bad file never stops the batch
            self.manifest.record_failed(doc_id=doc_id, path=str(path), error=_describe(exc), groups=groups)
            report.failed.append({"path": str(path), "error": _describe(exc)})
            return
        self.manifest.record_ingested(
            doc_id=doc_id, path=str(path), title=document.title, content_hash=content_hash,
            size=stat.st_size, mtime_ns=stat.st_mtime_ns, chunks=chunk_count, groups=groups,
        )
        report.chunks += chunk_count
        if previous is None or previous.status == "failed" and previous.content_hash is None:
            report.added += 1
        else:
            report.updated += 1
