"""The embedder is a choice (KURA_EMBEDDER). MiniLM knows English only; multilingual-e5-small finds a Japanese
question's answer in English documents and an English question's in Japanese ones. Switching is safe: vectors
of two models are never compared, `kura status` says "re-ingest needed" until an ingest has re-embedded, and the
weights kura loads are the ones it was measured with."""

from __future__ import annotations

import pytest

from app.service import Kura
from app.settings import Settings
from retrieval import AccessScope, ConfigError
from retrieval.e5 import WEIGHTS, E5Embedder
from retrieval.embedders import EMBEDDERS, EmbedderName
from tests.conftest import SAMPLES

JAPANESE = """# 給与規程

## 支払日
給与は毎月25日に支払う。25日が休日の場合は前営業日に支払う。

## 通勤手当
通勤手当は月額3万円を上限として実費を支給する。
"""
EVERYONE = AccessScope(("everyone",))


def e5_settings(home, **overrides) -> Settings:
    return Settings(home=home, embedder=EmbedderName.E5_SMALL, llm_backend="extractive", _env_file=None, **overrides)


@pytest.fixture(scope="module")
def bilingual(tmp_path_factory):
    """The English samples and a Japanese pay policy, embedded by multilingual-e5-small."""
    folder = tmp_path_factory.mktemp("docs")
    (folder / "給与規程.md").write_text(JAPANESE, encoding="utf-8")
    kura = Kura(e5_settings(tmp_path_factory.mktemp("e5") / "home"))
    report = kura.ingestor.ingest([SAMPLES, folder], groups=("everyone",))
    assert not report.failed, report.failed
    yield kura
    kura.close()


def top_section(kura, question):
    return kura.retriever.search(question, EVERYONE, k=3)[0].chunk.heading


@pytest.mark.slow  # indexes the samples with e5 (~15 s)
def test_a_japanese_question_finds_the_english_passage_and_the_reverse(bilingual):
    assert "Parental Leave" in top_section(bilingual, "育児休業は何週間取れますか")
    assert "Sabbatical" in top_section(bilingual, "サバティカル休暇は何週間ですか")
    assert "支払日" in top_section(bilingual, "What day of the month is salary paid?")
    assert "通勤手当" in top_section(bilingual, "Is there a cap on the commuting allowance?")


@pytest.mark.slow  # indexes the samples with e5 (~15 s)
def test_japanese_questions_answer_and_abstain_on_the_e5_bars(bilingual):
    """e5's similarities sit on another scale than MiniLM's, so its own bars apply: a question the documents
    answer is answered (with the passage quoted), one they do not is not, in either language."""
    answerer = bilingual.answerer()
    assert answerer.options.abstain_below == EMBEDDERS[EmbedderName.E5_SMALL].abstain_below
    answered = answerer.ask("育児休業は何週間取れますか", EVERYONE)
    assert not answered.abstained and "16 weeks" in answered.answer
    for question in ("東京タワーの高さは何メートルですか", "What is the boiling point of ethanol?"):
        assert answerer.ask(question, EVERYONE).abstained, question


@pytest.mark.slow  # indexes the samples with e5 (~15 s)
def test_switching_the_embedder_means_re_ingest_never_mixed_vectors(tmp_path):
    """Indexed with MiniLM, then opened with e5: nothing is searched with the wrong model's vectors, status says
    what to do, and the next ingest re-embeds every document (the files did not change)."""
    home = tmp_path / "home"
    with_minilm = Kura(Settings(home=home, llm_backend="extractive", _env_file=None))
    with_minilm.ingestor.ingest([SAMPLES / "policies"], groups=("everyone",))
    chunks = with_minilm.store.count()
    with_minilm.close()

    kura = Kura(e5_settings(home))
    try:
        status = kura.status()
        assert status["health"]["embedder"]["detail"].startswith("multilingual-e5-small")
        assert not status["health"]["vectors"]["ok"]
        assert f"re-ingest needed: {chunks} passages" in status["health"]["vectors"]["detail"]
        assert kura.awaiting_reembedding() == chunks
        assert kura.retriever.search("parental leave", EVERYONE) == []
        waiting = kura.answerer().ask("How long is parental leave?", EVERYONE)
        assert waiting.abstained and waiting.warnings == [
            f"{chunks} passages are not searched yet: the embedding model "
            "changed (KURA_EMBEDDER) and they wait to be re-embedded. Run `kura ingest` on your folders (or Library → "
            "Re-sync), then ask again."
        ]
        report = kura.ingestor.ingest([SAMPLES / "policies"], groups=("everyone",))
        assert report.updated == len(list((SAMPLES / "policies").iterdir())), report
        assert "vectors" not in kura.status()["health"]
        assert "Parental Leave" in top_section(kura, "育児休業は何週間取れますか")
    finally:
        kura.close()


def test_weights_other_than_the_measured_ones_are_refused(tmp_path):
    (tmp_path / WEIGHTS).write_bytes(b"not the model")
    with pytest.raises(ConfigError, match="SHA-256"):
        E5Embedder(tmp_path).embed(["text"])


def test_settings_of_the_sentence_transformers_models_are_refused_with_e5(tmp_path):
    """KURA_EMBED_BACKEND=onnx-int8 or a KURA_EMBED_MODEL folder mean nothing to e5's engine: said, not ignored."""
    with pytest.raises(ConfigError, match="KURA_EMBED_BACKEND"):
        Kura(e5_settings(tmp_path / "home", embed_backend="onnx-int8")).embedder  # noqa: B018
