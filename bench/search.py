"""Search latency of the two store engines on the same data, measured in one run.

    .venv/bin/python -m bench.search [--docs 5000] [--queries 50]

Corpus: ../shared/datasets/msmarco (real passages, real queries) embedded with the default MiniLM.
Engines: Qdrant Edge (embedded default) and qdrant-client's local mode (the pure-Python stand-in for a
Qdrant server, with the same client API). Prints upsert time and hybrid+group-filter query p50/p95."""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from qdrant_client import QdrantClient

import app  # noqa: F401  (offline mode)
from bench.retrieval import latencies, store_search
from retrieval import AccessScope, Chunk, DenseEmbedder, IndexedChunk, SparseEncoder
from retrieval.store.edge import EdgeStore
from retrieval.store.server import ServerStore

DATASET = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "msmarco"


def load(limit: int) -> tuple[list[dict], list[str]]:
    with (DATASET / "corpus.jsonl").open() as handle:
        corpus = [json.loads(line) for _, line in zip(range(limit), handle)]
    with (DATASET / "queries.jsonl").open() as handle:
        queries = [json.loads(line)["text"] for line in handle]
    return corpus, queries


def measure(store, indexed: list[IndexedChunk], queries: list[tuple], rounds: int) -> dict:
    started = time.perf_counter()
    for start in range(0, len(indexed), 256):
        batch = indexed[start : start + 256]
        store.replace_document(batch[0].chunk.doc_id, batch)
    upsert_s = time.perf_counter() - started
    timing = latencies(store_search(store, AccessScope(("everyone",))), queries, rounds)
    return {"upsert_s": upsert_s, "p50_ms": timing["p50"], "p95_ms": timing["p95"]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=5000)
    parser.add_argument("--queries", type=int, default=50)
    args = parser.parse_args()
    corpus, query_texts = load(args.docs)
    embedder, sparse = DenseEmbedder(), SparseEncoder()
    texts = [f"{d.get('title', '')}\n{d['text']}" for d in corpus]
    vectors = embedder.embed(texts)
    # 256 passages per "document" so replace_document batches the upserts; every 2nd document is "hr" only.
    indexed = []
    for i, (text, vector) in enumerate(zip(texts, vectors)):
        doc = i // 256
        groups = ("hr",) if doc % 2 else ("everyone", "hr")
        chunk = Chunk(f"doc{doc}", i % 256, text, f"/bench/{doc}.txt", f"doc {doc}", groups=groups)
        indexed.append(IndexedChunk(chunk, vector, sparse.document(text)))
    queries = [(embedder.embed_one(q), sparse.query(q)) for q in query_texts[: args.queries]]
    with tempfile.TemporaryDirectory() as tmp:
        edge = EdgeStore(Path(tmp) / "edge", embedder.dim)
        edge_result = measure(edge, indexed, queries, rounds=5)
        edge.close()
        local = ServerStore(QdrantClient(path=str(Path(tmp) / "local")), "bench", embedder.dim, "local mode")
        local_result = measure(local, indexed, queries, rounds=1)
        local.close()
    print(f"{len(indexed)} passages, {len(queries)} queries, hybrid (dense+BM25, RRF) with a group filter, top 10\n")
    print("| engine | upsert s | query p50 ms | query p95 ms |")
    print("| --- | ---: | ---: | ---: |")
    for name, r in (("Qdrant Edge (embedded default)", edge_result), ("qdrant-client local mode", local_result)):
        print(f"| {name} | {r['upsert_s']:.2f} | {r['p50_ms']:.2f} | {r['p95_ms']:.2f} |")
    print(
        f"\nEdge is {local_result['p50_ms'] / edge_result['p50_ms']:.0f}× faster at p50, "
        f"{local_result['upsert_s'] / edge_result['upsert_s']:.0f}× faster to upsert."
    )


if __name__ == "__main__":
    main()
