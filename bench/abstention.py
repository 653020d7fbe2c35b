"""Abstention calibration: how well `KURA_ABSTAIN_BELOW` separates questions the documents answer from
questions they do not, on the tuning datasets (never dbpedia, the held-out set) and on the handbook.

    .venv/bin/python -m bench.abstention [--home /tmp/kura-eval] [--embedder multilingual-e5-small]
                                         [--second-stage models/embeddinggemma-300m]

Across domains: a dataset's own queries against its corpus are answerable (business-reports with kura's
judgements, bench/data/business-reports-qrels); the other tuning dataset's queries against the same corpus are
not (msmarco ↔ business-reports). Within one domain, the harder case: the handbook's 42 gold questions against
20 questions an employee could ask that it does not answer (bench/data/handbook-qa/unanswerable.jsonl: a gym,
stock options, a notice period). kura abstains when the best passage's cosine similarity is below the threshold;
Across languages (with a multilingual embedder or a second stage): the 94 questions of bench/data/cross-lingual/mixed (Japanese
and English, over English and Japanese passages side by side) against the 20 of cross-lingual/unanswerable.jsonl.
Each table gives, per threshold, the precision of abstaining (abstentions that were right) and its recall
(unanswerable questions that abstained), plus how many answerable questions were wrongly refused."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import app  # noqa: F401  (offline mode)
from app.service import Kura
from app.settings import Settings
from llm.evaluate import load_gold
from retrieval import AccessScope
from retrieval.embedders import EMBEDDERS, EmbedderName
from retrieval.evaluate import EVAL_GROUP, BeirDataset

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
HANDBOOK = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "handbook"
DATA = Path(__file__).resolve().parent / "data"


def best_similarity(retriever, questions: list[str], scope: AccessScope = AccessScope((EVAL_GROUP,))) -> list[float]:
    return [max((h.similarity or 0.0 for h in retriever.search(q, scope, k=5)), default=0.0) for q in questions]


def thresholds(bar: float) -> list[float]:
    """Seven bars around the embedder's default, in steps that fit its scale."""
    step = 0.05 if bar < 0.5 else 0.01
    return [round(bar + step * i, 2) for i in range(-3, 4)]


def print_table(answerable: list[float], unanswerable: list[float], bar: float) -> None:
    print(f"\n{len(answerable)} answerable and {len(unanswerable)} unanswerable questions")
    print("| threshold | abstention precision | abstention recall | answerable refused |")
    print("| --- | --- | --- | --- |")
    for threshold in thresholds(bar):
        right = sum(s < threshold for s in unanswerable)
        wrong = sum(s < threshold for s in answerable)
        precision = right / (right + wrong) if right + wrong else float("nan")
        shown = f"{threshold} (default)" if threshold == bar else str(threshold)
        print(f"| {shown} | {precision:.3f} | {right / len(unanswerable):.3f} | {wrong / len(answerable):.3f} |")


def questions(name: str) -> list[str]:
    return [gold.question for gold in load_gold(DATA / "handbook-qa" / name)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", type=Path, default=Path("/tmp/kura-eval"))
    parser.add_argument("--embedder", type=EmbedderName, default=EmbedderName.MINILM)
    parser.add_argument("--second-stage", type=Path, help="KURA_SECOND_STAGE_MODEL: its cosine is the measure")
    args = parser.parse_args()
    settings = Settings(home=args.home, embedder=args.embedder, second_stage_model=args.second_stage, _env_file=None)
    kura = Kura(settings)
    bar = kura.bars[0]
    names = ("msmarco", "business-reports")
    judgements = {"business-reports": DATA / "business-reports-qrels" / "test.tsv"}
    datasets = {name: BeirDataset.load(DATASETS / name, judgements.get(name)) for name in names}
    answerable, unanswerable = [], []
    for name in names:
        other = datasets[names[1 - names.index(name)]]
        retriever = kura.eval_retriever(datasets[name])
        answerable += best_similarity(retriever, [datasets[name].queries[q] for q in datasets[name].qrels])
        unanswerable += best_similarity(retriever, [other.queries[q] for q in other.qrels])
    print("Across domains (msmarco ↔ business-reports):")
    print_table(answerable, unanswerable, bar)
    if EMBEDDERS[args.embedder].multilingual or args.second_stage:
        mixed = BeirDataset.load(DATA / "cross-lingual" / "mixed")
        retriever = kura.eval_retriever(mixed)
        lines = (DATA / "cross-lingual" / "unanswerable.jsonl").read_text(encoding="utf-8").splitlines()
        print("\nAcross languages (English and Japanese passages side by side):")
        print_table(
            best_similarity(retriever, list(mixed.queries.values())),
            best_similarity(retriever, [json.loads(line)["question"] for line in lines]),
            bar,
        )
    kura.close()

    handbook = Kura(settings.model_copy(update={"home": args.home / "handbook"}))
    handbook.ingestor.ingest([HANDBOOK], groups=("everyone",))  # an unchanged re-sync after the first run
    if handbook.upgrade is not None:
        handbook.upgrade.run_once()
    scope = AccessScope(("everyone",))
    print("\nWithin one domain (the handbook):")
    print_table(
        best_similarity(handbook.retriever, questions("gold.jsonl"), scope),
        best_similarity(handbook.retriever, questions("unanswerable.jsonl"), scope),
        bar,
    )
    handbook.close()


if __name__ == "__main__":
    main()
