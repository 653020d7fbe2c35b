"""Hybrid search latency as the index grows: Qdrant Edge (embedded) against qdrant-client's local mode.

    .venv/bin/python -m bench.retrieval [--sizes 5000 50000 100000 200000] [--local-sizes 5000 50000] [--queries 100]

Chunks are synthetic, grown from real ones so vectors and posting lists look like a real corpus: --seed
msmarco passages are embedded (MiniLM and BM25) once; each synthetic chunk is one of them with Gaussian noise
added to its dense vector (renormalised) and a fifth of its BM25 terms dropped. Each chunk is in 1-2 of 10 access
groups; every query filters to 3 groups (about 40 % of the chunks), like a user's scope. Queries are the real
msmarco questions. (Purely random vectors are the worst case for HNSW and share no terms with real queries.)

For each size: upsert time, search p50/p95 before and after `optimize()` (Qdrant Edge builds its HNSW
index only when asked; until then points are searched by brute force), the optimize time, kura's default hybrid
search beside its baseline (the feedback pass as a second full search), and the full search call with query
embedding on the CPU. qdrant-client's local mode (the pure-Python stand-in for a
server) is measured at --local-sizes only: it scans every point per query."""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import app  # noqa: F401  (offline mode)
from retrieval import AccessScope, Chunk, DenseEmbedder, IndexedChunk, Retriever, SparseEncoder
from retrieval.store.edge import EdgeStore
from retrieval.store.server import ServerStore
from retrieval.types import SparseVector

MSMARCO = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "msmarco"
GROUPS = [f"team-{n}" for n in range(10)]
SCOPE = AccessScope(tuple(GROUPS[:3]))
DIM, BATCH, NOISE = 384, 1_000, 0.05


class Seeds:
    """Real msmarco passages as (dense, sparse) pairs, from which synthetic chunks are grown."""

    def __init__(self, embedder: DenseEmbedder, sparse: SparseEncoder, count: int) -> None:
        with (MSMARCO / "corpus.jsonl").open() as handle:
            texts = [f"{d.get('title') or ''}\n{d['text']}" for _, d in zip(range(count), map(json.loads, handle))]
        self.dense = embedder.embed(texts)
        self.sparse = [sparse.document(text) for text in texts]

    def batch(self, rng: np.random.Generator, start: int, count: int) -> list[IndexedChunk]:
        """`count` chunks stored as one document (replace_document writes a document's chunks at once)."""
        picks = rng.integers(len(self.sparse), size=count)
        dense = self.dense[picks] + NOISE * rng.standard_normal((count, DIM)).astype(np.float32)
        dense /= np.linalg.norm(dense, axis=1, keepdims=True)
        batch = []
        for offset, pick in enumerate(picks):
            n = start + offset
            seed = self.sparse[pick]
            kept = [i for i in range(len(seed.indices)) if rng.random() > 0.2] or [0]
            groups = tuple(sorted({GROUPS[n % 10], GROUPS[rng.integers(10)]}))
            chunk = Chunk(
                doc_id=f"batch-{start}",
                source=f"/corpus/doc-{n // 8}.txt",
                title=f"Document {n // 8}",
                text=f"synthetic passage {n}",
                position=offset,
                groups=groups,
            )
            sparse = SparseVector([seed.indices[i] for i in kept], [seed.values[i] for i in kept])
            batch.append(IndexedChunk(chunk, dense[offset], sparse))
        return batch


def fill(store, seeds: Seeds, rng: np.random.Generator, have: int, want: int) -> float:
    """Grows the store from `have` to `want` chunks in document-sized batches; returns the seconds spent."""
    started = time.perf_counter()
    for start in range(have, want, BATCH):
        store.replace_document(f"batch-{start}", seeds.batch(rng, start, min(BATCH, want - start)))
    return time.perf_counter() - started


def latencies(search, queries: list, rounds: int = 1) -> dict:
    """p50 and p95 in ms of `search(query)` over the queries, `rounds` times."""
    measured = []
    for _ in range(rounds):
        for query in queries:
            started = time.perf_counter()
            search(query)
            measured.append((time.perf_counter() - started) * 1000)
    return {"p50": statistics.median(measured), "p95": statistics.quantiles(measured, n=100)[94]}


def store_search(store, scope: AccessScope = SCOPE):
    """One engine query: dense and BM25 prefetches fused by RRF, with the group filter."""
    return lambda vectors: store.search(dense=vectors[0], sparse=vectors[1], mode="rrf", scope=scope, limit=10)


