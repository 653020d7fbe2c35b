"""The second stage, measured: kura's first-stage candidates (hybrid, as the app searches) re-ordered by
EmbeddingGemma-300m's cosine to the question, on every set #20 names, for several ways of combining the two.

EmbeddingGemma's passage vectors are cached by text (`--cache`), as the shipped stage keeps them in the store: a
re-run only embeds what is new, and the seconds it takes to embed a question are measured apart.

    make gemma     # assembles models/embeddinggemma-300m, checked against its pinned SHA-256
    .venv/bin/python -m bench.second_stage [--home /tmp/evalhome-minilm] [--embedder minilm] [--sets msmarco ...]

The first stage's stores are `kura eval retrieval`'s cached throwaway stores under --home."""

from __future__ import annotations

import argparse
import hashlib
import time
from pathlib import Path

import numpy as np

import app  # noqa: F401  (offline mode)
from app.service import Kura
from app.settings import Settings
from retrieval import AccessScope
from retrieval.evaluate import EVAL_GROUP, BeirDataset, score
from retrieval.types import SearchHit, embedding_text

HERE = Path(__file__).resolve().parent
DATASETS = HERE.parents[1] / "shared" / "datasets"
SETS = {
    "msmarco": (DATASETS / "msmarco", None),
    "business-reports": (DATASETS / "business-reports", HERE / "data" / "business-reports-qrels" / "test.tsv"),
    "dbpedia": (DATASETS / "dbpedia", None),  # held out: reported, never tuned on
    "ja-handbook": (HERE / "data" / "ja-handbook", None),
    "cross-lingual/ja-en": (HERE / "data" / "cross-lingual" / "ja-en", None),
    "cross-lingual/en-ja": (HERE / "data" / "cross-lingual" / "en-ja", None),
    "cross-lingual/mixed": (HERE / "data" / "cross-lingual" / "mixed", None),
}
DEPTHS = (20, 30, 50)


class Cache:
    """EmbeddingGemma passage vectors by text, kept between runs."""

    def __init__(self, model, folder: Path) -> None:
        self.model, self.folder = model, folder
        folder.mkdir(parents=True, exist_ok=True)

    def vectors(self, texts: list[str]) -> list[np.ndarray]:
        keys = [hashlib.sha256(t.encode()).hexdigest()[:24] for t in texts]
        missing = {k: t for k, t in zip(keys, texts) if not (self.folder / f"{k}.npy").exists()}
        if missing:
            made = self.model.encode_document(list(missing.values()), batch_size=8, normalize_embeddings=True)
            for key, vector in zip(missing, made):
                np.save(self.folder / f"{key}.npy", vector)
        return [np.load(self.folder / f"{k}.npy") for k in keys]


def documents(hits: list[SearchHit], order: list[int]) -> dict[str, float]:
    """A run row: each document at its best chunk's place in `order`."""
    ranked = list(dict.fromkeys(hits[i].chunk.doc_id for i in order))
    return {doc_id: float(len(ranked) - rank) for rank, doc_id in enumerate(ranked)}


def combinations(first: list[SearchHit], strong: np.ndarray, depth: int) -> dict[str, list[int]]:
    """Orders of the first `depth` hits (the rest keep theirs) by each way of combining first and second stage."""
    n = min(depth, len(first))
    head, tail = list(range(n)), list(range(n, len(first)))
    by_strong = sorted(head, key=lambda i: -strong[i])
    strong_rank = {i: r for r, i in enumerate(by_strong)}
    orders = {"gemma": by_strong + tail}
    for k in (10, 60):
        rrf = sorted(head, key=lambda i: -(1 / (k + i) + 1 / (k + strong_rank[i])))
        orders[f"rrf k={k}"] = rrf + tail
    for weight in (0.5, 0.7):
        first_z = np.array([first[i].score for i in head])
        first_z = (first_z - first_z.mean()) / (first_z.std() or 1)
        strong_z = strong[:n]
        strong_z = (strong_z - strong_z.mean()) / (strong_z.std() or 1)
        mixed = weight * strong_z + (1 - weight) * first_z
        orders[f"z-mix {weight}"] = sorted(head, key=lambda i: -mixed[i]) + tail
    return orders


def main() -> None:
    from sentence_transformers import SentenceTransformer

    parser = argparse.ArgumentParser()
    parser.add_argument("--model", type=Path, default=HERE.parent / "models" / "embeddinggemma-300m")
    parser.add_argument("--home", type=Path, default=Path("/tmp/evalhome-minilm"))
    parser.add_argument("--embedder", default="minilm")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/kura-gemma-cache"))
    parser.add_argument("--sets", nargs="+", default=list(SETS))
    args = parser.parse_args()
    model = SentenceTransformer(str(args.model), device="cpu", local_files_only=True)
    cache = Cache(model, args.cache)
    kura = Kura(Settings(home=args.home, embedder=args.embedder, _env_file=None))
    scope = AccessScope((EVAL_GROUP,))
    print("| set | first stage | depth | combination | nDCG@10 | Δ |\n| --- | --- | ---: | --- | ---: | ---: |")
    for name in args.sets:
        folder, judgements = SETS[name]
        dataset = BeirDataset.load(folder, judgements)
        retriever = kura.eval_retriever(dataset)
        baseline, runs, seconds, embedding = {}, {}, [], 0.0
        for query_id, question in dataset.queries.items():
            hits = retriever.search(question, scope, k=max(DEPTHS))
            baseline[query_id] = documents(hits, list(range(len(hits))))
            started = time.perf_counter()
            query = model.encode_query([question], normalize_embeddings=True)[0]
            seconds.append(time.perf_counter() - started)
            started = time.perf_counter()
            strong = np.array([v @ query for v in cache.vectors([embedding_text(h.chunk) for h in hits])])
            embedding += time.perf_counter() - started
            for depth in DEPTHS:
                for label, order in combinations(hits, strong, depth).items():
                    runs.setdefault((depth, label), {})[query_id] = documents(hits, order)
        base = score(dataset, baseline)["ndcg@10"]
        print(f"| {name} | {args.embedder} hybrid | – | – | {base:.4f} | |")
        for (depth, label), run in runs.items():
            value = score(dataset, run)["ndcg@10"]
            print(f"| {name} | {args.embedder} hybrid | {depth} | {label} | {value:.4f} | {value - base:+.4f} |")
        print(
            f"<!-- {name}: {np.median(seconds) * 1000:.0f} ms median to embed a question; "
            f"{embedding:.0f} s embedding passages not cached yet -->",
            flush=True,
        )
    kura.close()


if __name__ == "__main__":
    main()
