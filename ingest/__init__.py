"""Making chunks: parse files, split them into cited passages, and hand them to the store."""

from ingest.manifest import DocumentRecord, Manifest, ManifestError
from ingest.parse import ParsedDocument, ParseError, Section, parse
from ingest.pipeline import ChunkingOptions, DiskFullError, Ingestor, IngestProgress, IngestReport, doc_id_for

__all__ = [
    "ChunkingOptions",
    "DiskFullError",
    "DocumentRecord",
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
