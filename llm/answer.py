"""Question → retrieved evidence → cited answer, streamed.

If nothing relevant is found the answer abstains without calling a model. Every answer carries quoted
evidence: the cited passages' best-supporting sentences. Known model-server failures (empty content,
reasoning without an answer, cut streams, token-limit stops) end in a clear error or warning, never in an
empty answer presented as success."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from itertools import zip_longest

from llm.backends import ChatBackend, Effort, LLMError
from llm.choices import Unsupported
from llm.claims import Claim, ClaimChecker, grounded_share
from llm.evidence import Evidence, best_evidence
from llm.harmony import HarmonyFilter
from llm.notes import Note
from llm.prompt import build_messages
from llm.records import Citation
from llm.repetition import repetition_cut
from llm.response import Progress, Response, Stage
from llm.tokens import count_tokens
from retrieval.embedders import Embedder
from retrieval.search import Retriever
from retrieval.types import AccessScope, SearchHit

ABSTAIN_MESSAGE = "The documents you can access do not answer this question."


_CITATION = re.compile(r"\[(\d{1,2})\]")
EVIDENCE_MARGIN = 0.1
PROMPT_OVERHEAD_TOKENS = 64  # chat-template tokens around each message


@dataclass
class Answer:
    answer: str
    abstained: bool
    citations: list[Citation]
    backend: str
    timings: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    context: dict[str, int] = field(default_factory=dict)
    reasoning: str | None = None  # the model's reasoning: for admins only, never shown to end users by default
    passages: list[SearchHit] = field(default_factory=list)  # what the answer was built from (not serialised)
    claims: list[Claim] = field(default_factory=list)  # each sentence, checked against the passages
    grounded: float | None = None  # share of the sentences that the passages support
    found: dict[str, float] = field(default_factory=dict)  # each query searched → its best passage's similarity

    @property
    def unsupported(self) -> list[Claim]:
        return [c for c in self.claims if not c.supported]

    def to_json(self, include_reasoning: bool = False) -> dict:
        data = dict(self.__dict__)
        data["citations"] = [c.to_json() for c in self.citations]
        data["claims"] = [c.to_json() for c in self.claims]
        data.pop("passages")
        data.pop("found")
        if not include_reasoning:
            data.pop("reasoning")
        return data


@dataclass(frozen=True)
class AnswerOptions:
    top_k: int = 5
    abstain_below: float = 0.35  # the best passage's similarity under which kura abstains (bench/abstention.py)
    context_below: float = 0.3  # passages less similar than this never reach the model
    max_tokens: int = 512
    temperature: float = 0.1
    context_tokens: int = 4096
    reasoning_effort: Effort | None = Effort.LOW  # search answers: quick; ticket drafts ask for more
    unsupported: Unsupported = Unsupported.FLAG  # drop: unsupported sentences are removed from generated answers


def _strongest(evidence: list[Evidence]) -> list[Evidence]:
    """The best quote and any others nearly as good (within EVIDENCE_MARGIN), at most three."""
    return [e for e in evidence[:3] if e.similarity >= evidence[0].similarity - EVIDENCE_MARGIN] if evidence else []


def citation_of(n: int, hit: SearchHit, quote: str) -> Citation:
    c = hit.chunk
    return Citation(
        n=n,
        source=c.source,
        page=c.page,
        heading=c.heading,
        chunk_id=c.chunk_id,
        quote=quote,
        title=c.title,
        context=c.text,
    )


def renumbered(result: Answer) -> None:
    """Sources numbered 1, 2, 3… in the order the answer first cites them (the model numbers passages by rank):
    the markers in the text, the claims and the citations change together."""
    order = {citation.n: new for new, citation in enumerate(result.citations, 1)}
    if all(old == new for old, new in order.items()):
        return

    def marker(match: re.Match) -> str:
        return f"[{order.get(int(match.group(1)), int(match.group(1)))}]"

    result.answer = _CITATION.sub(marker, result.answer)
    for claim in result.claims:
        claim.text = _CITATION.sub(marker, claim.text)
        claim.citations = [order.get(n, n) for n in claim.citations]
    for citation in result.citations:
        citation.n = order[citation.n]


def fit_to_budget(
    question: str, hits: list[SearchHit], options: AnswerOptions, instruction: str | None = None
) -> list[SearchHit]:
    """The most relevant passages whose prompt fits the model's context with room for the answer (at least one)."""
    kept: list[SearchHit] = []
    budget = options.context_tokens - options.max_tokens - PROMPT_OVERHEAD_TOKENS
    for hit in hits:
        messages = build_messages(question, kept + [hit], instruction)
        if kept and sum(count_tokens(m["content"]) for m in messages) > budget:
            break
        kept.append(hit)
    return kept


