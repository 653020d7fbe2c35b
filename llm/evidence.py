"""Sentence-level evidence: which sentences of the retrieved passages best support a question.

This is the whole answer for the `extractive` backend and the quoted evidence for every other backend:
on a tiny model the quotes, not the generated text, are what a reader should trust."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from retrieval.embedders import Embedder
from retrieval.languages import CJK, is_cjk
from retrieval.types import SearchHit

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[A-Z0-9])|(?<=[。！？])")
_BLOCK_BREAK = re.compile(r"\n\s*\n|\n(?=\s*(?:[-*+]|\d+[.)]|#{1,6}|\|)\s)")
_HEADING_LINE = re.compile(r"^\s*#{1,6}(?:\s.*)?$")


def _without_headings(text: str) -> str:
    """The text's lines that are not Markdown headings, as one line."""
    return " ".join(" ".join(line for line in text.splitlines() if not _HEADING_LINE.match(line)).split())


def split_sentences(text: str) -> list[str]:
    """Sentences of a passage: paragraphs and list items first (wrapped lines rejoined), then sentence ends.
    Heading lines are labels, not evidence: they are dropped, and the text right under them (no blank line
    between, common in Japanese documents) is kept."""
    sentences = []
    for block in _BLOCK_BREAK.split(text):
        block = _without_headings(block)
        sentences.extend(p.strip(" -*#>|") for p in _SENTENCE_END.split(block))
    return [s for s in sentences if len(s) >= 12 or (len(s) >= 4 and CJK.search(s))]


_WORD = re.compile(r"\w+")
STOPWORDS = frozenset({
    "the", "and", "for", "are", "was", "were", "can", "could", "how", "what", "when", "where", "which", "who",
    "why", "does", "did", "with", "from", "that", "this", "into", "have", "has", "had", "you", "your", "our",
    "per", "any", "all", "not", "but", "its", "may", "must", "will", "would", "should", "about",
})  # fmt: skip
LEXICAL_WEIGHT = 0.3
QUOTE_MARGIN = 0.1


def _stems(text: str) -> set[str]:
    """Crude language-neutral stems (first five letters of content words) for a lexical-overlap signal."""
    return {w[:5] for w in _WORD.findall(text.lower()) if len(w) >= 3 and w not in STOPWORDS}


def _overlap(question_stems: set[str], sentence: str) -> float:
    return len(question_stems & _stems(sentence)) / len(question_stems) if question_stems else 0.0


@dataclass(frozen=True)
class Evidence:
    """One quoted sentence, from source number n (1-based, as in the prompt)."""

    n: int
    quote: str
    similarity: float


_VECTORS: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
_VECTORS_KEPT = 20_000
_VECTORS_LOCK = threading.Lock()


# A sentence and a text in different languages are compared by the multilingual embedder, whose cosines run
# higher: a claim and the sentence it restates ~0.85-0.88, a sentence on another subject under 0.8
# (tests/llm/test_claims_across_languages.py). Shifted by this, MiniLM's bars apply.
ACROSS_SHIFT = 0.35


def sentence_vectors(embedder: Embedder, texts: list[str]) -> np.ndarray:
    """Embeddings of passage sentences, remembered (the most recent 20,000): the quote finder and the claim check
    read the same passages, so the second pays nothing for them."""
    with _VECTORS_LOCK:
        missing = list(dict.fromkeys(t for t in texts if (embedder.model_id, t) not in _VECTORS))
    fresh = embedder.embed(missing) if missing else []
    with _VECTORS_LOCK:
        for text, vector in zip(missing, fresh):
            _VECTORS[(embedder.model_id, text)] = vector
        while len(_VECTORS) > _VECTORS_KEPT:
            _VECTORS.popitem(last=False)
        found = [_VECTORS.get((embedder.model_id, t)) for t in texts]
    local = dict(zip(missing, fresh))
    return np.array([v if v is not None else local[t] for v, t in zip(found, texts)])


def best_evidence(
    question: str, hits: list[SearchHit], embedder: Embedder, across: Embedder | None = None
) -> list[Evidence]:
    """For each passage, the sentence (or two) that best supports the question; best first.

    Support is embedding similarity plus a small bonus for sharing the question's words: MiniLM alone
    often prefers a sentence next to the one holding the fact. A passage in another language than the question
    (a second stage finds them for an English-only embedder) is read by the multilingual `across` when given,
    its cosines shifted onto the others' scale."""
    candidates = []
    for n, hit in enumerate(hits, 1):  # a passage with no sentence (a table row, a short label) is quoted whole
        sentences = split_sentences(hit.chunk.text) or [_without_headings(hit.chunk.text)[:300]]
        candidates.extend((n, sentence) for sentence in sentences if sentence)
    if not candidates:
        return []
    sentences = sentence_vectors(embedder, [sentence for _, sentence in candidates])
    similarities = sentences @ embedder.embed_one(question)
    other = (
        [i for i, (n, _) in enumerate(candidates) if is_cjk(hits[n - 1].chunk.text) != is_cjk(question)]
        if across is not None
        else []
    )
    if other:
        readings = sentence_vectors(across, [candidates[i][1] for i in other]) @ across.embed_one(question)
        similarities[other] = readings - ACROSS_SHIFT
    question_stems = _stems(question)
    scored: dict[int, list[tuple[float, int, str, float]]] = {}
    for index, ((n, sentence), similarity) in enumerate(zip(candidates, similarities)):
        support = float(similarity) + LEXICAL_WEIGHT * _overlap(question_stems, sentence)
        scored.setdefault(n, []).append((support, index, sentence, float(similarity)))
    ranked = []
    for n, sentences in scored.items():
        sentences.sort(reverse=True)
        top = sentences[0]
        # A nearly-as-good sentence right next to the best joins the quote: facts often span two sentences.
        neighbours = [s for s in sentences[1:] if abs(s[1] - top[1]) == 1 and s[0] >= top[0] - QUOTE_MARGIN]
        chosen = sorted([top] + neighbours[:1], key=lambda s: s[1])
        ranked.append((top[0], Evidence(n, " ".join(s[2] for s in chosen), top[3])))
    return [evidence for _, evidence in sorted(ranked, key=lambda pair: -pair[0])]
