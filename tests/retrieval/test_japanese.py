"""Japanese documents are searchable by keyword: their BM25 terms are MeCab's words in dictionary form
(Japanese has no spaces between words), chosen per chunk, while English keeps stemming. With the default
English-only embedder, Japanese questions search by keyword alone."""

from __future__ import annotations

import qdrant_edge

from retrieval import AccessScope, SparseEncoder
from retrieval.embed import MecabBm25
from retrieval.languages import is_cjk

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
    assert MecabBm25().words(sentence) == ["正", "社員", "年間", "25", "日", "年次", "有給", "休暇", "付与", "為る"]
    assert len(SparseEncoder().document(sentence).indices) >= 5


def test_inflected_forms_meet_on_their_dictionary_form():
    """申請した (past), 申請します (polite) and 申請する share one term; particles and punctuation are dropped."""
    sparse = SparseEncoder()
    document, question = sparse.document("経費は翌月10日までに申請します。"), sparse.query("経費を申請した")
    assert set(question.indices) <= set(document.indices) and len(question.indices) == 3


def test_english_terms_keep_their_stemming():
    sparse = SparseEncoder()
    assert set(sparse.query("refunded").indices) == set(sparse.document("Refunds are possible").indices) & set(
        sparse.query("refunded").indices
    )


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


def test_japanese_questions_search_by_keyword_unless_the_embedder_knows_japanese(kura):
    from retrieval import Retriever

    modes = []
    store = kura.store

    class Recording:
        def search(self, **request):
            modes.append(request["mode"])
            return store.search(**request)

        def candidates(self, **request):
            modes.append("candidates")
            return store.candidates(**request)

    scope = AccessScope(("everyone",))
    for multilingual in (False, True):
        retriever = Retriever(Recording(), kura.embedder, kura.sparse, multilingual_embedder=multilingual)
        retriever.search("有給休暇は何日ですか", scope)
        retriever.search("How many days of paid leave?", scope)
    # keyword search alone for Japanese with the English embedder; otherwise hybrid, which starts with candidates
    assert modes == ["sparse", "candidates", "candidates", "candidates"]


def test_a_japanese_question_gets_a_japanese_quote(kura, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "kyuka.md").write_text(LEAVE_JA, encoding="utf-8")
    kura.ingestor.ingest([folder], groups=("everyone",))
    answer = kura.answerer("extractive").ask("育児休業は何週間取れますか", AccessScope(("everyone",)))
    assert not answer.abstained
    assert "16週間" in answer.citations[0].quote and answer.citations[0].heading == "休暇規程 > 育児休業"


def test_the_japanese_handbook_set_is_found_by_the_default_search(kura):
    """bench/data/ja-handbook: 44 questions in everyday words over 56 passages of company rules and a product FAQ."""
    from pathlib import Path

    from retrieval.evaluate import BeirDataset, evaluate_retrieval

    dataset = BeirDataset.load(Path(__file__).parents[2] / "bench" / "data" / "ja-handbook")
    report, _ = evaluate_retrieval(kura.eval_retriever(dataset), dataset, kura.settings.search_mode)
    assert report.queries == 44
    assert report.metrics["ndcg@10"] >= 0.9, report.metrics  # measured 0.926 (Qdrant's Multilingual: 0.867)
