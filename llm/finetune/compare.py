"""Base model against adapter, on the tickets held out of training: how much of the approved reply's substance each
draft carries (key-term recall: its numbers and content words), the share of the draft's sentences the sources
support (kura's claim check), and its length. Higher recall with no loss of support is what an adapter must show."""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass

from llm.quantities import quantities
from retrieval.languages import is_cjk

WORD = re.compile(r"\w+")
STOPWORDS = frozenset(
    [
        "about",
        "after",
        "also",
        "been",
        "before",
        "being",
        "could",
        "does",
        "from",
        "have",
        "into",
        "just",
        "more",
        "most",
        "much",
        "only",
        "other",
        "over",
        "same",
        "some",
        "such",
        "than",
        "that",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "very",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "will",
        "with",
        "would",
        "your",
        "yours",
        "please",
        "thank",
        "thanks",
        "hello",
        "regards",
        "best",
        "dear",
    ]
)


def key_terms(text: str) -> set[str]:
    """What a reply says, as terms: its quantities, its content words (4+ letters, not function words), and for
    Japanese its character pairs."""
    terms = {f"{value:g} {unit}".strip() for value, unit in quantities(text)}
    for word in WORD.findall(text.lower()):
        if is_cjk(word):
            terms.update(word[i : i + 2] for i in range(len(word) - 1))
        elif len(word) >= 4 and word not in STOPWORDS and not word.isdigit():
            terms.add(word)
    return terms


def term_recall(approved: str, draft: str) -> float:
    wanted = key_terms(approved)
    return len(wanted & key_terms(draft)) / len(wanted) if wanted else 1.0


@dataclass
class ModelScore:
    model: str
    tickets: int
    recall: float  # mean key-term recall of the approved replies
    supported: float  # mean share of the draft's checked sentences the sources support
    words: float  # mean draft length in words
    failed: int  # drafts the model could not write (an error: the draft quotes passages instead)

    def to_json(self) -> dict:
        return dict(self.__dict__)


def score(model: str, pairs: list[tuple[str, str, float | None, bool]]) -> ModelScore:
    """(approved reply, draft, supported share or None, failed) per ticket → the model's row."""
    written = [p for p in pairs if not p[3]]
    return ModelScore(
        model,
        len(pairs),
        statistics.fmean(term_recall(a, d) for a, d, _, _ in written) if written else 0.0,
        statistics.fmean(s for _, _, s, _ in written if s is not None)
        if any(p[2] is not None for p in written)
        else 0.0,
        statistics.fmean(len(WORD.findall(d)) for _, d, _, _ in written) if written else 0.0,
        len(pairs) - len(written),
    )
