"""Which BM25 tokenisation finds Japanese passages: Qdrant's tokenizers against MeCab (fugashi + unidic-lite).

    .venv/bin/python -m bench.japanese [--dataset bench/data/ja-handbook]

Each variant indexes the dataset's passages (title + text) as BM25 sparse vectors in a throwaway Qdrant Edge
store and runs every query; nDCG@10, MRR@10 and Recall@1 come from ranx. Dense (MiniLM) and kura's
hybrid are shown for reference: MiniLM was trained on English and knows little Japanese."""

from __future__ import annotations

import argparse
import tempfile
import unicodedata
from pathlib import Path

import qdrant_edge as q

import app  # noqa: F401  (offline mode)
from retrieval import AccessScope, Chunk, DenseEmbedder, IndexedChunk, SparseEncoder
from retrieval.embed import MecabBm25, QdrantBm25
from retrieval.evaluate import BeirDataset, score
from retrieval.store.edge import EdgeStore

MULTILINGUAL = q.TokenizerType.Multilingual
DEFAULT = Path(__file__).resolve().parent / "data" / "ja-handbook"
SCOPE = AccessScope(("eval",))


class MecabSurfaces(MecabBm25):
    """MeCab's segmentation alone: words as written, nothing dropped."""

    def words(self, text: str) -> list[str]:
        import fugashi

        return [word.surface for word in fugashi.Tagger()(unicodedata.normalize("NFKC", text))]


def evaluate(dataset: BeirDataset, embedder: DenseEmbedder, sparse, mode: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        store = EdgeStore(Path(folder), embedder.dim)
        texts = {doc_id: f"{title}\n{text}" for doc_id, (title, text) in dataset.corpus.items()}
        vectors = embedder.embed(list(texts.values()))
        for (doc_id, text), dense in zip(texts.items(), vectors):
            chunk = Chunk(doc_id, 0, text, doc_id, dataset.corpus[doc_id][0], groups=("eval",))
            store.replace_document(doc_id, [IndexedChunk(chunk, dense, sparse.document(text))])
        run = {}
        for qid, text in dataset.queries.items():
            hits = store.search(
                dense=embedder.embed_one(text), sparse=sparse.query(text), mode=mode, scope=SCOPE, limit=10
            )
            run[qid] = {hit.chunk.doc_id: float(10 - rank) for rank, hit in enumerate(hits)}
        store.close()
    metrics = score(dataset, run)
    recall_at_1 = sum(1 for qid, ranked in run.items() if ranked and next(iter(ranked)) in dataset.qrels[qid])
    return {"ndcg@10": metrics["ndcg@10"], "mrr@10": metrics["mrr@10"], "recall@1": recall_at_1 / len(run)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", type=Path, default=DEFAULT)
    args = parser.parse_args()
    dataset = BeirDataset.load(args.dataset)
    embedder = DenseEmbedder()
    variants = [
        ("BM25, Qdrant Word tokenizer (English default)", QdrantBm25(), "sparse"),
        ("BM25, Qdrant Multilingual tokenizer", QdrantBm25(q.Bm25Config(tokenizer=MULTILINGUAL)), "sparse"),
        (
            "BM25, Qdrant Multilingual tokenizer, Japanese stopwords",
            QdrantBm25(q.Bm25Config(tokenizer=MULTILINGUAL, language="japanese")),
            "sparse",
        ),
        ("BM25, MeCab (fugashi + unidic-lite) surface forms", MecabSurfaces(), "sparse"),
        ("BM25, MeCab dictionary forms, particles dropped (kura)", MecabBm25(), "sparse"),
        ("dense, all-MiniLM-L6-v2 (reference)", SparseEncoder(), "dense"),
        ("rrf, kura's SparseEncoder + MiniLM", SparseEncoder(), "rrf"),
    ]
    print(f"{len(dataset.queries)} Japanese queries over {len(dataset.corpus)} passages ({args.dataset.name})\n")
    print("| variant | nDCG@10 | MRR@10 | Recall@1 |")
    print("| --- | ---: | ---: | ---: |")
    for name, sparse, mode in variants:
        result = evaluate(dataset, embedder, sparse, mode)
        print(f"| {name} | {result['ndcg@10']:.4f} | {result['mrr@10']:.4f} | {result['recall@1']:.3f} |")


if __name__ == "__main__":
    main()
