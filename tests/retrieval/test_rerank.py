"""The reranking stage (KURA_RERANKER_MODEL): a cross-encoder reorders the filtered candidates.

No reranker model installs from PyPI, so the test builds a tiny cross-encoder (random weights, MiniLM's
vocabulary) and saves it locally: what is tested is the stage, not a model's quality. The benefit of a real
reranker is measured with `kura eval retrieval` where one is available (docs/benchmarks.md)."""

from __future__ import annotations

import pytest

from app.service import Kura
from retrieval import AccessScope, ConfigError
from retrieval.embed import default_model_path
from retrieval.rerank import Reranker
from tests.conftest import SAMPLES


@pytest.fixture(scope="module")
def tiny_cross_encoder(tmp_path_factory):
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    folder = tmp_path_factory.mktemp("cross-encoder")
    tokenizer = AutoTokenizer.from_pretrained(str(default_model_path()))
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        num_labels=1,
    )
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_the_reranker_orders_the_filtered_candidates_by_its_own_scores(settings, embedder, tiny_cross_encoder):
    settings.reranker_model = tiny_cross_encoder
    settings.rerank_candidates = 12
    kura = Kura(settings)
    kura.__dict__["embedder"] = embedder
    try:
        kura.ingestor.ingest([SAMPLES], groups=("everyone",))
        question = "How many weeks of parental leave do parents get?"
        hits = kura.retriever.search(question, AccessScope(("everyone",)), k=5)
        assert len(hits) == 5
        candidates = kura.store.search(
            dense=embedder.embed_one(question),
            sparse=kura.sparse.query(question),
            mode="rrf",
            scope=AccessScope(("everyone",)),
            limit=12,
        )
        expected = kura.retriever.reranker.model.predict([(question, h.chunk.text) for h in candidates])
        assert [h.score for h in hits] == pytest.approx(sorted(map(float, expected), reverse=True)[:5], abs=1e-5)
        assert kura.retriever.search(question, AccessScope(("board",)), k=5) == [], "still filtered by groups"
    finally:
        kura.close()


def test_a_missing_reranker_folder_says_what_to_set(tmp_path):
    with pytest.raises(ConfigError, match="KURA_RERANKER_MODEL"):
        Reranker(tmp_path / "nowhere")
