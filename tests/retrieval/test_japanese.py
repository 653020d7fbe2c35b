"""Japanese documents are searchable by keyword: their BM25 terms come from Qdrant's Multilingual tokenizer
(Japanese has no spaces between words), chosen per chunk, while English keeps stemming."""

from __future__ import annotations

import qdrant_edge

from retrieval import AccessScope, SparseEncoder
from retrieval.embed import is_cjk

LEAVE_JA = """# 休暇規程

## 年次有給休暇

正社員には年間25日の年次有給休暇が付与されます。使い残した有給休暇は5日まで翌年に繰り越すことができます。

## 育児休業

すべての親は、性別にかかわらず、16週間の有給の育児休業を取得できます。
"""


def test_language_detection():
    assert is_cjk("有給休暇は何日ですか") and is_cjk("Kumo Syncの同期が止まりました。どうすればいいですか")
    assert not is_cjk("How many days of paid time off?") and not is_cjk("")


def test_japanese_is_tokenised_into_words_not_one_token_per_sentence():
    sentence = "正社員には年間25日の年次有給休暇が付与されます。"
    assert len(qdrant_edge.Bm25().embed_document(sentence).indices) == 1, "the English tokenizer sees one token"
    assert len(SparseEncoder().document(sentence).indices) >= 5


def test_english_terms_keep_their_stemming():
    sparse = SparseEncoder()
    assert set(sparse.query("refunded").indices) == set(sparse.document("Refunds are possible").indices) & set(
        sparse.query("refunded").indices)


def test_a_japanese_question_finds_the_japanese_passage_by_keyword(kura, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "kyuka.md").write_text(LEAVE_JA, encoding="utf-8")
    (folder / "leave.md").write_text("# Leave\n\nFull-time employees receive 25 days of paid time off per year.\n")
    report = kura.ingestor.ingest([folder], groups=("everyone",))
    assert report.added == 2 and not report.failed
    scope = AccessScope(("everyone",))
    for question, expected in (("有給休暇は何日ですか", "年間25日"), ("育児休業は何週間", "16週間")):
        hits = kura.retriever.search(question, scope, k=3, mode="sparse")
        assert hits and expected in hits[0].chunk.text, [h.chunk.text[:40] for h in hits]
        assert expected in kura.retriever.search(question, scope, k=3, mode="hybrid")[0].chunk.text
    assert "25 days" in kura.retriever.search("paid time off days", scope, k=1, mode="sparse")[0].chunk.text


def test_a_japanese_question_gets_a_japanese_quote(kura, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "kyuka.md").write_text(LEAVE_JA, encoding="utf-8")
    kura.ingestor.ingest([folder], groups=("everyone",))
    answer = kura.answerer("extractive").ask("育児休業は何週間取れますか", AccessScope(("everyone",)))
    assert not answer.abstained
    assert "16週間" in answer.citations[0].quote and answer.citations[0].heading == "休暇規程 > 育児休業"
