"""The audit log is append-only JSON lines: every entry a whole line, even from several processes at once."""

from __future__ import annotations

import json
import multiprocessing

from typer.testing import CliRunner

from app.audit import AuditLog
from app.cli import cli


def test_entries_read_back_newest_first_and_filtered(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    log.record("mei", "ask", question="有給休暇は何日？", chunk_ids=["a", "b"])
    log.record("ken", "approve", file="/x.md")
    log.record("mei", "download", source="/y.pdf")
    assert [e["action"] for e in log.read()] == ["download", "approve", "ask"]
    assert [e["action"] for e in log.read(user="mei")] == ["download", "ask"]
    assert log.read(action="ask")[0]["question"] == "有給休暇は何日？"
    assert "有給休暇" in (tmp_path / "audit.jsonl").read_text(encoding="utf-8")  # readable, not \\u-escaped


def _write_many(path: str, worker: int) -> None:
    log = AuditLog(__import__("pathlib").Path(path))
    for i in range(200):
        log.record(f"user{worker}", "ask", question="x" * 3000, n=i)


def test_concurrent_writers_never_interleave_lines(tmp_path):
    path = tmp_path / "audit.jsonl"
    workers = [multiprocessing.Process(target=_write_many, args=(str(path), w)) for w in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    lines = path.read_text().splitlines()
    assert len(lines) == 600 and all(json.loads(line)["action"] == "ask" for line in lines)


def test_the_cli_prints_the_log(tmp_path, monkeypatch):
    monkeypatch.setenv("KURA_HOME", str(tmp_path))
    AuditLog(tmp_path / "audit.jsonl").record("mei", "ask", question="q")
    result = CliRunner().invoke(cli, ["audit", "--user", "mei"])
    assert json.loads(result.stdout)["question"] == "q"
