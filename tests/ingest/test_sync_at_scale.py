"""Folder sync with thousands of files: a re-sync after deletions, edits and additions leaves exactly the
folder's current files in the index, and a re-sync of an unchanged folder embeds nothing.

Uses the tiny embedder (tests/conftest.py): this is about bookkeeping at scale, not about embedding quality."""

from __future__ import annotations

import os
import random

import pytest

from app.service import Kura
from app.settings import Settings
from retrieval import AccessScope

pytestmark = pytest.mark.slow

FILES = 3000
EVERYONE = AccessScope(("everyone",))


def write_note(path, n: int, version: str = "") -> None:
    path.write_text(f"# Note {n}\n\nMarker token note{n}x{version}. Routine paragraph about topic {n % 37}.\n")


def test_resync_of_thousands_of_files_mirrors_the_folder(tmp_path, tiny_embedder):
    folder = tmp_path / "notes"
    for part in range(10):
        (folder / f"part{part}").mkdir(parents=True)
    paths = [folder / f"part{n % 10}" / f"note{n}.md" for n in range(FILES)]
    for n, path in enumerate(paths):
        write_note(path, n)
    kura = Kura(Settings(home=tmp_path / "home", embed_model=tiny_embedder, _env_file=None))
    try:
        first = kura.ingestor.ingest([folder], groups=("everyone",))
        assert (first.added, first.failed) == (FILES, []) and kura.store.count() == FILES

        rng = random.Random(4)
        deleted, edited = set(rng.sample(range(FILES), 600)), set()
        for n in deleted:
            paths[n].unlink()
        for n in rng.sample(sorted(set(range(FILES)) - deleted), 300):
            write_note(paths[n], n, version="v2")
            os.utime(paths[n], ns=(1, 1))  # a new mtime, whatever the clock's resolution
            edited.add(n)
        for n in range(FILES, FILES + 150):
            write_note(folder / "part0" / f"note{n}.md", n)

        second = kura.ingestor.ingest([folder], groups=("everyone",))
        assert (second.deleted, second.updated, second.added, second.unchanged) == (600, 300, 150, FILES - 900)
        remaining = FILES - 600 + 150
        assert kura.store.count() == remaining == len([r for r in kura.manifest.all() if r.status == "ingested"])
        gone, changed = sorted(deleted)[0], sorted(edited)[0]
        assert not [
            h
            for h in kura.retriever.search(f"note{gone}x", EVERYONE, k=5, mode="sparse")
            if h.chunk.text.count(f"note{gone}x")
        ]
        assert kura.retriever.search(f"note{changed}xv2", EVERYONE, k=1, mode="sparse")[0].chunk.text.count("xv2")

        third = kura.ingestor.ingest([folder], groups=("everyone",))
        assert (third.unchanged, third.chunks, third.added, third.updated, third.deleted) == (remaining, 0, 0, 0, 0)
    finally:
        kura.close()
