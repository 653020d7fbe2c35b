"""Searching the sample knowledge base through the Retriever, the one entry point every caller uses."""

from __future__ import annotations

import pytest

from retrieval import AccessScope

EVERYONE = AccessScope(("everyone",))


@pytest.mark.parametrize(
    ("query", "expected_source", "expected_text"),
    [
        ("How many days of paid time off do I get?", "leave-and-time-off.md", "25 days of paid time off"),
        ("hotel limit per night in Tokyo", "expenses-and-travel.md", "18,000 yen"),
        ("sync client stuck on Preparing", "sync-stuck.md", "index database is damaged"),
        ("When is salary paid?", "onboarding-guide.pdf", "25th of each month"),
        ("gifts from suppliers", "code-of-conduct.docx", "10,000 yen"),
    ],
)
def test_hybrid_search_finds_the_passage_in_the_top_three(ingested_samples, query, expected_source, expected_text):
    hits = ingested_samples.retriever.search(query, EVERYONE, k=3)
    assert any(h.chunk.source.endswith(expected_source) and expected_text in h.chunk.text for h in hits), [
        (h.chunk.source, h.chunk.text[:60]) for h in hits
    ]


def test_pdf_hits_carry_their_page(ingested_samples):
    hit = ingested_samples.retriever.search("probation period review meeting", EVERYONE, k=1)[0]
    assert hit.chunk.source.endswith("onboarding-guide.pdf") and hit.chunk.page == 2


def test_search_without_a_scope_is_refused(ingested_samples):
    with pytest.raises(TypeError, match="AccessScope"):
        ingested_samples.retriever.search("anything", ("everyone",))


def test_blank_query_returns_nothing(ingested_samples):
    assert ingested_samples.retriever.search("   ", EVERYONE) == []


def test_hybrid_moves_the_query_towards_its_best_readable_passages_and_ranks_the_candidates_again(ingested_samples):
    """Pseudo-relevance feedback: the fused candidates first (ids, and vectors of the best three), then those
    candidates ranked by the query moved towards the best ones. Both passes carry the caller's scope; the
    similarity reported is still the question's own cosine."""
    import numpy as np

    kura = ingested_samples
    calls = []

    class Recording:
        def candidates(self, **request):
            calls.append(("candidates", request))
            pool = kura.store.candidates(**request)
            calls.append(("pool", pool))
            return pool

        def search(self, **request):
            calls.append(("search", request))
            return kura.store.search(**request)

    from retrieval import Retriever

    retriever = Retriever(Recording(), kura.embedder, kura.sparse)
    hits = retriever.search("hotel limit per night in Tokyo", EVERYONE, k=5)

    (_, first), (_, pool), (_, second) = calls
    assert (first["scope"], first["limit"], first["vectors"]) == (EVERYONE, 5, 3)
    assert len(pool.top_vectors) == 3 and len(pool.ids) > 5
    assert (second["mode"], second["scope"], second["limit"], second["among"]) == ("dense", EVERYONE, 5, pool.ids)
    question = kura.embedder.embed_one("hotel limit per night in Tokyo")
    assert not np.allclose(second["dense"], question), "the second pass ranks with the moved query"
    assert {hit.chunk.chunk_id for hit in hits} <= set(pool.ids)
    assert "18,000 yen" in hits[0].chunk.text
    for hit in hits:
        assert hit.similarity == pytest.approx(
            float(
                np.dot(
                    question,
                    kura.embedder.embed_one(
                        "\n".join(p for p in (hit.chunk.title, hit.chunk.heading, hit.chunk.text) if p)
                    ),
                )
            ),
            abs=1e-3,
        )


def test_hybrid_with_nothing_readable_finds_nothing(ingested_samples):
    assert ingested_samples.retriever.search("hotel limit per night in Tokyo", AccessScope(("nobody",))) == []
