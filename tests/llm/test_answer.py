"""Answers over the sample knowledge base: cited, quoted, abstaining when nothing relevant is found,
and still showing evidence when the model fails."""

from __future__ import annotations

import pytest

from llm import ABSTAIN_MESSAGE, Answer, Answerer, AnswerOptions, ExtractiveBackend, LLMError
from retrieval import AccessScope

EVERYONE = AccessScope(("everyone",))


class FailingBackend:
    """Stands in for a model server that is down: the only fault injected here."""

    name = "openai"
    generative, rewrites_questions, demo = True, True, False

    def ahead(self) -> int:
        return 0

    description = "unreachable"
    calls = 0

    def generate(self, messages, *, max_tokens, temperature, reasoning_effort=None, stream=True):
        FailingBackend.calls += 1
        raise LLMError("The model server at http://127.0.0.1:9/v1 is not answering.")
        yield  # pragma: no cover  (makes this a generator)


def test_extractive_answer_quotes_and_cites_the_right_sentence(ingested_samples):
    answer = ingested_samples.answerer("extractive").ask(
        "How many days of paid time off do full-time employees get?", EVERYONE
    )
    assert not answer.abstained and answer.backend == "extractive"
    first = answer.citations[0]
    assert first.source.endswith("leave-and-time-off.md")
    assert first.quote == "Full-time employees receive 25 days of paid time off (PTO) per calendar year."
    assert f"“{first.quote}” [{first.n}]" in answer.answer
    assert first.heading == "Leave and Time Off > Paid Time Off"


def test_citations_from_a_pdf_carry_the_page(ingested_samples):
    answer = ingested_samples.answerer("extractive").ask("On which day of the month are salaries paid?", EVERYONE)
    cited = [c for c in answer.citations if c.source.endswith("onboarding-guide.pdf")]
    assert cited and cited[0].page == 2 and "25th" in cited[0].quote


def test_unrelated_question_abstains_without_calling_the_model(ingested_samples):
    FailingBackend.calls = 0
    answerer = Answerer(
        ingested_samples.retriever, ingested_samples.embedder, FailingBackend(), AnswerOptions(abstain_below=0.3)
    )
    answer = answerer.ask("What is the boiling point of liquid nitrogen on Neptune?", EVERYONE)
    assert answer.abstained and answer.answer == ABSTAIN_MESSAGE and answer.citations == []
    assert FailingBackend.calls == 0


def test_abstaining_looks_at_the_best_passage_and_the_context_keeps_weaker_support(ingested_samples):
    """Two bars: the answer abstains when even its best passage is under `abstain_below`; when it does not, every
    passage over the lower `context_below` reaches the model, so raising the first never starves the second."""
    question = "Within how many days can an annual subscription be refunded?"
    hits = ingested_samples.retriever.search(question, EVERYONE, k=5)
    best, support = hits[0].similarity, sorted(h.similarity for h in hits[1:])[-1]
    assert best > support  # the refund rule, then weaker passages from the same article and elsewhere

    def ask(abstain_below, context_below):
        answerer = Answerer(
            ingested_samples.retriever,
            ingested_samples.embedder,
            ExtractiveBackend(),
            AnswerOptions(abstain_below=abstain_below, context_below=context_below),
        )
        return answerer.ask(question, EVERYONE)

    answer = ask(abstain_below=best - 0.01, context_below=support - 0.01)
    assert not answer.abstained and len(answer.passages) >= 2
    assert any(p.similarity == support for p in answer.passages), "a passage under the abstention bar is context"
    assert ask(abstain_below=best + 0.01, context_below=support - 0.01).abstained


def test_a_user_without_access_gets_an_abstention(ingested_samples):
    answer = ingested_samples.answerer("extractive").ask("How many days of paid time off?", AccessScope(("other",)))
    assert answer.abstained


def test_model_failure_still_returns_the_evidence(ingested_samples):
    answerer = Answerer(ingested_samples.retriever, ingested_samples.embedder, FailingBackend())
    response = answerer.stream("What is the hotel limit per night in Tokyo?", EVERYONE)
    assert "".join(response) == "", "no text was written"
    answer = response.result()
    assert isinstance(answer, Answer)
    assert "not answering" in answer.error
    assert answer.citations and "18,000 yen" in answer.citations[0].quote


def test_streaming_yields_text_then_the_final_answer(ingested_samples):
    response = ingested_samples.answerer("extractive").stream("Which platforms does Kumo Sync support?", EVERYONE)
    texts = list(response)
    final = response.result()
    assert texts and all(isinstance(t, str) for t in texts)
    assert "".join(texts).strip() == final.answer
    assert final.timings["total_s"] >= final.timings["retrieval_s"] > 0


HEALTH_CHECK_JA = """# 健康診断規程

## 対象と頻度
入社3か月を経過した社員は、年に一度の定期健康診断を受診しなければならない。

## 費用
健康診断の費用は全額会社が負担する。
"""