def searched_again(retriever: Retriever):
    """The baseline for kura's hybrid: feedback from the fused top 3, then a second full (HNSW) dense search,
    as kura did before it re-ranked the candidates it already had."""

    def search(vectors):
        dense, sparse = vectors
        first = retriever.store.search(dense=dense, sparse=sparse, mode="rrf", scope=SCOPE, limit=3)
        moved = retriever.feedback.expand(dense, [hit.vector for hit in first])
        return retriever.store.search(dense=moved, sparse=sparse, mode="dense", scope=SCOPE, limit=10)

    return search


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[5_000, 50_000, 100_000, 200_000])
    parser.add_argument("--local-sizes", type=int, nargs="*", default=[5_000, 50_000])
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--seed", type=int, default=2000, help="real passages the synthetic chunks grow from")
    args = parser.parse_args()
    with (MSMARCO / "queries.jsonl").open() as handle:
        texts = [q["text"] for q in map(json.loads, handle)]
    texts = (texts * (args.queries // len(texts) + 1))[: args.queries]
    embedder, sparse = DenseEmbedder(), SparseEncoder()
    queries = list(zip(embedder.embed(texts), (sparse.query(t) for t in texts)))
    seeds = Seeds(embedder, sparse, args.seed)

    rows = []
    work = Path(tempfile.mkdtemp(prefix="kura-bench-retrieval-"))
    rng = np.random.default_rng(7)
    edge, have = EdgeStore(work / "edge", DIM), 0
    for size in sorted(args.sizes):
        upsert_s = fill(edge, seeds, rng, have, size)
        have = size
        before = latencies(store_search(edge), queries)
        started = time.perf_counter()
        edge.optimize()
        optimize_s = time.perf_counter() - started
        after = latencies(store_search(edge), queries, rounds=3)
        retriever = Retriever(edge, embedder, sparse)  # kura's default: rrf candidates re-ranked with feedback
        two_passes = latencies(lambda vectors: retriever.store_passes(*vectors, SCOPE, 10), queries, rounds=3)  # noqa: B023 (called here)
        again = latencies(searched_again(retriever), queries, rounds=3)
        embedded = latencies(lambda text: retriever.search(text, SCOPE, k=10), texts)  # noqa: B023 (called here)
        fill(edge, seeds, rng, size, size + 100)  # one more 100-chunk document, as after an upload
        started = time.perf_counter()
        edge.optimize()
        small_optimize_s = time.perf_counter() - started
        edge.delete_document(f"batch-{size}")
        rows.append(
            ("Qdrant Edge", size, upsert_s, before, optimize_s, after, two_passes, again, embedded, small_optimize_s)
        )
        print(
            f"edge {size}: upsert {upsert_s:.1f}s, brute force p95 {before['p95']:.2f} ms, optimize {optimize_s:.1f}s, "
            f"indexed p95 {after['p95']:.2f} ms, kura hybrid p95 {two_passes['p95']:.2f} ms "
            f"(searched again: {again['p95']:.2f} ms), "
            f"with embedding p95 {embedded['p95']:.1f} ms, "
            f"optimize after one more document {small_optimize_s:.2f}s",
            flush=True,
        )
    edge.close()

    from qdrant_client import QdrantClient

    for size in sorted(args.local_sizes):
        store = ServerStore(QdrantClient(path=str(work / f"local-{size}")), "bench", DIM, "local mode")
        upsert_s = fill(store, seeds, np.random.default_rng(7), 0, size)
        few = queries[:20]  # each query scans every point in Python
        measured = latencies(store_search(store), few)
        rows.append(("qdrant-client local mode", size, upsert_s, measured, None, None, None, None, None, None))
        print(f"local {size}: upsert {upsert_s:.1f}s, p95 {measured['p95']:.1f} ms", flush=True)
        store.close()
    shutil.rmtree(work, ignore_errors=True)

    print(
        "\n| engine | chunks | upsert s | rrf query p50 / p95 ms, before optimize | optimize (HNSW build) s "
        "| rrf query p50 / p95 ms, optimized | kura hybrid (rrf candidates re-ranked) p50 / p95 ms "
        "| baseline: hybrid searched again p50 / p95 ms "
        "| Retriever.search with query embedding p50 / p95 ms | optimize after +100 chunks s |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for engine, size, upsert_s, before, optimize_s, after, two_passes, again, embedded, small_optimize_s in rows:
        cells = [f"{before['p50']:.2f} / {before['p95']:.2f}"]
        cells += (
            ["–"] * 6
            if optimize_s is None
            else [
                f"{optimize_s:.1f}",
                f"{after['p50']:.2f} / {after['p95']:.2f}",
                f"{two_passes['p50']:.2f} / {two_passes['p95']:.2f}",
                f"{again['p50']:.2f} / {again['p95']:.2f}",
                f"{embedded['p50']:.1f} / {embedded['p95']:.1f}",
                f"{small_optimize_s:.2f}",
            ]
        )
        print(f"| {engine} | {size:,} | {upsert_s:.1f} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
