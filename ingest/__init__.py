"""Making chunks: parse files, split them into cited passages, and hand them to the store.

Names are imported on first use (PEP 562): `kura --help` or a settings check never loads the models,
Qdrant or torch that some of them need."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

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


def __getattr__(name: str) -> object:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value
