"""`kura finetune eval` drafts the held-out tickets with two models by name on one OpenAI-compatible server and
scores them side by side against the approved replies. Here the server is a real llama.cpp server whose one model
answers under both names (vLLM would serve the base model and the LoRA adapter): the table has a row per model,
its scores are the measured ones, and the comparison is kept for the Evaluate page."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from app.cli import cli
from tests.conftest import SAMPLES

pytestmark = pytest.mark.slow  # a real model server

TICKETS = [
    ("Refund for annual plan", "Can I get a refund for my annual plan?"),
    ("Sync stuck", "Kumo Sync has been stuck on Preparing since yesterday."),
    ("Sync after update", "Sync stopped after the update, what should I do?"),
    ("Cancel subscription", "How do I cancel my subscription before it renews?"),
]


def test_base_and_adapter_drafts_are_compared_on_the_held_out_tickets(llama_server, tmp_path):
    env = {"KURA_HOME": str(tmp_path / "home"), "KURA_LLM_BACKEND": "extractive", "KURA_LLM_BASE_URL": llama_server,
           "KURA_LLM_MODEL": "smollm2"}  # fmt: skip
    runner = CliRunner(env=env)
    assert runner.invoke(cli, ["ingest", str(SAMPLES / "support")]).exit_code == 0
    from app.service import Caller, Kura
    from app.settings import Settings
    from llm.draft import Ticket

    kura = Kura(Settings(home=tmp_path / "home", llm_backend="extractive", _env_file=None))
    agent = Caller("mei", ("everyone",), admin=True)
    for subject, body in TICKETS:
        ticket = Ticket(subject, body, customer="Aiko")
        kura.approve(agent, ticket, kura.draft(agent, ticket, stream=False).response.result(), "Hello Aiko, done.")
    kura.close()
    exported = runner.invoke(cli, ["finetune", "export", "--out", str(tmp_path / "data"), "--min-examples", "2",
                                   "--validation-percent", "50", "--json"])  # fmt: skip
    assert exported.exit_code == 0, exported.output

    compared = CliRunner(env={**env, "KURA_LLM_BACKEND": "openai"}).invoke(
        cli, ["finetune", "eval", str(tmp_path / "data"), "--adapter", "kura-support", "--json"]
    )
    assert compared.exit_code == 0, compared.output
    rows = json.loads(compared.stdout)["rows"]
    assert [row["model"] for row in rows] == ["smollm2", "kura-support"]
    assert all(row["tickets"] >= 1 and 0 <= row["recall"] <= 1 and row["failed"] == 0 for row in rows)
    assert json.loads((tmp_path / "home" / "training" / "comparison.json").read_text())["rows"] == rows

    refused = runner.invoke(cli, ["finetune", "eval", str(tmp_path / "data"), "--adapter", "kura-support"])
    assert refused.exit_code == 2 and "KURA_LLM_BACKEND=openai" in refused.output, "extractive cannot compare"
