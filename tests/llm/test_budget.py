"""Sources are fitted to the model's context window, most relevant first, and what was dropped is reported."""

from __future__ import annotations

from llm.answer import AnswerOptions, fit_to_budget
from llm.prompt import build_messages
from llm.tokens import count_tokens, estimate_tokens, exact_counting
from retrieval import Chunk, SearchHit


def hits(n: int, words: int) -> list[SearchHit]:
    return [
        SearchHit(Chunk(f"d{i}", 0, f"passage {i} " + "lorem ipsum " * words, f"/kb/{i}.md", "T"), 1.0 - i / 10)
        for i in range(n)
    ]


def test_the_o200k_vocabulary_is_available_offline():
    assert exact_counting()
    assert count_tokens("Parents get sixteen weeks of paid leave.") == 8


def test_estimate_is_conservative_for_english_and_counts_cjk_per_character():
    english = "Every employee receives a company laptop with full-disk encryption enabled. " * 20
    assert estimate_tokens(english) >= count_tokens(english)
    assert estimate_tokens("有給休暇") == 4


def test_passages_beyond_the_budget_are_dropped_in_relevance_order():
    candidates = hits(6, 200)  # ~400 tokens each
    options = AnswerOptions(context_tokens=1500, max_tokens=300)
    kept = fit_to_budget("question?", candidates, options)
    assert kept == candidates[: len(kept)] and 1 <= len(kept) < 6
    used = sum(count_tokens(m["content"]) for m in build_messages("question?", kept))
    assert used <= options.context_tokens - options.max_tokens


def test_at_least_one_passage_is_always_kept():
    assert len(fit_to_budget("q", hits(3, 5000), AnswerOptions(context_tokens=1000, max_tokens=500))) == 1
