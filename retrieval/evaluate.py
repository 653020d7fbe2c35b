"""Retrieval quality as numbers: BEIR-format datasets, TREC run files, metrics from ranx.

A dataset folder holds corpus.jsonl ({"_id","title","text"}), queries.jsonl ({"_id","text"}) and
qrels/test.tsv (query-id, corpus-id, score). Queries without a positive judgement are skipped, as in BEIR."""

from __future__ import annotations

import csv
import hashlib
import json
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from retrieval.search import Retriever
from retrieval.types import AccessScope, SearchMode


def metric_names(k: int = 10) -> tuple[str, ...]:
    return (f"ndcg@{k}", f"recall@{k}", "recall@100", f"mrr@{k}")


EVAL_GROUP = "eval"


@dataclass(frozen=True)
class BeirDataset:
    name: str
    corpus: dict[str, tuple[str, str]]  # id → (title, text)
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    fingerprint: str  # content hash: the cache key of an indexed copy

    @classmethod
    def load(cls, folder: Path, judgements: Path | None = None) -> BeirDataset:
        """`judgements`: a qrels file to use instead of the folder's qrels/test.tsv (the indexed copy is shared)."""
        folder = Path(folder)
        digest = hashlib.sha256()
        corpus = {}
        with (folder / "corpus.jsonl").open(encoding="utf-8") as handle:
            for line in handle:
                digest.update(line.encode())
                doc = json.loads(line)
                corpus[str(doc["_id"])] = (doc.get("title") or "", doc.get("text") or "")
        with (folder / "queries.jsonl").open(encoding="utf-8") as handle:
            queries = {str(q["_id"]): q["text"] for q in map(json.loads, handle)}
        qrels: dict[str, dict[str, int]] = {}
        with Path(judgements or folder / "qrels" / "test.tsv").open(encoding="utf-8") as handle:
            for query_id, corpus_id, value in (row[:3] for row in csv.reader(handle, delimiter="\t") if row):
                if value.strip().lstrip("-").isdigit():  # the header row is optional
                    qrels.setdefault(query_id, {})[corpus_id] = int(value)
        judged = {q: docs for q, docs in qrels.items() if any(score > 0 for score in docs.values()) and q in queries}
        return cls(folder.name, corpus, {q: queries[q] for q in judged}, judged, digest.hexdigest()[:16])


@dataclass
class RetrievalReport:
    dataset: str
    mode: str
    queries: int
    metrics: dict[str, float]
    latency_ms: dict[str, float]

    def to_json(self) -> dict:
        return dict(self.__dict__)


def run_queries(retriever: Retriever, dataset: BeirDataset, mode: SearchMode, k: int = 10, depth: int = 100):
    """Each judged query → the documents a k-passage search returns, ranked first, then those of a `depth`-passage
    search it did not return (for Recall@depth); a document scores as its best chunk. The first k are searched as
    the app searches: fusion and feedback look as deep as a k-result search does, not as deep as Recall@depth
    needs. Latencies are those of the k-passage search."""
    scope = AccessScope((EVAL_GROUP,))
    retriever.search("warm-up", scope, k=1, mode=mode)  # loads the model: not part of any query's latency
    run: dict[str, dict[str, float]] = {}
    latencies = []
    for qid, text in dataset.queries.items():
        started = time.perf_counter()
        first = retriever.search(text, scope, k=k, mode=mode)
        latencies.append((time.perf_counter() - started) * 1000)
        ranked = list(dict.fromkeys(hit.chunk.doc_id for hit in first))
        deeper = (hit.chunk.doc_id for hit in retriever.search(text, scope, k=depth * 2, mode=mode))
        ranked += [doc_id for doc_id in dict.fromkeys(deeper) if doc_id not in ranked][: depth - len(ranked)]
        run[qid] = {doc_id: float(depth - rank) for rank, doc_id in enumerate(ranked)}  # rank-based: comparable
    return run, latencies


def score(dataset: BeirDataset, run: dict[str, dict[str, float]], k: int = 10) -> dict[str, float]:
    from ranx import Qrels, Run, evaluate

    metrics = list(metric_names(k))
    qrels = Qrels.from_dict(dataset.qrels)
    results = evaluate(qrels, Run.from_dict({q: docs or {"-": 0.0} for q, docs in run.items()}), metrics)
    return {metric: round(float(results[metric]), 4) for metric in metrics}


def evaluate_retrieval(
    retriever: Retriever, dataset: BeirDataset, mode: SearchMode, k: int = 10
) -> tuple[RetrievalReport, dict]:
    run, latencies = run_queries(retriever, dataset, mode, k)
    ordered = sorted(latencies)
    latency = {
        "p50": round(statistics.median(ordered), 2),
        "p95": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 2),
    }
    return RetrievalReport(dataset.name, mode, len(dataset.queries), score(dataset, run, k), latency), run


def write_trec_run(run: dict[str, dict[str, float]], path: Path, tag: str = "kura") -> None:
    with Path(path).open("w", encoding="utf-8") as handle:
        for qid, docs in run.items():
            for rank, (doc_id, value) in enumerate(sorted(docs.items(), key=lambda d: -d[1]), 1):
                handle.write(f"{qid} Q0 {doc_id} {rank} {value} {tag}\n")
