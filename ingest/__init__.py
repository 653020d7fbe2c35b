"""Making chunks: parse files, split them into cited passages, and hand them to the store.

Names are imported on first use (retrieval/exports.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from retrieval.exports import on_first_use

if TYPE_CHECKING:
    from ingest.disk import DiskFullError
    from ingest.documents import ParsedDocument, ParseError, Section
    from ingest.formats import parse
    from ingest.indexing import ChunkingOptions, Indexer
    from ingest.manifest import DocumentRecord, Manifest, ManifestError, doc_id_for
    from ingest.pipeline import Ingestor
    from ingest.report import IngestProgress, IngestReport

_WHERE = {
    "DiskFullError": "ingest.disk",
    "ParsedDocument": "ingest.documents",
    "ParseError": "ingest.documents",
    "Section": "ingest.documents",
    "parse": "ingest.formats",
    "ChunkingOptions": "ingest.indexing",
    "Indexer": "ingest.indexing",
    "DocumentRecord": "ingest.manifest",
    "Manifest": "ingest.manifest",
    "ManifestError": "ingest.manifest",
    "doc_id_for": "ingest.manifest",
    "Ingestor": "ingest.pipeline",
    "IngestProgress": "ingest.report",
    "IngestReport": "ingest.report",
}
__all__ = [  # the same names as _WHERE
    "ChunkingOptions",
    "DiskFullError",
    "DocumentRecord",
    "Indexer",
    "IngestProgress",
    "IngestReport",
    "Ingestor",
    "Manifest",
    "ManifestError",
    "ParseError",
    "ParsedDocument",
    "Section",
    "doc_id_for",
    "parse",
]


__getattr__ = on_first_use(__name__, _WHERE)
