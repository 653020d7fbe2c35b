"""Making chunks: parse files, split them into cited passages, and hand them to the store."""

from ingest.disk import DiskFullError
from ingest.documents import ParsedDocument, ParseError, Section
from ingest.formats import parse
from ingest.indexing import ChunkingOptions, Indexer
from ingest.manifest import DocumentRecord, Manifest, ManifestError, doc_id_for
from ingest.pipeline import Ingestor
from ingest.report import IngestProgress, IngestReport

__all__ = [
    "ChunkingOptions",
    "DiskFullError",
    "DocumentRecord",
    "IngestProgress",
    "IngestReport",
    "Indexer",
    "Ingestor",
    "Manifest",
    "ManifestError",
    "ParseError",
    "ParsedDocument",
    "Section",
    "doc_id_for",
    "parse",
]
