"""`kura eval qa`: gold questions go through the whole answer path; the report says how often the expected
source was among the passages (hit@k) and cited, which facts the answer carried, and whether kura abstained
exactly when the documents do not answer. A second run reports the previous one beside it."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from app.cli import cli
from llm.evaluate import GoldQuestion, evaluate_qa, load_gold
from retrieval import AccessScope
from tests.conftest import SAMPLES

GOLD = [
    {
        "question": "How many weeks of parental leave do parents get?",
        "expected_source": "leave-and-time-off.md",
        "facts": ["16 weeks", "three blocks"],
    },
    {
        "question": "What is the hotel limit per night in Tokyo?",
        "expected_source": "expenses-and-travel.md",
        "facts": ["18,000 yen"],
    },
    {"question": "What is the airspeed velocity of an unladen swallow on Mars?", "expected_source": None},
]


def test_metrics_on_the_sample_knowledge_base(ingested_samples):
    questions = [GoldQuestion(g["question"], g["expected_source"], tuple(g.get("facts", ()))) for g in GOLD]
    report = evaluate_qa(ingested_samples.answerer(), questions, AccessScope(("everyone",)), k=5)
    assert report["hit@5"] == 1.0 and report["cited"] == 1.0 and report["fact_recall"] == 1.0
    assert report["abstention_precision"] == 1.0 and report["abstention_recall"] == 1.0
    assert [r["rank"] for r in report["results"]] == [1, 1, None]


def test_a_wrong_expectation_lowers_the_score(ingested_samples):
    wrong = [GoldQuestion("What is the hotel limit per night in Tokyo?", "leave-and-time-off.md", ("99 yen",))]
    report = evaluate_qa(ingested_samples.answerer(), wrong, AccessScope(("everyone",)), k=5)
    assert report["hit@5"] == 0.0 and report["fact_recall"] == 0.0


def test_a_malformed_gold_file_names_the_line(tmp_path):
    gold = tmp_path / "gold.jsonl"
    gold.write_text('{"question": "ok", "expected_source": null}\n{"expected_source": "x"}\n')
    with pytest.raises(ValueError, match="line 2"):
        load_gold(gold)


def test_the_cli_reports_and_remembers_the_previous_run(tmp_path, monkeypatch):
    monkeypatch.setenv("KURA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KURA_LLM_BACKEND", "extractive")
    runner = CliRunner()
    assert runner.invoke(cli, ["ingest", str(SAMPLES), "--json"]).exit_code == 0
    gold = tmp_path / "gold.jsonl"
    gold.write_text("\n".join(json.dumps(g) for g in GOLD))
    first = json.loads(runner.invoke(cli, ["eval", "qa", str(gold), "--json"]).stdout)
    second = json.loads(runner.invoke(cli, ["eval", "qa", str(gold), "--json"]).stdout)
    assert first["previous"] is None and first["hit@5"] == 1.0
    assert second["previous"]["hit@5"] == 1.0 and second["previous"]["at"] == first["at"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n")
    result = runner.invoke(cli, ["eval", "qa", str(bad)])
    assert result.exit_code == 2 and "line 1" in result.output
