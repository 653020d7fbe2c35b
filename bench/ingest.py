"""kura's ingest against the plain LlamaIndex pipeline a user would write, on the same files, in one run.

    .venv/bin/python -m bench.ingest [--docs 5000] [--handbook-copies 10] [--work /tmp/kura-bench-ingest]

Corpus: the first --docs passages of ../shared/datasets/msmarco written as one .txt file each (title, blank
line, text), plus ../shared/corpora/handbook copied --handbook-copies times. Each pipeline runs in its own
process; wall time includes start-up and model loading, peak RSS comes from the kernel (wait4).

- plain: SimpleDirectoryReader → SentenceSplitter(200, 40) → HuggingFaceEmbedding (the same local MiniLM)
  → QdrantVectorStore on qdrant-client's embedded local mode (what runs without a server).
- kura: `kura ingest DIR --json`, embedded defaults (Qdrant Edge, MiniLM, dense + BM25, parse workers). Text
  the index already has (the handbook's copies) reuses its stored vector; the table shows how many were embedded.
- kura re-sync: the same command again on the unchanged corpus.
- kura onnx-int8: the first ingest again into a new home with KURA_EMBED_BACKEND=onnx-int8 (the same MiniLM
  quantised to int8 on ONNX Runtime); its time includes building the int8 graph, which a new home does once.

Retrieval quality of both indexes is then measured on the msmarco queries (nDCG@10, ranx) so a speed-up
cannot come from indexing less. The baseline needs `.venv/bin/pip install -e ".[bench]"` (not part of kura)."""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
MSMARCO = SHARED / "datasets" / "msmarco"
HANDBOOK = SHARED / "corpora" / "handbook"
CHUNK_TOKENS, CHUNK_OVERLAP = 200, 40


def write_corpus(folder: Path, docs: int, copies: int) -> tuple[int, list[str]]:
    """The corpus as files (rebuilt each run so mtimes are fresh); returns file count and msmarco ids."""
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "msmarco").mkdir(parents=True)
    ids = []
    with (MSMARCO / "corpus.jsonl").open() as handle:
        for _, line in zip(range(docs), handle):
            doc = json.loads(line)
            ids.append(doc["_id"])
            (folder / "msmarco" / f"{doc['_id']}.txt").write_text(f"{doc.get('title') or ''}\n\n{doc['text']}\n")
    for copy in range(copies):
        shutil.copytree(HANDBOOK, folder / "handbook" / f"copy{copy}")
    return sum(1 for p in folder.rglob("*") if p.is_file()), ids


def run_plain(corpus: Path, store: Path) -> None:
    """The pipeline from LlamaIndex's starter docs, with kura's chunk size and embedding model."""
    from llama_index.core import SimpleDirectoryReader, StorageContext, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.vector_stores.qdrant import QdrantVectorStore
    from qdrant_client import QdrantClient

    from retrieval.embed import default_model_path

    documents = SimpleDirectoryReader(str(corpus), recursive=True).load_data()
    client = QdrantClient(path=str(store))
    vector_store = QdrantVectorStore(client=client, collection_name="plain")
    VectorStoreIndex.from_documents(
        documents,
        storage_context=StorageContext.from_defaults(vector_store=vector_store),
        embed_model=HuggingFaceEmbedding(model_name=str(default_model_path()), device="cpu"),
        transformations=[SentenceSplitter(chunk_size=CHUNK_TOKENS, chunk_overlap=CHUNK_OVERLAP)],
    )
    print(json.dumps({"chunks": client.count("plain").count}))
    client.close()


def timed(command: list[str], env: dict) -> dict:
    """Runs a pipeline process; its wall time, peak RSS and the JSON it printed last."""
    started = time.perf_counter()
    child = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    if status:
        raise SystemExit(f"{command} failed with status {status}")
    return {
        "seconds": time.perf_counter() - started,
        "peak_rss_mib": usage.ru_maxrss / 1024,
        "output": json.loads(output.strip().splitlines()[-1]),
    }


def ndcg(ranked_ids: dict[str, list[str]]) -> float:
    """nDCG@10 of each query's ranked file stems (a document scores as its best chunk), over msmarco's qrels."""
    from retrieval.evaluate import score

    run = {}
    for qid, ids in ranked_ids.items():
        unique = list(dict.fromkeys(ids))
        run[qid] = {doc: float(len(unique) - rank) for rank, doc in enumerate(unique)}
    return score(msmarco(), run)["ndcg@10"]


