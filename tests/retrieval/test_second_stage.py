"""The second stage from a stronger embedding model (KURA_SECOND_STAGE_MODEL; `make gemma` assembles
EmbeddingGemma-300m). Its passage vectors are made ahead, in the background, and kept beside the index; a
question's candidates are then re-ordered by its cosine, and until a passage has its vector it keeps its place.

The quick tests use MiniLM's own folder as the "strong" model: a real sentence-transformers model, small enough
for the quick suite; what they test is what kura does with the vectors. EmbeddingGemma itself runs in the slow
test at the end, and its benefit is measured in bench/second_stage.py (docs/benchmarks.md)."""

from __future__ import annotations

import shutil
import time

import pytest

from app.service import Caller, Kura
from app.settings import REPO_ROOT
from retrieval import AccessScope, ConfigError
from retrieval.embed import default_model_path
from retrieval.second_stage import MEASURED_BARS, Bars
from retrieval.types import embedding_text
from tests.conftest import SAMPLES

ADMIN = Caller("admin", ("everyone",), admin=True)
EVERYONE = AccessScope(("everyone",))
QUESTION = "How many weeks of parental leave do parents get?"
GEMMA = REPO_ROOT / "models" / "embeddinggemma-300m"


@pytest.fixture
def library(tmp_path):
    folder = tmp_path / "library"
    shutil.copytree(SAMPLES, folder)
    return folder


@pytest.fixture
def strong(settings, embedder, library, monkeypatch):
    # as if abstention bars had been measured for it, as they are for EmbeddingGemma: similarity is its cosine
    monkeypatch.setitem(MEASURED_BARS, default_model_path().name, Bars(abstain_below=0.35, context_below=0.3))
    settings.second_stage_model = default_model_path()
    settings.rerank_candidates = 12
    kura = Kura(settings)
    kura.__dict__["embedder"] = embedder
    kura.ingest(ADMIN, [library], groups=("everyone",))
    yield kura
    kura.close()


def first_stage(kura: Kura, question: str, k: int):
    return kura._retriever_over(kura.store, None).search(question, EVERYONE, k=k)


@pytest.mark.slow  # an ingest and an upgrade each: the quick loop keeps the settings test
def test_until_the_upgrade_has_run_search_keeps_the_first_stages_order(strong):
    assert strong.retriever.search(QUESTION, EVERYONE, k=5) == first_stage(strong, QUESTION, 5)
    detail = strong.status()["health"]["second_stage"]["detail"]
    assert f"vectors for 0 of {strong.store.count()} passages" in detail and "kura upgrade" in detail


@pytest.mark.slow  # an ingest and an upgrade each: the quick loop keeps the settings test
def test_after_the_upgrade_the_candidates_are_ordered_by_the_strong_models_cosine(strong):
    made, done, total = strong.upgrade_index(ADMIN)
    assert made == done == total == strong.store.count()
    assert strong.upgrade_index(ADMIN)[0] == 0, "a second pass makes nothing anew"

    hits = strong.retriever.search(QUESTION, EVERYONE, k=5)
    candidates = first_stage(strong, QUESTION, 12)
    model = strong.strong_embedder
    cosines = model.embed_documents([embedding_text(h.chunk) for h in candidates]) @ model.embed_query(QUESTION)
    assert [h.score for h in hits] == pytest.approx(sorted(cosines, reverse=True)[:5], abs=1e-4)
    assert all(h.similarity == h.score for h in hits), "abstention measures the strong model's cosine too"
    assert "every passage" in strong.status()["health"]["second_stage"]["detail"]
    assert strong.retriever.search(QUESTION, AccessScope(("board",)), k=5) == [], "still only the caller's passages"
    assert [e["action"] for e in strong.audit.read(5)][0] == "upgrade"


@pytest.mark.slow  # an ingest and an upgrade each: the quick loop keeps the settings test
def test_the_strong_models_own_search_never_shows_what_the_caller_may_no_longer_read(strong):
    """The strong model searches its own vectors too (that is how a Japanese question finds English passages),
    narrowed by a copy of each passage's readers; the index decides, so a stale copy shows nothing."""
    strong.upgrade_index(ADMIN)
    leave = next(c for c in strong.store.every_chunk(limit=1000)[0] if "16 weeks" in c.text)
    strong.store.set_groups(leave.doc_id, ["board"])  # the upgrade has not run since: its copy says "everyone"
    question = "Parental leave: how many weeks, fully paid?"
    assert leave.chunk_id in strong.strong_vectors.nearest_ids(
        strong.strong_embedder.embed_query(question), EVERYONE, 30
    ), "the copy proposes it"
    assert all(h.chunk.doc_id != leave.doc_id for h in strong.retriever.search(question, EVERYONE, k=30))
    assert strong.upgrade_index(ADMIN)[0] == 0, "the next pass updates the copy without embedding anything"
    assert strong.strong_vectors.kept_vectors([leave.chunk_id])[leave.chunk_id][1]["groups"] == ["board"]
    board = strong.retriever.search(question, AccessScope(("board",)), k=3)
    assert board and {h.chunk.doc_id for h in board} == {leave.doc_id}


