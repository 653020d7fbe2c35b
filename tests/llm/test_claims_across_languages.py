"""With a multilingual search, a Japanese question is answered from English passages (and the reverse), and the
answer is written in the question's language. Its sentences share no words with their sources, so the claim
check compares what does not depend on words: meaning (multilingual-e5-small), every quantity (16週間 is
16 weeks, 3万円 is 30,000 yen), polarity and period. A faithful answer is supported; a changed number, a flipped
negation or a sentence about something else is not, as it would not be in one language."""

from __future__ import annotations

import pytest

from llm.claims import ClaimChecker
from retrieval.e5 import E5Embedder
from retrieval.types import Chunk, SearchHit

ENGLISH = (
    "Every parent, regardless of gender, receives 16 weeks of fully paid parental leave. "
    "It can be taken in up to three blocks within 24 months of the birth or adoption."
)
REFUNDS = (
    "Annual Kumo Sync subscriptions can be refunded in full within 14 days of purchase. "
    "After 14 days, no refunds are given for the remaining term."
)
JAPANESE = "自転車通勤手当は月額3万円を上限として支給する。申請には部長の承認が必要である。"

CASES = [
    # (answer sentence, source passage, supported?)
    ("育児休業は最長16週間、全額有給で取得できます [1]。", ENGLISH, True),
    ("出産または養子縁組から24か月以内に、最大3回に分けて取得できます [1]。", ENGLISH, True),
    ("育児休業は最長12週間取得できます [1]。", ENGLISH, False),  # 12 where the source says 16
    ("育児休業は3回に分けて取得することはできません [1]。", ENGLISH, False),  # the source allows it
    ("ノートパソコンはディスク全体を暗号化する必要があります [1]。", ENGLISH, False),  # another subject
    ("年間サブスクリプションは購入から14日以内なら全額返金されます [1]。", REFUNDS, True),  # a later sentence says "no"
    ("根据[1]中的信息，年間サブスクリプションの返金は14日以内です。", REFUNDS, True),  # where it read it, in Chinese
    ("14日以内です [1]。", REFUNDS, True),  # terse: closest in meaning to the sentence saying "no refunds"
    ("年間サブスクリプションの返金は30日以内です [1]。", REFUNDS, False),
    ("The cycling allowance is up to 30,000 yen a month [1].", JAPANESE, True),
    ("The cycling allowance is up to 50,000 yen a month [1].", JAPANESE, False),
    ("The cycling allowance is up to 30,000 yen a year [1].", JAPANESE, False),  # per year, not per month
]


@pytest.fixture(scope="module")
def checker(embedder):
    return ClaimChecker(embedder, across=E5Embedder())


@pytest.mark.slow  # ~30 s with both embedders and MeCab loaded: the quick loop stays under five minutes
@pytest.mark.parametrize("sentence, source, supported", CASES)
def test_a_sentence_is_checked_against_a_source_in_another_language(checker, sentence, source, supported):
    hit = SearchHit(Chunk("doc", 0, source, "/docs/policy.md", "Policy"), 1.0, 0.5, None)
    [claim] = checker.check(sentence, [hit])
    assert claim.supported is supported, claim


def test_without_a_multilingual_embedder_the_check_stays_within_one_language(embedder):
    """MiniLM alone cannot read Japanese: a faithful Japanese sentence over an English source is not confirmed."""
    hit = SearchHit(Chunk("doc", 0, ENGLISH, "/docs/policy.md", "Policy"), 1.0, 0.5, None)
    [claim] = ClaimChecker(embedder).check(CASES[0][0], [hit])
    assert not claim.supported


@pytest.mark.slow
def test_the_quote_from_a_passage_in_another_language_is_the_sentence_that_answers(ingested_samples, embedder):
    """The quotes shown beneath an answer are chosen by the same reading. For a Japanese question over the English
    leave policy, MiniLM alone puts the sabbatical sentence first (its vectors of Japanese are noise); read by the
    multilingual `across`, the sentence on parental leave."""
    from llm.evidence import best_evidence
    from retrieval import AccessScope

    everyone = AccessScope(("everyone",))
    hits = [  # two passages of the leave policy, as a search across languages finds them
        ingested_samples.retriever.search(passage, everyone, k=1)[0]
        for passage in ("a 4-week paid sabbatical", "16 weeks of fully paid parental leave")
    ]
    question = "育児休業は何週間取れますか"
    assert "16 weeks" not in best_evidence(question, hits, embedder)[0].quote
    assert "16 weeks" in best_evidence(question, hits, embedder, across=E5Embedder())[0].quote