@functools.cache
def msmarco():
    from retrieval.evaluate import BeirDataset

    return BeirDataset.load(MSMARCO)


def quality_plain(store: Path) -> float:
    from llama_index.core import VectorStoreIndex
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.vector_stores.qdrant import QdrantVectorStore
    from qdrant_client import QdrantClient

    from retrieval.embed import default_model_path

    client = QdrantClient(path=str(store))
    index = VectorStoreIndex.from_vector_store(
        QdrantVectorStore(client=client, collection_name="plain"),
        embed_model=HuggingFaceEmbedding(model_name=str(default_model_path()), device="cpu"),
    )
    retriever = index.as_retriever(similarity_top_k=30)
    run = {
        qid: [Path(n.metadata["file_name"]).stem for n in retriever.retrieve(text)]
        for qid, text in msmarco().queries.items()
    }
    client.close()
    return ndcg(run)


def quality_kura(home: Path, embed_backend: str = "torch") -> float:
    from app.service import Kura
    from app.settings import Settings
    from retrieval import AccessScope

    kura = Kura(Settings(home=home, embed_backend=embed_backend))
    scope = AccessScope(("everyone",))
    try:
        run = {
            qid: [Path(h.chunk.source).stem for h in kura.retriever.search(text, scope, k=30)]
            for qid, text in msmarco().queries.items()
        }
    finally:
        kura.close()
    return ndcg(run)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=5000)
    parser.add_argument("--handbook-copies", type=int, default=10)
    parser.add_argument("--work", type=Path, default=Path("/tmp/kura-bench-ingest"))
    parser.add_argument("--plain", nargs=2, metavar=("CORPUS", "STORE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.plain:
        return run_plain(Path(args.plain[0]), Path(args.plain[1]))

    corpus, home, plain_store = args.work / "corpus", args.work / "kura-home", args.work / "plain-store"
    int8_home = args.work / "kura-int8-home"
    files, _ = write_corpus(corpus, args.docs, args.handbook_copies)
    for stale in (home, int8_home, plain_store):
        shutil.rmtree(stale, ignore_errors=True)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "KURA_HOME": str(home)}
    kura_command = [str(Path(sys.executable).parent / "kura"), "ingest", str(corpus), "--json"]
    rows = {
        "plain LlamaIndex": timed(
            [sys.executable, "-m", "bench.ingest", "--plain", str(corpus), str(plain_store)], env
        ),
        "kura": timed(kura_command, env),
        "kura re-sync (unchanged)": timed(kura_command, env),
        "kura onnx-int8": timed(kura_command, {**env, "KURA_HOME": str(int8_home), "KURA_EMBED_BACKEND": "onnx-int8"}),
    }
    chunks = {name: row["output"]["chunks"] for name, row in rows.items()}
    embedded = {name: count - rows[name]["output"].get("reused", 0) for name, count in chunks.items()}
    resync = rows["kura re-sync (unchanged)"]["output"]
    assert resync["unchanged"] == files and chunks["kura re-sync (unchanged)"] == 0, resync  # zero embeddings
    quality = {
        "plain LlamaIndex": quality_plain(plain_store),
        "kura": quality_kura(home),
        "kura onnx-int8": quality_kura(int8_home, "onnx-int8"),
    }

    baseline = rows["plain LlamaIndex"]["seconds"]
    print(f"\n{files} files ({args.docs} msmarco passages + handbook x{args.handbook_copies}), 2 cores\n")
    print(
        "| pipeline | seconds | files/s | chunks indexed | of them embedded | chunks/s | peak RSS MiB "
        "| msmarco nDCG@10 | speed vs plain |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, row in rows.items():
        seconds = row["seconds"]
        score = f"{quality[name]:.4f}" if name in quality else "(same index)"
        print(
            f"| {name} | {seconds:.1f} | {files / seconds:.1f} | {chunks[name]:,} | {embedded[name]:,} | "
            f"{chunks[name] / seconds:.1f} | "
            f"{row['peak_rss_mib']:.0f} | {score} | {baseline / seconds:.2f}× |"
        )
    first = rows["kura"]["seconds"]
    print(
        f"\nre-sync of the unchanged corpus: {first / rows['kura re-sync (unchanged)']['seconds']:.0f}× faster than "
        f"kura's first ingest, {embedded['kura re-sync (unchanged)']} chunks embedded"
    )


if __name__ == "__main__":
    main()