class Answerer:
    """Owns no resources: retriever, embedders and backend are passed in. `embedder` is the search's (quotes are
    chosen by it); the claim check runs on `checker_embedder` when given (MiniLM, which its bars were measured on).
    `across`, a multilingual embedder, reads a sentence against a source in another language, for quotes and the
    claim check (the search's e5, or e5 beside a second stage that finds passages across languages)."""

    def __init__(
        self,
        retriever: Retriever,
        embedder: Embedder,
        backend: ChatBackend,
        options: AnswerOptions = AnswerOptions(),
        checker_embedder: Embedder | None = None,
        across: Embedder | None = None,
    ) -> None:
        self.retriever = retriever
        self.embedder = embedder
        self.backend = backend
        self.options = options
        self.across = across
        self.checker = ClaimChecker(checker_embedder or embedder, across)

    def stream(
        self,
        question: str,
        scope: AccessScope,
        *,
        reasoning_effort: Effort | None = None,
        stream: bool = True,
        instruction: str | None = None,
        rank: Callable[[list[SearchHit]], list[SearchHit]] | None = None,
        also: Sequence[str] = (),
    ) -> Response[Answer]:
        """The answer being written: its text as it is produced, then the final Answer.

        `instruction` replaces the question as the model's task (ticket drafts); `rank` reorders the relevant
        passages before they are numbered (drafts prefer support articles); `also` are more queries whose
        passages join the question's (each question of a ticket)."""
        progress = Progress()
        steps = self._steps(question, scope, reasoning_effort, stream, instruction, rank, progress, also)
        return Response(steps, progress)

    def _search(self, queries: list[str], scope: AccessScope, found: dict[str, float]) -> list[SearchHit]:
        """Each query's passages, interleaved by rank without duplicates: a ticket asking three things gets
        passages for each, not only for the one its whole text is closest to. `found` gets each query's best
        similarity."""
        per_query = [self.retriever.search(query, scope, k=self.options.top_k) for query in queries]
        for query, hits in zip(queries, per_query):
            found[query] = max((h.similarity or 0.0 for h in hits), default=0.0)
        merged: dict[str, SearchHit] = {}
        for same_rank in zip_longest(*per_query):
            for hit in same_rank:
                if hit is not None:
                    merged.setdefault(hit.chunk.chunk_id, hit)
        return list(merged.values())[: self.options.top_k * (1 + min(len(queries) - 1, 2))]

    def _steps(
        self, question, scope, reasoning_effort, stream, instruction, rank, progress: Progress, also=()
    ) -> Generator[str, None, Answer]:
        timings: dict[str, float] = {}
        started = time.perf_counter()
        found: dict[str, float] = {}
        hits = self._search([question, *(q for q in also if q != question)], scope, found)
        timings["retrieval_s"] = round(time.perf_counter() - started, 4)
        relevant = [h for h in hits if (h.similarity or 0.0) >= self.options.context_below]
        if rank is not None:
            relevant = rank(relevant)
        if max((h.similarity or 0.0 for h in relevant), default=0.0) < self.options.abstain_below:
            timings["total_s"] = timings["retrieval_s"]
            yield ABSTAIN_MESSAGE
            abstained = Answer(ABSTAIN_MESSAGE, True, [], self.backend.name, timings, found=found)
            waiting = self.retriever.awaiting_reembedding()
            if waiting:  # the answer may be in passages another embedder made: say so, not only "not found"
                abstained.warnings.append(Note("awaiting_reembedding", count=waiting))
            return abstained
        progress.stage, progress.passages = Stage.WRITING, len(relevant)
        yield ""  # the front end may say "found N passages, writing" before the first word
        mark = time.perf_counter()
        evidence = best_evidence(question, relevant, self.embedder, self.across)
        timings["evidence_s"] = round(time.perf_counter() - mark, 4)
        if not self.backend.generative:
            text = yield from self._extractive(evidence)
            result = Answer(
                text, False, self._citations(relevant, evidence, text), self.backend.name, timings, passages=relevant
            )
        else:
            used = fit_to_budget(question, relevant, self.options, instruction)
            mark = time.perf_counter()
            result = yield from self._generate(
                build_messages(question, used, instruction), reasoning_effort or self.options.reasoning_effort, stream
            )
            result.passages = used
            timings["generation_s"] = round(time.perf_counter() - mark, 4)
            result.timings = timings
            result.citations = self._citations(used, evidence, result.answer)
            result.context = {"sources_used": len(used), "sources_dropped": len(relevant) - len(used)}
            if len(used) < len(relevant):
                dropped = len(relevant) - len(used)
                result.warnings.append(Note("passages_dropped", count=dropped, limit=self.options.context_tokens))
        result.found = found
        if self.backend.generative and result.answer.strip():
            progress.stage = Stage.CHECKING
            yield ""
            mark = time.perf_counter()
            self._check(result, evidence)
            timings["check_s"] = round(time.perf_counter() - mark, 4)
        if not result.answer.strip() and not result.error:  # never an empty answer presented as success
            result.error = Note("no_answer_text")
        renumbered(result)
        timings["total_s"] = round(time.perf_counter() - started, 4)
        return result

    def _check(self, result: Answer, evidence: list[Evidence]) -> None:
        """Every sentence decided against the passages the model saw. In drop mode the unsupported ones are removed;
        if none is left, the answer is the extractive quotes, and a warning says why."""
        result.claims = self.checker.check(result.answer, result.passages)
        result.grounded = grounded_share(result.claims)
        self._cite_support(result, evidence)
        if self.options.unsupported != Unsupported.DROP or not result.unsupported:
            return
        kept = [c for c in result.claims if c.supported]
        if kept:
            result.answer = " ".join(f"{c.text} [{c.citations[0]}]" for c in kept)
            result.warnings.append(Note("sentences_removed", count=len(result.claims) - len(kept)))
        else:
            result.answer = "\n".join(f"“{e.quote}” [{e.n}]" for e in _strongest(evidence))
            result.warnings.append(Note("answer_replaced"))
        result.claims = self.checker.check(result.answer, result.passages)
        result.grounded = grounded_share(result.claims)
        self._cite_support(result, evidence)

    def _cite_support(self, result: Answer, evidence: list[Evidence]) -> None:
        """The sources shown are those the answer cites and those the check found supporting a sentence: an
        uncited sentence gets its source, and a sentence whose [n] was wrong, the right one."""
        supporting = " ".join(f"[{n}]" for claim in result.claims for n in claim.citations)
        result.citations = self._citations(result.passages, evidence, f"{result.answer} {supporting}")

    def ask(self, question: str, scope: AccessScope, *, reasoning_effort: Effort | None = None) -> Answer:
        """The whole answer at once (the model is asked without streaming)."""
        return self.stream(question, scope, reasoning_effort=reasoning_effort, stream=False).result()

    def _extractive(self, evidence: list[Evidence]) -> Generator[str, None, str]:
        """The answer is the best-supported sentences themselves, quoted and cited."""
        lines = [f"“{e.quote}” [{e.n}]" for e in _strongest(evidence)]
        for line in lines:
            yield line + "\n"
        return "\n".join(lines)

    def _generate(self, messages: list[dict], effort: Effort | None, stream: bool) -> Generator[str, None, Answer]:
        """Run the model; turn every known way a reply can go wrong into an error or warning on the Answer."""
        harmony = HarmonyFilter()
        parts: list[str] = []
        reasoning: list[str] = []
        finish_reason = None
        error = None
        looped = False
        deltas = self.backend.generate(
            messages,
            max_tokens=self.options.max_tokens,
            temperature=self.options.temperature,
            reasoning_effort=effort,
            stream=stream,
        )
        try:
            for delta in deltas:
                text, thought = harmony.feed(delta.text)
                reasoning.extend((delta.reasoning, thought))
                finish_reason = delta.finish_reason or finish_reason
                if text:
                    parts.append(text)
                    yield text
                    cut = repetition_cut("".join(parts))
                    if cut is not None:  # the model is looping: stop it (and its server request), keep one copy
                        parts, looped = ["".join(parts)[:cut]], True
                        break
        except LLMError as exc:
            error = str(exc)
        finally:
            deltas.close()  # stopped by the reader, by the loop guard, or finished: the model stops writing
        text, thought = harmony.flush()
        parts.append(text)
        reasoning.append(thought)
        answer, thinking = "".join(parts).strip(), "".join(reasoning).strip()
        if text:
            yield text
        warnings = []
        if error is None and not answer:
            error = Note("reasoning_only") if thinking else Note("empty_answer")
        elif looped:
            warnings.append(Note("repetition_stopped"))
        elif finish_reason == "length":
            warnings.append(Note("cut_off", limit=self.options.max_tokens))
        return Answer(answer, False, [], self.backend.name, error=error, warnings=warnings, reasoning=thinking or None)

    @staticmethod
    def _citations(hits: list[SearchHit], evidence: list[Evidence], answer: str) -> list[Citation]:
        """The sources the answer cites, each with its best quote; if it cites none, the strongest evidence."""
        quotes = {e.n: e.quote for e in evidence}
        cited = [n for n in dict.fromkeys(int(m) for m in _CITATION.findall(answer)) if 1 <= n <= len(hits)]
        if not cited:
            cited = [e.n for e in _strongest(evidence) if e.n <= len(hits)]
        return [citation_of(n, hits[n - 1], quotes.get(n, hits[n - 1].chunk.text[:300])) for n in cited]