class EmptyBackend:
    """Scripted model that says nothing at all: what kura does with that is under test."""

    name = "openai"
    generative, rewrites_questions, demo = True, True, False

    def ahead(self) -> int:
        return 0

    description = "says nothing"

    def generate(self, messages, **options):
        from llm.backends import Delta

        yield Delta("", finish_reason="stop")


def test_text_right_under_a_heading_is_evidence_and_no_answer_is_ever_silently_empty(kura, tmp_path):
    """A Japanese heading followed by its text with no blank line between was dropped whole: the extractive
    answer came back empty, not abstained and with no error. Every backend now answers, abstains or says why not."""
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "health.md").write_text(HEALTH_CHECK_JA, encoding="utf-8")
    kura.ingestor.ingest([folder], groups=("everyone",))
    from llm.evidence import best_evidence

    question = "健康診断は誰がいつ受けますか？"
    hits = kura.retriever.search(question, EVERYONE, k=5)
    quotes = {e.quote for e in best_evidence(question, hits, kura.embedder)}
    assert "入社3か月を経過した社員は、年に一度の定期健康診断を受診しなければならない。" in quotes
    assert not any("#" in q or q in ("対象と頻度", "健康診断規程") for q in quotes), "headings are labels, not quotes"
    extractive = kura.answerer("extractive").ask(question, EVERYONE)
    assert extractive.citations and "#" not in extractive.answer
    silent = Answerer(kura.retriever, kura.embedder, EmptyBackend()).ask(question, EVERYONE)
    for answer in (extractive, silent):
        assert answer.answer.strip() or answer.abstained or answer.error
    assert silent.error and silent.citations


@pytest.mark.slow
def test_the_local_model_never_returns_a_silently_empty_answer_either(kura, tmp_path):
    from llm import LocalLlamaBackend
    from tests.conftest import require_gguf

    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "health.md").write_text(HEALTH_CHECK_JA, encoding="utf-8")
    kura.ingestor.ingest([folder], groups=("everyone",))
    answerer = Answerer(kura.retriever, kura.embedder, LocalLlamaBackend(require_gguf()), AnswerOptions(max_tokens=48))
    answer = answerer.ask("健康診断は誰がいつ受けますか？", EVERYONE)
    assert answer.answer.strip() or answer.abstained or answer.error


class LoopingBackend:
    """Scripted model stuck in a loop, as a small model was on "When is salary paid each month?"."""

    name = "openai"
    generative, rewrites_questions, demo = True, True, False
    description = "loops"

    def __init__(self) -> None:
        self.sent, self.closed = 0, False

    def ahead(self) -> int:
        return 0

    def generate(self, messages, **options):
        from llm.backends import Delta

        try:
            yield Delta("Salaries are paid on the 25th of each month [1]. ")
            while True:
                self.sent += 1
                yield Delta("If the 25th is a holiday, they are paid the day before. ")
        finally:
            self.closed = True


def test_a_model_that_repeats_itself_is_stopped_with_a_note_and_one_copy_kept(ingested_samples):
    backend = LoopingBackend()
    answer = Answerer(ingested_samples.retriever, ingested_samples.embedder, backend).ask(
        "When are salaries paid?", EVERYONE
    )
    assert backend.closed and backend.sent < 10, "the model was stopped early, not run to the token limit"
    assert answer.answer.count("If the 25th is a holiday") == 1 and answer.answer.startswith("Salaries are paid")
    assert any("repeating itself" in w for w in answer.warnings)


def test_stopping_an_answer_stops_the_model_and_the_response_says_what_it_is_doing(ingested_samples):
    from llm.response import Stage

    backend = LoopingBackend()
    response = Answerer(ingested_samples.retriever, ingested_samples.embedder, backend).stream(
        "When are salaries paid?", EVERYONE
    )
    assert response.progress.stage is Stage.SEARCHING
    chunks = iter(response)
    assert next(chunks) == "" and response.progress.stage is Stage.WRITING and response.progress.passages >= 1
    assert next(chunks).startswith("Salaries are paid")
    response.close()  # the Stop button
    assert backend.closed and backend.sent <= 1


class CitingBackend(EmptyBackend):
    """Scripted model that cites the third passage first, then the first."""

    description = "cites out of order"

    def generate(self, messages, **options):
        from llm.backends import Delta

        yield Delta("Hotels in Tokyo are reimbursed up to 18,000 yen per night [3]. Receipts are required [1].",
                    finish_reason="stop")  # fmt: skip


def test_sources_are_numbered_in_the_order_the_answer_first_cites_them(ingested_samples):
    answer = Answerer(ingested_samples.retriever, ingested_samples.embedder, CitingBackend()).ask(
        "What is the hotel limit per night in Tokyo?", EVERYONE
    )
    first, *_ = answer.citations
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    assert answer.answer.index("[1]") < answer.answer.index("[2]"), answer.answer
    assert first.chunk_id == answer.passages[2].chunk.chunk_id, "[1] is the passage the model called [3]"
    assert first.quote in first.context and len(first.context) > len(first.quote), "the quote can be read in context"
    assert all(n <= len(answer.citations) for claim in answer.claims for n in claim.citations)
