"""kill -9 at any moment, then rerun: the index converges to exactly what a clean ingest gives.

A real `kura ingest` process is killed at random points while it replaces a library's documents with new
versions (some shorter, some longer, some new); after a rerun, the store holds the same number of chunks as a
clean ingest of the final files, document by document, and the manifest agrees."""

from __future__ import annotations

import json
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingest import Manifest
from tests.conftest import SAMPLES

pytestmark = pytest.mark.slow
KURA = str(Path(sys.executable).parent / "kura")


def ingest(home: Path, folder: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [KURA, "ingest", str(folder), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={"KURA_HOME": str(home), "PATH": "/usr/bin:/bin", "HOME": str(home)},
    )


def finished(home: Path, folder: Path) -> dict:
    process = ingest(home, folder)
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, err[-2000:]
    return json.loads(out)


def state(home: Path) -> tuple[dict, int]:
    """{path: chunks} from the manifest, and the store's chunk count (read after the writer has exited)."""
    manifest = Manifest(home / "manifest.sqlite3")
    documents = {r.path: (r.status, r.chunks) for r in manifest.all()}
    manifest.close()
    status = subprocess.run(
        [KURA, "status", "--json"],
        capture_output=True,
        text=True,
        env={"KURA_HOME": str(home), "PATH": "/usr/bin:/bin", "HOME": str(home)},
    )
    return documents, json.loads(status.stdout)["chunks"]


def new_versions(folder: Path, round_: int) -> None:
    """Shorter, longer and new documents: replacements must drop old tails and never mix versions."""
    leave = folder / "policies" / "leave-and-time-off.md"
    leave.write_text(f"# Leave and Time Off (v{round_})\n\nShort now: ask HR.\n")
    faq = folder / "product" / "kumo-sync-faq.md"
    faq.write_text(
        faq.read_text() + "\n" + "\n".join(f"## Extra {round_}.{i}\n\nMore answers {i}. " * 3 for i in range(20))
    )
    (folder / f"notes-{round_}.md").write_text(f"# Notes {round_}\n\n" + "A line of notes. " * 400)


def test_killed_ingests_converge_to_a_clean_ingest(tmp_path):
    rng = random.Random(7)
    folder = tmp_path / "kb"
    shutil.copytree(SAMPLES, folder)
    home = tmp_path / "home"
    finished(home, folder)
    for round_ in range(3):
        new_versions(folder, round_)
        process = ingest(home, folder)
        time.sleep(rng.uniform(3, 9))  # the model loads in a few seconds; then documents are being replaced
        process.send_signal(signal.SIGKILL)
        process.wait()
    resumed = finished(home, folder)
    assert resumed["failed"] == []

    clean = tmp_path / "clean"
    finished(clean, folder)
    documents, chunks = state(home)
    clean_documents, clean_chunks = state(clean)
    assert documents == clean_documents
    assert chunks == clean_chunks == sum(n for _, n in documents.values())
