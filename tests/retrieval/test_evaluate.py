"""The evaluation harness on a dataset small enough to reason about: metrics come from ranx, documents
score as their best chunk, and the run file is standard TREC."""

from __future__ import annotations

import json

import pytest

from retrieval import AccessScope
from retrieval.evaluate import EVAL_GROUP, BeirDataset, evaluate_retrieval, run_queries, write_trec_run

CORPUS = {
    "leave": ("Parental leave", "Every parent receives 16 weeks of fully paid parental leave."),
    "hotel": ("Travel", "The hotel limit is 18,000 yen per night in Tokyo."),
    "laptop": ("Devices", "Every laptop has full-disk encryption enabled and is replaced every three years."),
    "refund": ("Refunds", "Annual subscriptions can be refunded in full within 14 days of purchase."),
}
QUERIES = {
    "q1": "how long is parental leave",
    "q2": "hotel budget per night in Tokyo",
    "q3": "when are laptops replaced",
    "q4": "a query nobody judged",
}
QRELS = [("q1", "leave", 1), ("q2", "hotel", 2), ("q3", "laptop", 1), ("q4", "refund", 0)]


@pytest.fixture
def dataset_dir(tmp_path):
    folder = tmp_path / "tiny"
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": i, "title": t, "text": x}) + "\n" for i, (t, x) in CORPUS.items())
    )
    (folder / "queries.jsonl").write_text("".join(json.dumps({"_id": q, "text": t}) + "\n" for q, t in QUERIES.items()))
    (folder / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t{s}\n" for q, d, s in QRELS)
    )
    headerless = folder.parent / "headerless"
    (headerless / "qrels").mkdir(parents=True)
    for name in ("corpus.jsonl", "queries.jsonl"):
        (headerless / name).write_text((folder / name).read_text())
    (headerless / "qrels" / "test.tsv").write_text("".join(f"{q}\t{d}\t{s}\n" for q, d, s in QRELS))
    return folder


def test_loading_skips_queries_without_a_positive_judgement(dataset_dir):
    dataset = BeirDataset.load(dataset_dir)
    assert set(dataset.queries) == {"q1", "q2", "q3"} and len(dataset.corpus) == 4
    assert dataset.fingerprint == BeirDataset.load(dataset_dir).fingerprint
    assert BeirDataset.load(dataset_dir.parent / "headerless").qrels == dataset.qrels


def test_other_judgements_replace_the_folders_and_share_its_corpus(dataset_dir, tmp_path):
    """A dataset whose shipped qrels are wrong is evaluated with judgements made for it (`--qrels`)."""
    judgements = tmp_path / "fixed.tsv"
    judgements.write_text("query-id\tcorpus-id\tscore\nq4\trefund\t1\nq1\tleave\t1\n")
    fixed = BeirDataset.load(dataset_dir, judgements)
    assert set(fixed.queries) == {"q1", "q4"} and fixed.qrels["q4"] == {"refund": 1}
    assert fixed.fingerprint == BeirDataset.load(dataset_dir).fingerprint, "the indexed copy is reused"


def test_the_scored_top_k_is_the_search_the_app_makes(kura, dataset_dir):
    """Fusion and feedback look as deep as the search asks for results, so the top k are scored from a k-result
    search, as the app searches; only the documents after them come from the deeper search Recall@100 needs."""
    dataset = BeirDataset.load(dataset_dir)
    retriever = kura.eval_retriever(dataset)
    search, asked = retriever.search, []

    def recording(text, scope, k=10, mode=None):
        asked.append(k)
        return search(text, scope, k=k, mode=mode)

    retriever.search = recording
    run, latencies = run_queries(retriever, dataset, "hybrid", k=2)
    assert asked == [1] + [2, 200] * 3 and len(latencies) == 3  # the warm-up, then each judged query
    for qid, text in dataset.queries.items():
        top = [hit.chunk.doc_id for hit in search(text, AccessScope((EVAL_GROUP,)), k=2, mode="hybrid")]
        assert list(run[qid])[:2] == top and sorted(run[qid]) == sorted(CORPUS)


@pytest.mark.parametrize("mode", ["dense", "sparse", "rrf", "hybrid"])
def test_an_easy_dataset_scores_perfectly_in_every_mode(kura, dataset_dir, mode, tmp_path):
    dataset = BeirDataset.load(dataset_dir)
    report, run = evaluate_retrieval(kura.eval_retriever(dataset), dataset, mode)
    assert report.metrics == {"ndcg@10": 1.0, "recall@10": 1.0, "recall@100": 1.0, "mrr@10": 1.0}
    assert report.queries == 3 and report.latency_ms["p95"] >= report.latency_ms["p50"] > 0
    write_trec_run(run, tmp_path / "run.trec")
    first = (tmp_path / "run.trec").read_text().splitlines()[0].split()
    assert first[1] == "Q0" and first[3] == "1" and first[5] == "kura" and first[2] in CORPUS


def test_the_indexed_corpus_is_cached_by_content(kura, dataset_dir):
    dataset = BeirDataset.load(dataset_dir)
    kura.eval_retriever(dataset)
    cached = list((kura.settings.home / "eval").iterdir())
    assert len(cached) == 1 and (cached[0] / "complete").read_text() == "4"
    with (dataset_dir / "corpus.jsonl").open("a") as handle:
        handle.write(json.dumps({"_id": "new", "title": "", "text": "A fifth document."}) + "\n")
    kura.eval_retriever(BeirDataset.load(dataset_dir))
    assert len(list((kura.settings.home / "eval").iterdir())) == 2


def test_cli_reports_every_mode_as_json(dataset_dir, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from app.cli import cli

    monkeypatch.setenv("KURA_HOME", str(tmp_path / "home"))
    result = CliRunner().invoke(
        cli,
        ["eval", "retrieval", str(dataset_dir), "--mode", "all", "--json", "--run-file", str(tmp_path / "run.trec")],
    )
    assert result.exit_code == 0, result.output
    reports = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["mode"] for r in reports] == ["dense", "sparse", "rrf", "hybrid"]
    assert (tmp_path / "run.hybrid.trec").exists()
