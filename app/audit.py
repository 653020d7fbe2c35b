"""The audit log: one JSON line per event (who asked what, which chunks they were shown, which draft was
approved, what changed in the library). Append-only: nothing in kura rewrites or truncates it."""

from __future__ import annotations

import fcntl
import json
import os
from datetime import UTC, datetime
from pathlib import Path


class AuditLog:
    def __init__(self, path: Path) -> None:
        self.path = path

    def record(self, user: str, action: str, **details) -> None:
        entry = {"at": datetime.now(UTC).isoformat(timespec="seconds"), "user": user, "action": action, **details}
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # whole lines even with several app processes
            os.write(fd, line.encode())
        finally:
            os.close(fd)

    def read(self, limit: int | None = 500, *, user: str | None = None, action: str | None = None) -> list[dict]:
        """Newest first, optionally only one user's or one action's entries."""
        if not self.path.is_file():
            return []
        entries = []
        for line in reversed(self.path.read_text(encoding="utf-8").splitlines()):
            entry = json.loads(line)
            if (user is None or entry["user"] == user) and (action is None or entry["action"] == action):
                entries.append(entry)
                if len(entries) == limit:
                    break
        return entries
