"""Making chunks: parse files, split them into cited passages, and hand them to the store."""

from ingest.manifest import DocumentRecord, Manifest
from ingest.parse import ParseError, ParsedDocument, Section, parse
from ingest.pipeline import ChunkingOptions, IngestProgress, IngestReport, Ingestor, doc_id_for

__all__ = [
    "ChunkingOptions",
    "DocumentRecord",
    "IngestProgress",
    "IngestReport",
    "Ingestor",
    "Manifest",
    "ParseError",
    "ParsedDocument",
    "Section",
    "doc_id_for",
    "parse",
]
