"""The SQLite ingest manifest: what was ingested from where, at which content hash, and what failed.

A document row is committed only after its chunks are in the store, so a crash never records work
that was not done; a rerun simply does it again."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id       TEXT PRIMARY KEY,
    path         TEXT NOT NULL UNIQUE,
    title        TEXT NOT NULL DEFAULT '',
    content_hash TEXT,
    size         INTEGER,
    mtime_ns     INTEGER,
    status       TEXT NOT NULL CHECK (status IN ('ingested', 'failed')),
    error        TEXT,
    chunks       INTEGER NOT NULL DEFAULT 0,
    groups_json  TEXT NOT NULL DEFAULT '[]',
    updated_at   REAL NOT NULL
);
"""


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

    def to_json(self) -> dict:
        return {**self.__dict__, "groups": list(self.groups)}


class Manifest:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)

    def _record(self, row) -> DocumentRecord:
        *head, groups_json, updated_at = row
        return DocumentRecord(*head, tuple(json.loads(groups_json)), updated_at)

    _COLUMNS = "doc_id, path, title, content_hash, size, mtime_ns, status, error, chunks, groups_json, updated_at"

    def get(self, doc_id: str) -> DocumentRecord | None:
        row = self._db.execute(f"SELECT {self._COLUMNS} FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        return self._record(row) if row else None

    def all(self) -> list[DocumentRecord]:
        rows = self._db.execute(f"SELECT {self._COLUMNS} FROM documents ORDER BY path").fetchall()
        return [self._record(r) for r in rows]

    def under(self, folder: str) -> list[DocumentRecord]:
        """Documents whose path lies inside `folder` (an absolute path)."""
        prefix = folder.rstrip("/") + "/"
        return [r for r in self.all() if r.path.startswith(prefix)]

    def record_ingested(self, *, doc_id: str, path: str, title: str, content_hash: str, size: int, mtime_ns: int,
                        chunks: int, groups: tuple[str, ...]) -> None:
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO documents VALUES (?, ?, ?, ?, ?, ?, 'ingested', NULL, ?, ?, ?)",
                (doc_id, path, title, content_hash, size, mtime_ns, chunks, json.dumps(list(groups)), time.time()),
            )

    def record_failed(self, *, doc_id: str, path: str, error: str, groups: tuple[str, ...]) -> None:
        """Mark a document failed. Chunks from an earlier good version stay searchable: nothing is lost."""
        with self._db:
            self._db.execute(
                "INSERT INTO documents (doc_id, path, status, error, groups_json, updated_at) "
                "VALUES (?, ?, 'failed', ?, ?, ?) "
                "ON CONFLICT(doc_id) DO UPDATE SET status='failed', error=excluded.error, updated_at=excluded.updated_at",
                (doc_id, path, error, json.dumps(list(groups)), time.time()),
            )

    def touch(self, doc_id: str, mtime_ns: int) -> None:
        with self._db:
            self._db.execute("UPDATE documents SET mtime_ns = ? WHERE doc_id = ?", (mtime_ns, doc_id))

    def delete(self, doc_id: str) -> None:
        with self._db:
            self._db.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))

    def close(self) -> None:
        self._db.close()
