"""The ingest manifest: what was ingested from where, at which content hash, and what failed.

A document row is committed only after its chunks are in the store, so a crash never records work
that was not done; a rerun simply does it again. SQLite in KURA_HOME by default; PostgreSQL
(KURA_MANIFEST_URL=postgresql://…) when several ingest workers share one Qdrant server."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from retrieval.errors import KuraError

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id       TEXT PRIMARY KEY,
    path         TEXT NOT NULL UNIQUE,
    title        TEXT NOT NULL DEFAULT '',
    content_hash TEXT,
    size         BIGINT,
    mtime_ns     BIGINT,
    status       TEXT NOT NULL CHECK (status IN ('ingested', 'failed')),
    error        TEXT,
    chunks       INTEGER NOT NULL DEFAULT 0,
    groups_json  TEXT NOT NULL DEFAULT '[]',
    updated_at   DOUBLE PRECISION NOT NULL,
    index_key    TEXT
);
CREATE TABLE IF NOT EXISTS roots (
    path TEXT PRIMARY KEY
);
"""
# Standard SQL that SQLite (>= 3.24) and PostgreSQL both run; placeholders are written as ? here.
_UPSERT_INGESTED = (
    "INSERT INTO documents (doc_id, path, title, content_hash, size, mtime_ns, status, error, chunks, groups_json, "
    "updated_at, index_key) VALUES (?, ?, ?, ?, ?, ?, 'ingested', NULL, ?, ?, ?, ?) ON CONFLICT (doc_id) DO UPDATE SET "
    "path = excluded.path, title = excluded.title, content_hash = excluded.content_hash, size = excluded.size, "
    "mtime_ns = excluded.mtime_ns, status = 'ingested', error = NULL, chunks = excluded.chunks, "
    "groups_json = excluded.groups_json, updated_at = excluded.updated_at, index_key = excluded.index_key"
)
_UPSERT_FAILED = (
    "INSERT INTO documents (doc_id, path, status, error, groups_json, updated_at) VALUES (?, ?, 'failed', ?, ?, ?) "
    "ON CONFLICT (doc_id) DO UPDATE SET status = 'failed', error = excluded.error, groups_json = excluded.groups_json, "
    "updated_at = excluded.updated_at"
)


def doc_id_for(path: Path) -> str:
    """A document's identity is its absolute path: the same file always maps to the same id."""
    return hashlib.sha256(str(path).encode()).hexdigest()[:32]


def hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class DocumentRecord:
    doc_id: str
    path: str
    title: str
    content_hash: str | None
    size: int | None
    mtime_ns: int | None
    status: str
    error: str | None
    chunks: int
    groups: tuple[str, ...]
    updated_at: float
    index_key: str | None = None  # the chunking and embedding settings it was indexed with (None: before keys)

    def to_json(self) -> dict:
        return {**self.__dict__, "groups": list(self.groups)}


class ManifestError(KuraError):
    """The manifest cannot be opened; the message says what to do."""


class Manifest:
    """The manifest at `location`: a SQLite file path, or a postgresql:// URL."""

    def __init__(self, location: Path | str) -> None:
        self._lock = threading.Lock()
        try:
            if str(location).startswith(("postgresql://", "postgres://")):
                import psycopg

                self._db = psycopg.connect(str(location))
                self._placeholder = "%s"
            else:
                Path(location).parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(str(location), check_same_thread=False)
                self._db.execute("PRAGMA journal_mode=WAL")
                self._placeholder = "?"
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    self._write(statement)
            if "index_key" not in self._columns():  # manifests from before index keys
                self._write("ALTER TABLE documents ADD COLUMN index_key TEXT")
            self._write("CREATE INDEX IF NOT EXISTS documents_by_hash ON documents (content_hash)")
        except sqlite3.DatabaseError as exc:
            raise ManifestError(
                f"the ingest manifest {location} is damaged ({exc}). Move it aside and run `kura ingest` on your "
                "folders again: documents whose passages are still in the store are re-recorded."
            ) from None

    def _columns(self) -> set[str]:
        with self._lock:
            cursor = self._db.execute("SELECT * FROM documents LIMIT 0")
            names = {column[0] for column in cursor.description}
            self._db.commit()
        return names

    def _sql(self, statement: str) -> str:
        return statement.replace("?", self._placeholder)

    def _write(self, statement: str, params: tuple = ()) -> None:
        with self._lock:
            try:
                self._db.execute(self._sql(statement), params)
                self._db.commit()
            except Exception:
                self._db.rollback()
                raise

    def _read(self, statement: str, params: tuple = ()) -> list[tuple]:
        with self._lock:
            rows = self._db.execute(self._sql(statement), params).fetchall()
            self._db.commit()  # end the read transaction (PostgreSQL would otherwise hold it open)
            return rows

    def _record(self, row) -> DocumentRecord:
        *head, groups_json, updated_at, index_key = row
        return DocumentRecord(*head, tuple(json.loads(groups_json)), updated_at, index_key)

    _COLUMNS = (
        "doc_id, path, title, content_hash, size, mtime_ns, status, error, chunks, groups_json, updated_at, index_key"
    )

    def get(self, doc_id: str) -> DocumentRecord | None:
        rows = self._read(f"SELECT {self._COLUMNS} FROM documents WHERE doc_id = ?", (doc_id,))
        return self._record(rows[0]) if rows else None

    def all(self) -> list[DocumentRecord]:
        return [self._record(r) for r in self._read(f"SELECT {self._COLUMNS} FROM documents ORDER BY path")]

    def with_hash(self, content_hash: str) -> list[DocumentRecord]:
        """Ingested documents with this content: duplicates at other paths."""
        rows = self._read(
            f"SELECT {self._COLUMNS} FROM documents WHERE content_hash = ? AND status = 'ingested'", (content_hash,)
        )
        return [self._record(r) for r in rows]

    def under(self, folder: str) -> list[DocumentRecord]:
        """Documents whose path lies inside `folder` (an absolute path)."""
        prefix = folder.rstrip("/") + "/"
        return [r for r in self.all() if r.path.startswith(prefix)]

    def record_ingested(
        self,
        *,
        doc_id: str,
        path: str,
        title: str,
        content_hash: str,
        size: int,
        mtime_ns: int,
        chunks: int,
        groups: tuple[str, ...],
        index_key: str | None = None,
    ) -> None:
        self._write(
            _UPSERT_INGESTED,
            (
                doc_id,
                path,
                title,
                content_hash,
                size,
                mtime_ns,
                chunks,
                json.dumps(list(groups)),
                time.time(),
                index_key,
            ),
        )

    def record_failed(self, *, doc_id: str, path: str, error: str, groups: tuple[str, ...]) -> None:
        """Mark a document failed, with the groups its earlier chunks (kept: nothing is lost) now have."""
        self._write(_UPSERT_FAILED, (doc_id, path, error, json.dumps(list(groups)), time.time()))

    def touch(self, doc_id: str, mtime_ns: int) -> None:
        self._write("UPDATE documents SET mtime_ns = ? WHERE doc_id = ?", (mtime_ns, doc_id))

    def delete(self, doc_id: str) -> None:
        self._write("DELETE FROM documents WHERE doc_id = ?", (doc_id,))

    def record_root(self, folder: str) -> None:
        """A folder ingested as a whole: later ingests of anything inside it read the .kura-acl files up to it."""
        self._write("INSERT INTO roots (path) VALUES (?) ON CONFLICT (path) DO NOTHING", (folder,))

    def roots(self) -> list[str]:
        return [row[0] for row in self._read("SELECT path FROM roots")]

    def close(self) -> None:
        self._db.close()
