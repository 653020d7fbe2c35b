"""Question → retrieved evidence → cited answer, streamed.

If nothing relevant is found the answer abstains without calling a model. Every answer carries quoted
evidence: the cited passages' best-supporting sentences."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from llm.backends import ChatBackend, LLMError
from llm.evidence import Evidence, best_evidence
from llm.prompt import build_messages
from retrieval.embed import DenseEmbedder
from retrieval.search import Retriever
from retrieval.types import AccessScope, SearchHit

ABSTAIN_MESSAGE = "The documents you can access do not answer this question."
_CITATION = re.compile(r"\[(\d{1,2})\]")


@dataclass
class Citation:
    n: int
    source: str
    page: int | None
    heading: str
    chunk_id: str
    quote: str
    title: str = ""

    def to_json(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Answer:
    answer: str
    abstained: bool
    citations: list[Citation]
    backend: str
    timings: dict[str, float] = field(default_factory=dict)
    error: str | None = None

    def to_json(self) -> dict:
        data = dict(self.__dict__)
        data["citations"] = [c.to_json() for c in self.citations]
        return data


@dataclass(frozen=True)
class AnswerOptions:
    top_k: int = 5
    abstain_below: float = 0.3
    max_tokens: int = 512
    temperature: float = 0.1
    context_chars: int = 6000


EVIDENCE_MARGIN = 0.1


def _strongest(evidence: list[Evidence]) -> list[Evidence]:
    """The best quote and any others nearly as good (within EVIDENCE_MARGIN), at most three."""
    return [e for e in evidence[:3] if e.similarity >= evidence[0].similarity - EVIDENCE_MARGIN] if evidence else []


def _citation(n: int, hit: SearchHit, quote: str) -> Citation:
    c = hit.chunk
    return Citation(n=n, source=c.source, page=c.page, heading=c.heading, chunk_id=c.chunk_id, quote=quote,
                    title=c.title)


def _fit(hits: list[SearchHit], context_chars: int) -> list[SearchHit]:
    """Keep the best passages that fit the model's context budget (at least one)."""
    kept, used = [], 0
    for hit in hits:
        if kept and used + len(hit.chunk.text) > context_chars:
            break
        kept.append(hit)
        used += len(hit.chunk.text)
    return kept


class Answerer:
    """Owns no resources: retriever, embedder and backend are passed in. backend=None is the extractive mode."""

    def __init__(self, retriever: Retriever, embedder: DenseEmbedder, backend: ChatBackend | None,
                 options: AnswerOptions = AnswerOptions()) -> None:
        self.retriever = retriever
        self.embedder = embedder
        self.backend = backend
        self.options = options

    @property
    def backend_name(self) -> str:
        return self.backend.name if self.backend else "extractive"

    def stream(self, question: str, scope: AccessScope) -> Iterator[str | Answer]:
        """Yields answer text as it is produced, then the final Answer."""
        timings: dict[str, float] = {}
        started = time.perf_counter()
        hits = self.retriever.search(question, scope, k=self.options.top_k)
        timings["retrieval_s"] = round(time.perf_counter() - started, 4)
        relevant = [h for h in hits if (h.similarity or 0.0) >= self.options.abstain_below]
        if not relevant:
            timings["total_s"] = timings["retrieval_s"]
            yield ABSTAIN_MESSAGE
            yield Answer(ABSTAIN_MESSAGE, True, [], self.backend_name, timings)
            return
        relevant = _fit(relevant, self.options.context_chars)
        mark = time.perf_counter()
        evidence = best_evidence(question, relevant, self.embedder)
        timings["evidence_s"] = round(time.perf_counter() - mark, 4)
        if self.backend is None:
            text = yield from self._extractive(evidence)
            result = Answer(text, False, self._citations(relevant, evidence, text), "extractive", timings)
        else:
            mark = time.perf_counter()
            parts: list[str] = []
            error = None
            try:
                for text in self.backend.stream(
                    build_messages(question, relevant),
                    max_tokens=self.options.max_tokens,
                    temperature=self.options.temperature,
                ):
                    parts.append(text)
                    yield text
            except LLMError as exc:
                error = str(exc)
            timings["generation_s"] = round(time.perf_counter() - mark, 4)
            text = "".join(parts).strip()
            result = Answer(text, False, self._citations(relevant, evidence, text), self.backend.name, timings, error)
        timings["total_s"] = round(time.perf_counter() - started, 4)
        yield result

    def ask(self, question: str, scope: AccessScope) -> Answer:
        *_, final = self.stream(question, scope)
        return final

    def _extractive(self, evidence: list[Evidence]) -> Iterator[str]:
        """The answer is the best-supported sentences themselves, quoted and cited."""
        lines = [f"“{e.quote}” [{e.n}]" for e in _strongest(evidence)]
        for line in lines:
            yield line + "\n"
        return "\n".join(lines)

    @staticmethod
    def _citations(hits: list[SearchHit], evidence: list[Evidence], answer: str) -> list[Citation]:
        """The sources the answer cites, each with its best quote; if it cites none, the strongest evidence."""
        quotes = {e.n: e.quote for e in evidence}
        cited = [n for n in dict.fromkeys(int(m) for m in _CITATION.findall(answer)) if 1 <= n <= len(hits)]
        if not cited:
            cited = [e.n for e in _strongest(evidence)]
        return [_citation(n, hits[n - 1], quotes.get(n, hits[n - 1].chunk.text[:300])) for n in cited]
