"""`kura watch`: a folder stays in sync. Changes are picked up once the folder is quiet, editors' temporary
files never reach the index, and a deleted file disappears from search."""

from __future__ import annotations

import time

import pytest

from retrieval import AccessScope

EVERYONE = AccessScope(("everyone",))


def wait_for(condition, timeout_s: float = 30) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def sources(kura, query: str) -> set[str]:
    return {h.chunk.source.rsplit("/", 1)[-1] for h in kura.retriever.search(query, EVERYONE, k=10)}


def test_a_watched_folder_follows_additions_edits_and_deletions(kura, tmp_path):
    from ingest.watch import FolderWatcher

    folder = tmp_path / "kb"
    folder.mkdir()
    reports = []

    def sync():
        return kura.ingestor.ingest([folder], groups=("everyone",))

    with FolderWatcher(folder, sync, quiet_s=0.5, on_report=reports.append):
        note = folder / "canteen.md"
        with note.open("w") as handle:  # a slow, partial write: the sync waits for quiet
            handle.write("# Canteen\n\n")
            handle.flush()
            time.sleep(0.2)
            handle.write("The canteen serves ramen on Thursdays.\n")
        (folder / "~$canteen.md").write_text("lock")
        (folder / "draft.md.swp").write_text("swap")
        assert wait_for(lambda: "canteen.md" in sources(kura, "what does the canteen serve"))
        assert {r.path.rsplit("/", 1)[-1] for r in kura.manifest.all()} == {"canteen.md"}
        assert all(not r.failed for r in reports)

        note.write_text("# Canteen\n\nThe canteen serves curry on Fridays.\n")
        assert wait_for(
            lambda: any("curry" in h.chunk.text for h in kura.retriever.search("canteen curry", EVERYONE, k=3))
        )
        note.unlink()
        assert wait_for(lambda: "canteen.md" not in sources(kura, "what does the canteen serve"))


@pytest.mark.slow  # a watching process interrupted with Ctrl-C (~15 s)
def test_kura_watch_reports_each_sync_and_stops_on_ctrl_c(tmp_path):
    import json
    import signal
    import subprocess
    import sys
    from pathlib import Path

    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "a.md").write_text("# A\n\nAlpha.\n")
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "kura"), "watch", str(folder), "--quiet", "0.5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"KURA_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"},
        # as from a terminal: a run started in the background (nohup, CI) ignores SIGINT,
        # and children would inherit that and never see the Ctrl-C this test sends
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        first = json.loads(process.stdout.readline())
        assert first["event"] == "synced" and first["added"] == 1
        time.sleep(1)  # the watcher is running once the first sync is printed; let it settle
        (folder / "b.md").write_text("# B\n\nBeta.\n")
        second = json.loads(process.stdout.readline())
        assert second["added"] == 1 and second["unchanged"] == 1
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
