"""The embedder has two backends over one local model: torch, and the same model quantised to int8 on ONNX
Runtime (KURA_EMBED_BACKEND=onnx-int8). The int8 one must agree with torch closely enough to rank the same
passages, build its graph once, and never mix its vectors with torch's in the index."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval import ConfigError
from retrieval.embed import DenseEmbedder

PASSAGES = [
    "Every parent receives 16 weeks of fully paid parental leave.",
    "Laptops must use full-disk encryption and a screen lock after five minutes.",
    "Meals while travelling are covered up to 6,000 yen per day.",
    "Kumo Sync stops at 'preparing index' when the local index database is damaged.",
]


@pytest.fixture(scope="module")
def int8(tmp_path_factory):
    return DenseEmbedder(backend="onnx-int8", cache_dir=tmp_path_factory.mktemp("models"))


def test_int8_vectors_agree_with_torch_and_rank_the_same_passages(int8, embedder):
    quantised, reference = int8.embed(PASSAGES), embedder.embed(PASSAGES)
    assert quantised.shape == reference.shape == (4, 384)
    assert np.allclose(np.linalg.norm(quantised, axis=1), 1.0, atol=1e-5)
    assert (quantised * reference).sum(axis=1).min() > 0.97
    for question, expected in [
        ("how long is parental leave", 0),
        ("daily meal allowance on trips", 2),
        ("sync hangs preparing index", 3),
    ]:
        assert int(np.argmax(int8.embed([question])[0] @ quantised.T)) == expected


def test_the_int8_graph_is_built_once_and_reused(int8):
    int8.embed(PASSAGES[:1])
    graph = int8.cache_dir / f"{int8.fingerprint}+int8" / "model-int8.onnx"
    built = graph.stat().st_mtime_ns
    again = DenseEmbedder(backend="onnx-int8", cache_dir=int8.cache_dir)
    assert np.allclose(again.embed(PASSAGES), int8.embed(PASSAGES), atol=1e-6)
    assert graph.stat().st_mtime_ns == built
    assert sorted(p.name for p in graph.parent.iterdir()) == ["layout.json", "model-int8.onnx"]


def test_once_its_graph_exists_the_int8_embedder_runs_without_torch(int8, tmp_path):
    """The graph is the only thing int8 needs from torch: a later process tokenises, counts and embeds from the
    model folder's tokenizer.json and the saved layout alone, so it neither imports torch nor loads the model."""
    import subprocess
    import sys

    expected = int8.embed_one("how long is parental leave")  # the graph exists from here on
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "import numpy as np\n"
        "from retrieval.embed import DenseEmbedder\n"
        f"embedder = DenseEmbedder(backend='onnx-int8', cache_dir=Path({str(int8.cache_dir)!r}))\n"
        f"np.save({str(tmp_path / 'vector.npy')!r}, embedder.embed_one('how long is parental leave'))\n"
        "print(embedder.tokenize('Parental leave'), embedder.count_tokens('Parental leave'), 'torch' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['parental', 'leave'] 2 False"
    assert np.allclose(np.load(tmp_path / "vector.npy"), expected, atol=1e-6)


def test_int8_and_torch_vectors_never_share_a_text_key(int8, embedder):
    """Embedding reuse looks vectors up by text key: switching backends must not pick up the other's vectors."""
    assert int8.model_id == "model+onnx-int8" and embedder.model_id == "model"
    assert int8.text_key(PASSAGES[0]) != embedder.text_key(PASSAGES[0])


def test_a_model_the_int8_path_cannot_pool_is_refused_with_the_fix(tmp_path, tiny_embedder):
    from sentence_transformers import SentenceTransformer, models

    cls_pooled = tmp_path / "cls-pooled"
    transformer = models.Transformer(str(tiny_embedder.parent / "bert"), max_seq_length=64)
    SentenceTransformer(modules=[transformer, models.Pooling(32, "cls")]).save(str(cls_pooled))
    with pytest.raises(ConfigError, match="KURA_EMBED_BACKEND=torch"):
        DenseEmbedder(cls_pooled, backend="onnx-int8", cache_dir=tmp_path / "models").embed(["text"])
    assert DenseEmbedder(tiny_embedder, backend="onnx-int8", cache_dir=tmp_path / "models").embed(["text"]).shape == (
        1,
        32,
    )


def test_a_query_gets_torchs_vector_from_the_fp32_graph_and_a_search_process_never_loads_torch(embedder, tmp_path):
    """The first search of a fresh process took ~7 s, almost all of it importing torch. Queries now go through
    torch's model exported once as an fp32 graph: the same vectors, and a process that searches never imports it."""
    import subprocess
    import sys

    from retrieval import DenseEmbedder

    queries = DenseEmbedder(cache_dir=tmp_path / "models")
    queries.__dict__["model"] = embedder.model  # as after an ingest in the same process
    queries.prepare_queries()
    question = "How many weeks of parental leave do parents get?"
    assert float(queries.embed_one(question) @ embedder.embed([question])[0]) > 0.9999
    probe = (
        f"import sys; from retrieval import DenseEmbedder; e = DenseEmbedder(cache_dir=__import__('pathlib').Path({str(tmp_path / 'models')!r})); "
        "v = e.embed_one('parental leave'); assert v.shape == (384,); "
        "assert 'torch' not in sys.modules and 'sentence_transformers' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", probe], check=True, timeout=120)
