"""The bad-input suite: 198 real, messy files (Unstructured's example documents: PDF, DOCX, PPTX, XLSX, CSV,
EML, MSG, ODT, EPUB, RTF, HTML, UTF-16 text, legacy Office, malformed and encrypted files).

Every file ends in exactly one state, ingested or failed with a reason a person can act on; nothing crashes
the batch, the exit status is 1 (some files failed, each listed), and a rerun leaves the ingested ones unchanged."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import shared_path

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]


def kura(home: Path, embedder: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).parent / "kura"), *args],
        capture_output=True,
        text=True,
        env={"KURA_HOME": str(home), "KURA_EMBED_MODEL": str(embedder), "PATH": "/usr/bin:/bin", "HOME": str(home)},
        timeout=1500,
    )


def test_every_file_of_the_formats_corpus_is_ingested_or_fails_with_a_reason(tmp_path, tiny_embedder):
    corpus = shared_path("corpora/formats")
    files = [
        p
        for p in corpus.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(corpus).parts)
    ]
    first = kura(tmp_path, tiny_embedder, "ingest", str(corpus), "--json")
    assert first.returncode == 1, first.stderr[-3000:]  # the batch went on; the failed files are listed
    assert "Traceback" not in first.stdout + first.stderr
    report = json.loads(first.stdout)
    assert report["added"] + len(report["failed"]) == len(files) == 198
    reasons = {Path(f["path"]).name: f["error"] for f in report["failed"]}
    assert all(reason and "Traceback" not in reason for reason in reasons.values())
    assert "encrypted" in reasons["password.pdf"] and "encrypted" in reasons["fake-encrypted.msg"]
    assert "save it as .docx" in reasons["fake.doc"] and "save it as .pptx" in reasons["fake-power-point.ppt"]
    assert "password" in reasons["password_protected.xlsx"]
    assert reasons["empty.txt"] == "the file is empty"
    assert report["added"] >= 170, f"too many failures: {reasons}"

    found = kura(tmp_path, tiny_embedder, "search", "fake attachment", "--mode", "sparse", "--json", "--k", "20")
    hits = json.loads(found.stdout)["results"]
    assert any(h["heading"].startswith("Attachment: fake-attachment.txt") for h in hits), "mail attachments"

    again = json.loads(kura(tmp_path, tiny_embedder, "ingest", str(corpus), "--json").stdout)
    assert again["unchanged"] == report["added"] and again["added"] == again["updated"] == 0
    assert len(again["failed"]) == len(report["failed"])
