"""The records that flow through kura: chunks made by ingest, hits found by retrieval."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import numpy as np


class SearchMode(StrEnum):
    """How a search ranks. The store runs rrf, dense and sparse itself; hybrid is the Retriever's: rrf's candidates
    re-ranked by the query moved towards its best passages (pseudo-relevance feedback)."""

    HYBRID = "hybrid"
    RRF = "rrf"
    DENSE = "dense"
    SPARSE = "sparse"


EmbedBackend = Literal["torch", "onnx-int8"]  # sentence-transformers, or the same model quantised (retrieval/onnx.py)

# Fixed namespace so chunk ids are the same on every machine and every run.
KURA_NAMESPACE = uuid.UUID("6b1d3c0e-5f0a-4b8e-9a53-1c2f0d6e7a10")


def chunk_id_for(doc_id: str, position: int) -> str:
    """Deterministic chunk id from its document and position: a re-run overwrites, never duplicates."""
    return str(uuid.uuid5(KURA_NAMESPACE, f"{doc_id}:{position}"))


@dataclass(frozen=True)
class Chunk:
    """A passage of a document, with everything a citation needs to point back at it."""

    doc_id: str
    position: int
    text: str
    source: str
    title: str
    heading: str = ""
    page: int | None = None
    start: int = 0
    end: int = 0
    groups: tuple[str, ...] = ()
    owner: str | None = None  # who added it (an upload in the app): they may read it whatever its groups
    ocr_confidence: float | None = None  # its page was read from a scan by OCR, with this confidence (0-100)

    @property
    def chunk_id(self) -> str:
        return chunk_id_for(self.doc_id, self.position)

    def payload(self) -> dict:
        data = asdict(self)
        data["groups"] = list(self.groups)
        data["chunk_id"] = self.chunk_id
        return data

    @classmethod
    def from_payload(cls, payload: dict) -> Chunk:
        fields = {k: payload[k] for k in cls.__dataclass_fields__ if k in payload}
        fields["groups"] = tuple(fields.get("groups", ()))
        return cls(**fields)


@dataclass(frozen=True)
class SparseVector:
    """BM25 term weights: token ids and their weights (IDF is applied by Qdrant at query time)."""

    indices: list[int]
    values: list[float]


def embedding_text(chunk: Chunk) -> str:
    """What is embedded and BM25-indexed for a chunk: its title and heading path give it context."""
    return "\n".join(part for part in (chunk.title, chunk.heading, chunk.text) if part)


def text_key(model_id: str, text: str) -> str:
    """Names a text's vector under a model: the same key means the same vector, whichever file it came from."""
    return hashlib.sha256(f"{model_id}\0{text}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class IndexedChunk:
    """A chunk with its vectors, ready for the store. `text_key` names the exact text the dense vector was made
    from (`text_key` above): the store keeps it so identical text is never embedded twice."""

    chunk: Chunk
    dense: list[float]
    sparse: SparseVector
    text_key: str = ""

    def payload(self) -> dict:
        return {**self.chunk.payload(), "text_key": self.text_key}


@dataclass(frozen=True)
class CandidatePool:
    """Every chunk a fused (rrf) search found, best first, by id, with the dense vectors of the best few: the first
    pass of hybrid search. No passage text is loaded; the second pass reads only the chunks it returns."""

    ids: list[str]
    top_vectors: list[np.ndarray]


@dataclass(frozen=True)
class SearchHit:
    """A chunk found for a query. `similarity` is the dense cosine (less the same-language penalty of a multilingual
    embedder, retrieval/search.py), comparable across modes."""

    chunk: Chunk
    score: float
    similarity: float | None = None
    vector: np.ndarray | None = field(default=None, compare=False, repr=False)  # the chunk's dense vector

    def to_json(self) -> dict:
        c = self.chunk
        return {
            "chunk_id": c.chunk_id,
            "doc_id": c.doc_id,
            "source": c.source,
            "title": c.title,
            "page": c.page,
            "heading": c.heading,
            "ocr_confidence": c.ocr_confidence,
            "score": self.score,
            "similarity": self.similarity,
            "text": c.text,
        }


@dataclass(frozen=True)
class AccessScope:
    """Who is asking and what they narrowed the search to. Every search needs one: there is no unscoped search.
    `user`, when known, also reads the documents they own."""

    groups: tuple[str, ...]
    sources: tuple[str, ...] = field(default=())
    user: str | None = None


def readable_by(hits: Sequence[SearchHit]) -> tuple[str, ...]:
    """The groups that may read every one of these passages; empty when no group can read them all."""
    group_sets = [set(h.chunk.groups) for h in hits]
    return tuple(sorted(set.intersection(*group_sets))) if group_sets else ()


def joined(chunks: Sequence[Chunk]) -> str:
    """A document's text again from its chunks in order: the overlap between neighbours is written once (offsets
    say where each chunk began), a gap between sections becomes a blank line."""
    parts, covered = [], 0
    for chunk in chunks:
        if parts and chunk.start >= covered:
            parts.append("\n\n")
        parts.append(chunk.text[max(covered - chunk.start, 0) :] if parts else chunk.text)
        covered = max(covered, chunk.end)
    return "".join(parts)
