"""Abstention calibration: how well `KURA_ABSTAIN_BELOW` separates questions the documents answer from
questions they do not, on the tuning datasets (never dbpedia, the held-out set).

    .venv/bin/python -m bench.abstention [--home /tmp/kura-eval]

Answerable: a dataset's own queries against its corpus (each has a judged relevant passage). Unanswerable:
the other tuning dataset's queries against the same corpus (msmarco ↔ business-reports: different domains, so
the corpus should not answer them). kura abstains when the best passage's cosine similarity is below the
threshold; the table gives, per threshold, the precision of abstaining (abstentions that were right) and its
recall (unanswerable questions that abstained), plus how many answerable questions were wrongly refused."""

from __future__ import annotations

import argparse
from pathlib import Path

import app  # noqa: F401  (offline mode)
from app.services import Kura
from app.settings import Settings
from retrieval import AccessScope
from retrieval.evaluate import EVAL_GROUP, BeirDataset

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
THRESHOLDS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5)


def best_similarity(retriever, questions: list[str]) -> list[float]:
    scope = AccessScope((EVAL_GROUP,))
    return [max((h.similarity or 0.0 for h in retriever.search(q, scope, k=5)), default=0.0) for q in questions]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", type=Path, default=Path("/tmp/kura-eval"))
    args = parser.parse_args()
    kura = Kura(Settings(home=args.home, _env_file=None))
    names = ("msmarco", "business-reports")
    datasets = {name: BeirDataset.load(DATASETS / name) for name in names}
    answerable, unanswerable = [], []
    for name in names:
        other = datasets[names[1 - names.index(name)]]
        retriever = kura.eval_retriever(datasets[name])
        answerable += best_similarity(retriever, [datasets[name].queries[q] for q in datasets[name].qrels])
        unanswerable += best_similarity(retriever, [other.queries[q] for q in other.qrels])
    print(f"{len(answerable)} answerable and {len(unanswerable)} unanswerable questions")
    print("| threshold | abstention precision | abstention recall | answerable refused |")
    print("| --- | --- | --- | --- |")
    for threshold in THRESHOLDS:
        right = sum(s < threshold for s in unanswerable)
        wrong = sum(s < threshold for s in answerable)
        precision = right / (right + wrong) if right + wrong else float("nan")
        print(f"| {threshold} | {precision:.3f} | {right / len(unanswerable):.3f} | {wrong / len(answerable):.3f} |")
    kura.close()


if __name__ == "__main__":
    main()
