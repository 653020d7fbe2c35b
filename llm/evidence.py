"""Sentence-level evidence: which sentences of the retrieved passages best support a question.

This is the whole answer for the `extractive` backend and the quoted evidence for every other backend:
on a tiny model the quotes, not the generated text, are what a reader should trust."""

from __future__ import annotations

import re
from dataclasses import dataclass

from retrieval.embed import DenseEmbedder
from retrieval.types import SearchHit

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[A-Z0-9])|(?<=[。！？])")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
_BLOCK_BREAK = re.compile(r"\n\s*\n|\n(?=\s*(?:[-*+]|\d+[.)]|#{1,6}|\|)\s)")


def split_sentences(text: str) -> list[str]:
    """Sentences of a passage: paragraphs and list items first (wrapped lines rejoined), then sentence ends."""
    sentences = []
    for block in _BLOCK_BREAK.split(text):
        if block.lstrip().startswith("#"):
            continue  # a heading is a label, not evidence
        block = " ".join(block.split())
        sentences.extend(p.strip(" -*#>|") for p in _SENTENCE_END.split(block))
    return [s for s in sentences if len(s) >= 12 or (len(s) >= 4 and _CJK.search(s))]


@dataclass(frozen=True)
class Evidence:
    """One quoted sentence, from source number n (1-based, as in the prompt)."""

    n: int
    quote: str
    similarity: float


def best_evidence(question: str, hits: list[SearchHit], embedder: DenseEmbedder) -> list[Evidence]:
    """For each passage, its sentence most similar to the question; best first."""
    candidates = [(n, sentence) for n, hit in enumerate(hits, 1) for sentence in split_sentences(hit.chunk.text)]
    if not candidates:
        return []
    vectors = embedder.embed([question] + [sentence for _, sentence in candidates])
    scores = vectors[1:] @ vectors[0]
    best: dict[int, Evidence] = {}
    for (n, sentence), score in zip(candidates, scores):
        if n not in best or score > best[n].similarity:
            best[n] = Evidence(n, sentence, float(score))
    return sorted(best.values(), key=lambda e: -e.similarity)

