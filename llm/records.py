"""The records an answer is made of: a citation (where a quote comes from) and a claim (one sentence and whether
the sources support it). Plain data, light to import: kept conversations are rebuilt from them."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Citation:
    n: int
    source: str
    page: int | None
    heading: str
    chunk_id: str
    quote: str
    title: str = ""
    context: str = ""  # the whole passage the quote is from, to read it in context

    def to_json(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Claim:
    """One sentence of an answer and the verdict on it."""

    text: str
    supported: bool
    citations: list[int] = field(default_factory=list)
    evidence: str = ""  # the source sentence it was checked against
    score: float = 0.0  # cosine similarity to that sentence
    reason: str = ""  # why it is not supported, said for the reader

    def to_json(self) -> dict:
        return dict(self.__dict__)
