"""Room on the disk before writing: Qdrant Edge writes through memory maps, and a full disk kills the process
(SIGBUS) with no message. An ingest stops with a reason first, and what it ingested so far is kept."""

from __future__ import annotations

import shutil
from pathlib import Path

from retrieval.store import StoreError


class DiskFullError(StoreError):
    """Too little free disk to ingest safely; raised before anything is half-written."""


def check_free_space(state_dir: Path | None, min_free_mb: int) -> None:
    """Qdrant Edge writes through memory maps: a full disk kills the process (SIGBUS) with no message."""
    if not min_free_mb or state_dir is None:
        return
    folder = next(p for p in [state_dir, *state_dir.parents] if p.exists())
    free_mb = shutil.disk_usage(folder).free // (1024 * 1024)
    if free_mb < min_free_mb:
        raise DiskFullError(
            f"only {free_mb} MB free on the disk of {state_dir}, under the {min_free_mb} "
            "MB kura keeps free (KURA_MIN_FREE_MB): free some space and run the ingest again; "
            "what was ingested so far is kept and the rest resumes"
        )
