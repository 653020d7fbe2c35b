"""Parsed documents → chunks → vectors → the store. The half of ingest that knows nothing of files, folders or
access rules: an Ingestor hands it parsed documents with their groups; evaluation corpora come here directly."""

from __future__ import annotations

from dataclasses import dataclass

from ingest.chunk import chunk_document
from ingest.documents import ParsedDocument
from retrieval.embed import SparseEncoder
from retrieval.embedders import Embedder
from retrieval.store import Store
from retrieval.types import Chunk, IndexedChunk, embedding_text


@dataclass(frozen=True)
class ChunkingOptions:
    chunk_tokens: int = 200
    chunk_overlap: int = 40
    max_chunks_per_file: int = 5000  # a 3,000-page PDF fails with a reason instead of embedding for an hour


class Indexer:
    """Owns nothing: the store and the encoders are passed in."""

    def __init__(
        self, store: Store, embedder: Embedder, sparse: SparseEncoder, options: ChunkingOptions = ChunkingOptions()
    ) -> None:
        self.store, self.embedder, self.sparse, self.options = store, embedder, sparse, options

    def index_documents(
        self, documents: list[tuple[str, str, ParsedDocument, tuple[str, ...]]], owner: str | None = None
    ) -> list[int]:
        """(doc_id, source, parsed document, groups) → chunks embedded in one batch and stored, document by
        document. Returns each document's chunk count; a document with no text stores nothing, keeping old chunks."""
        per_document, _ = self.embed([self.chunk(*document, owner) for document in documents])
        for (doc_id, *_), indexed in zip(documents, per_document):
            if indexed:
                self.store.replace_document(doc_id, indexed)
        return [len(indexed) for indexed in per_document]

    def chunk(
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

    def embed(self, per_document: list[list[Chunk]]) -> tuple[list[list[IndexedChunk]], int]:
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
