"""The `kura` command's JSON contract, which tests, benchmarks and scripts rely on."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from app.cli import cli
from tests.conftest import SAMPLES

runner = CliRunner()


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("KURA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KURA_LLM_BACKEND", "extractive")
    monkeypatch.chdir(tmp_path)  # no stray .env from the developer's checkout
    folder = tmp_path / "kb"
    shutil.copytree(SAMPLES, folder)
    return folder


def run_json(*args: str) -> dict:
    result = runner.invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_ingest_search_ask_status(env):
    report = run_json("ingest", str(env))
    assert set(report) >= {"added", "updated", "unchanged", "deleted", "failed", "chunks", "seconds"}
    assert report["added"] == 8 and report["failed"] == []

    results = run_json("search", "hotel limit in Tokyo", "--k", "3")["results"]
    assert len(results) == 3
    assert set(results[0]) >= {"chunk_id", "doc_id", "source", "title", "page", "heading", "score", "text"}
    assert any("18,000 yen" in r["text"] for r in results)

    answer = run_json("ask", "What is the hotel limit per night in Tokyo?")
    assert set(answer) >= {"answer", "abstained", "citations", "backend", "timings"}
    assert answer["backend"] == "extractive" and not answer["abstained"]
    assert set(answer["citations"][0]) >= {"n", "source", "page", "heading", "chunk_id", "quote"}
    assert "18,000 yen" in answer["citations"][0]["quote"]

    status = run_json("status")
    assert status["documents"] == 8 and status["chunks"] == report["chunks"]
    assert status["health"]["store"]["ok"] and status["health"]["embedder"]["ok"]


def test_ingest_without_json_shows_a_progress_bar_and_a_summary(env):
    from app.cli.library import progress_numbers
    from ingest import IngestProgress

    (env / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    result = runner.invoke(cli, ["ingest", str(env)])
    assert result.exit_code == 1, result.output  # some files failed
    assert "added 8," in result.output and "failed 1;" in result.output and "broken.pdf" in result.output
    line = progress_numbers(IngestProgress(3, 9, 42, 1, "a.md", 2.0))
    assert line == "42 chunks · 1.5 files/s · 21.0 chunks/s · ETA 0:04 · 1 failed"


def test_group_settings_read_as_comma_lists_or_json(monkeypatch):
    from app.settings import Settings

    monkeypatch.setenv("KURA_DEFAULT_GROUPS", "staff, hr")
    monkeypatch.setenv("KURA_ADMIN_GROUPS", '["it", "security"]')
    assert Settings().default_groups == ["staff", "hr"] and Settings().admin_groups == ["it", "security"]


def test_an_invalid_setting_is_named_without_a_traceback(env, monkeypatch):
    monkeypatch.setenv("KURA_TOP_K", "ten")
    result = subprocess.run(
        [sys.executable, "-c", "from app.cli import main; main()", "status"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "Traceback" not in result.stdout + result.stderr
    said = " ".join((result.stdout + result.stderr).split())
    assert "KURA_ setting is invalid" in said and "top_k" in said


def test_groups_on_ingest_and_query(env):
    run_json("ingest", str(env / "policies"), "--groups", "hr")
    assert run_json("search", "parental leave", "--groups", "everyone")["results"] == []
    assert run_json("search", "parental leave", "--groups", "sales, hr")["results"]


def test_source_filter_narrows_search_to_one_file(env):
    run_json("ingest", str(env))
    faq = env / "product" / "kumo-sync-faq.md"
    results = run_json("search", "how long are files kept", "--source", str(faq))["results"]
    assert results and {r["source"] for r in results} == {str(faq)}


def test_exit_status_tells_scripts_what_happened(env, tmp_path):
    """0: all ingested; 1: some files failed; 2: nothing could be done. Status is 1 when a part is down; an empty
    index says so instead of answering "not found"."""
    empty = runner.invoke(cli, ["ask", "How long is parental leave?"])
    assert empty.exit_code == 2 and "the index is empty" in empty.stderr
    assert runner.invoke(cli, ["search", "leave"]).exit_code == 2
    assert runner.invoke(cli, ["ingest", str(tmp_path / "no-such-folder")]).exit_code == 2
    (env / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    assert runner.invoke(cli, ["ingest", str(env), "--json"]).exit_code == 1
    (env / "broken.pdf").unlink()
    assert runner.invoke(cli, ["ingest", str(env)]).exit_code == 0
    assert runner.invoke(cli, ["status"]).exit_code == 0


def test_status_exits_non_zero_when_a_part_is_down(env, monkeypatch):
    monkeypatch.setenv("KURA_LLM_BACKEND", "openai")
    monkeypatch.setenv("KURA_LLM_BASE_URL", "http://127.0.0.1:9/v1")  # nothing listens there
    result = runner.invoke(cli, ["status"])
    assert result.exit_code == 1 and "down" in result.stderr


def test_batch_answers_one_json_line_per_question(env, tmp_path):
    run_json("ingest", str(env))
    questions = tmp_path / "questions.txt"
    questions.write_text("How long are deleted files kept on Starter?\n\nWhat is the maximum file size?\n")
    result = runner.invoke(cli, ["ask", "--batch", str(questions), "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["question"] for line in lines] == [
        "How long are deleted files kept on Starter?",
        "What is the maximum file size?",
    ]
    assert "30 days" in lines[0]["citations"][0]["quote"] and "50 GB" in lines[1]["citations"][0]["quote"]


def test_status_masks_secrets(env, monkeypatch):
    monkeypatch.setenv("KURA_LLM_API_KEY", "sk-very-secret")
    monkeypatch.setenv("KURA_QDRANT_API_KEY", "qdrant-secret")
    result = runner.invoke(cli, ["status", "--json"])
    assert "very-secret" not in result.stdout and "qdrant-secret" not in result.stdout
    settings = json.loads(result.stdout)["settings"]
    assert settings["llm_api_key"] == settings["qdrant_api_key"] == "**********"


def test_store_in_use_exits_with_a_clear_message(env, kura, monkeypatch):
    monkeypatch.setenv("KURA_HOME", str(kura.settings.home))
    _ = kura.store  # this process now owns the embedded store
    result = runner.invoke(cli, ["search", "anything"])
    assert result.exit_code == 2
    assert "in use by process" in result.stderr


@pytest.mark.slow  # the installed script in its own processes (~13 s)
def test_console_script_runs_as_a_separate_process(env, tmp_path):
    kura = shutil.which("kura", path=str(sys.prefix + "/bin"))
    done = subprocess.run(
        [kura, "ingest", str(env / "support"), "--json"],
        capture_output=True,
        text=True,
        env={"KURA_HOME": str(tmp_path / "proc"), "PATH": "/usr/bin:/bin"},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["added"] == 2


HOSTILE = "# Release notes\n\nThe build flag is [/red] and [bold]loud[/bold].\x1b[2J\x1b]0;pwned\x07 Done at 18:00.\n"


def test_document_text_never_drives_the_terminal(env):
    (env / "support" / "release-notes.md").write_text(HOSTILE)
    assert runner.invoke(cli, ["ingest", str(env), "--json"]).exit_code == 0
    for args in (["search", "build flag release notes"], ["ask", "What is the build flag in the release notes?"]):
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, result.output
        assert "[/red]" in result.output, "markup in documents is printed as text"
        assert "\x1b" not in result.output, "escape sequences are stripped"


def test_every_cli_use_case_is_audited_as_the_os_user(env, tmp_path):
    import getpass

    from app.audit import AuditLog
    from app.settings import Settings

    ticket = tmp_path / "ticket.txt"
    ticket.write_text("Subject: Refund\n\nCan I get a refund for my annual plan?")
    gold = tmp_path / "gold.jsonl"
    gold.write_text(
        '{"question": "How many weeks of parental leave?", "expected_source": "leave-and-time-off.md", '
        '"facts": ["16 weeks"]}\n'
    )
    for args in (
        ["ingest", str(env), "--json"],
        ["search", "parental leave", "--json"],
        ["ask", "How long is parental leave?", "--json"],
        ["draft", str(ticket), "--json"],
        ["eval", "qa", str(gold), "--json"],
        ["users", "add", "mei", "--groups", "staff", "--password-stdin"],
        ["users", "remove", "mei"],
        ["audit", "--limit", "1"],
    ):
        assert runner.invoke(cli, args, input="mei-password\n").exit_code == 0, args
    entries = AuditLog(Settings().audit_path).read()
    assert [e["action"] for e in reversed(entries)] == [
        "ingest", "search", "ask", "draft", "eval_qa", "user_added", "user_removed", "audit_read"
    ]  # fmt: skip
    assert {e["user"] for e in entries} == {getpass.getuser()} and {e["via"] for e in entries} == {"cli"}
    assert entries[5]["chunk_ids"] and entries[5]["question"] == "How long is parental leave?"


def test_an_admin_acts_as_an_app_user_with_their_groups_and_is_recorded_as_the_one_acting(env):
    import getpass

    from app.audit import AuditLog
    from app.settings import Settings

    assert runner.invoke(cli, ["ingest", str(env), "--json"]).exit_code == 0
    assert runner.invoke(cli, ["users", "add", "kai", "--groups", "contractors", "--password-stdin"],
                         input="kai-password\n").exit_code == 0  # fmt: skip
    result = runner.invoke(cli, ["--as", "kai", "search", "parental leave", "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["results"] == [], "kai reads only what kai may read"
    entry = AuditLog(Settings().audit_path).read(action="search")[0]
    assert (entry["user"], entry["by"], entry["groups"]) == ("kai", getpass.getuser(), ["contractors"])
    unknown = runner.invoke(cli, ["--as", "nobody", "search", "leave"])
    assert unknown.exit_code == 2 and "no app user 'nobody'" in unknown.stderr


def test_status_masks_credentials_inside_urls(env, monkeypatch):
    monkeypatch.setenv("KURA_LLM_BASE_URL", "http://kura:hunter2@127.0.0.1:9/v1?api_key=sk-abc")
    result = runner.invoke(cli, ["status", "--json"])
    assert "hunter2" not in result.stdout and "sk-abc" not in result.stdout
    assert json.loads(result.stdout)["settings"]["llm_base_url"] == "http://kura:****@127.0.0.1:9/v1?api_key=****"


def test_kura_home_and_everything_in_it_are_private(env):
    import stat

    from app.settings import Settings

    assert runner.invoke(cli, ["ingest", str(env / "support"), "--json"]).exit_code == 0
    home = Settings().home
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    loose = [p for p in home.rglob("*") if not p.is_symlink() and stat.S_IMODE(p.stat().st_mode) & 0o077]
    assert loose == [], "the store, manifest and audit log are readable by kura's user only"


def test_a_home_made_readable_by_others_is_closed_again(env):
    import stat

    from app.settings import Settings

    home = Settings().home
    (home / "approved-replies").mkdir(parents=True)
    (home / "approved-replies" / "old.md").write_text("an old reply")
    os.chmod(home, 0o755)
    os.chmod(home / "approved-replies" / "old.md", 0o644)
    assert runner.invoke(cli, ["status", "--json"]).exit_code == 0
    assert stat.S_IMODE((home / "approved-replies" / "old.md").stat().st_mode) == 0o600


def test_batch_without_json_reads_as_text(env, tmp_path):
    run_json("ingest", str(env))
    questions = tmp_path / "questions.txt"
    questions.write_text("What is the maximum file size?\n")
    result = runner.invoke(cli, ["ask", "--batch", str(questions)])
    assert result.exit_code == 0 and "Q: What is the maximum file size?" in result.output
    assert "50 GB" in result.output and not result.stdout.lstrip().startswith("{")