@pytest.mark.slow  # an ingest and an upgrade each: the quick loop keeps the settings test
def test_a_changed_passage_is_never_reordered_by_its_old_vector_and_a_deleted_ones_vector_is_forgotten(strong, library):
    strong.upgrade_index(ADMIN)
    policy = next(library.rglob("*leave*"))
    policy.write_text(policy.read_text() + "\n\nAdoptive parents get the same sixteen weeks.\n")
    strong.ingest(ADMIN, [library], groups=("everyone",))
    changed = [
        c for c in strong.store.every_chunk(limit=1000)[0]
        if strong.strong_vectors.kept_vectors([c.chunk_id]).get(c.chunk_id, (None, {}))[1].get("text_key")
        != strong.strong_embedder.key(embedding_text(c))
    ]  # fmt: skip
    assert changed, "the edit changed at least one passage"
    # a stale vector is not used: the changed passage keeps the first stage's score
    hits = strong.retriever.search("adoptive parents", EVERYONE, k=12)
    first = {h.chunk.chunk_id: h.score for h in first_stage(strong, "adoptive parents", 12)}
    stale = [h for h in hits if h.chunk.chunk_id in {c.chunk_id for c in changed}]
    assert stale and all(h.score == pytest.approx(first[h.chunk.chunk_id]) for h in stale)

    assert strong.upgrade_index(ADMIN)[0] == len(changed), "only the changed passages are embedded again"
    policy.unlink()
    strong.ingest(ADMIN, [library], groups=("everyone",))
    strong.upgrade_index(ADMIN)
    assert strong.strong_vectors.count() == strong.store.count(), "the deleted document's vectors are gone"


@pytest.mark.slow  # an ingest and an upgrade each: the quick loop keeps the settings test
def test_the_app_makes_the_vectors_in_the_background_after_each_ingest(strong, library):
    strong.upgrade.start()
    (library / "policies" / "gym.md").write_text("# Gym\n\nThe company pays 50 euros a month towards a gym.\n")
    strong.ingest(ADMIN, [library], groups=("everyone",))  # wakes the upgrade
    for _ in range(600):
        done, total = strong.upgrade.progress()
        if done == total == strong.store.count():
            break
        time.sleep(0.1)
    assert strong.upgrade.progress() == (strong.store.count(), strong.store.count())
    hits = strong.retriever.search("Does the company pay for the gym?", EVERYONE, k=3)
    assert hits[0].chunk.source.endswith("gym.md")


def test_one_second_stage_at_a_time_and_a_missing_model_says_how_to_get_it(settings, tmp_path):
    assert settings.model_validate({"second_stage_model": "off"}).second_stage_model is None, "`make run` default"
    settings.second_stage_model = tmp_path / "nowhere"
    with pytest.raises(ConfigError, match="make gemma"):
        Kura(settings).strong_embedder  # noqa: B018
    settings.reranker_model = tmp_path / "cross-encoder"
    with pytest.raises(ConfigError, match="both set"):
        Kura(settings).retriever  # noqa: B018
    plain = Kura(settings.model_copy(update={"reranker_model": None, "second_stage_model": None}))
    with pytest.raises(ConfigError, match="KURA_SECOND_STAGE_MODEL"):
        plain.upgrade_index(ADMIN)
    plain.close()


@pytest.mark.slow
@pytest.mark.skipif(not GEMMA.is_dir(), reason="EmbeddingGemma-300m is assembled by `make setup` (`make gemma`)")
def test_embeddinggemma_answers_across_languages_and_still_abstains(settings, embedder, library):
    """What `make run` does: the default MiniLM search, EmbeddingGemma as the second stage. A Japanese question is
    answered from the English policy, quoting the sentence that answers it; a question the documents do not
    answer is still refused, in either language."""
    settings.second_stage_model = GEMMA
    kura = Kura(settings)
    kura.__dict__["embedder"] = embedder
    try:
        kura.ingest(ADMIN, [library], groups=("everyone",))
        assert kura.upgrade_index(ADMIN)[1:] == (kura.store.count(), kura.store.count())
        assert kura.strong_embedder.dim == 768
        for question in (QUESTION, "育児休業は何週間取れますか"):
            answer = kura.ask(ADMIN, question, keep=False).response.result()
            assert not answer.abstained and "16 weeks" in answer.answer, (question, answer.answer)
        for question in ("Does the company pay for a gym membership?", "ジムの会費は補助されますか"):
            assert kura.ask(ADMIN, question, keep=False).response.result().abstained, question
    finally:
        kura.close()
