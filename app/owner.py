"""Which process owns the embedded store. A serving process (`kura app`, `kura serve`; app/serving.py) shares its
one Kura with its pages and announces itself in KURA_HOME/server.json (URL, pid, a fresh key; readable by
KURA_HOME's owner only), so that the `kura` command elsewhere runs inside it (app/cli/remote.py). Standard library
only: every `kura` command reads this before anything else, and must stay fast."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.service import Kura
    from app.settings import Settings

ANNOUNCEMENT = "server.json"

_shared: Kura | None = None


def shared() -> Kura | None:
    """The Kura this serving process owns; None in any other process (which builds its own)."""
    return _shared


@contextlib.contextmanager
def sharing(kura: Kura) -> Iterator[Kura]:
    """While this block runs, this process's pages and forwarded commands use `kura`."""
    global _shared
    _shared = kura
    try:
        yield kura
    finally:
        _shared = None


def announced(settings: Settings) -> dict | None:
    """The running server that owns this KURA_HOME's embedded store ({url, key, pid, file}), or None."""
    path = settings.home / ANNOUNCEMENT
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
        os.kill(int(found["pid"]), 0)  # a server that died without cleaning up is not running
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return {**found, "file": str(path)}


@contextlib.contextmanager
def announce(settings: Settings, url: str) -> Iterator[str]:
    """server.json while this process serves an embedded store → the key a forwarded command must present."""
    key = secrets.token_urlsafe(32)
    path = settings.home / ANNOUNCEMENT
    if settings.qdrant_url:  # a Qdrant server: every process opens the store itself
        yield key
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump({"url": url, "pid": os.getpid(), "key": key}, out)
    try:
        yield key
    finally:
        if (announced(settings) or {}).get("key") == key:
            path.unlink(missing_ok=True)


def local_url(host: str, port: int) -> str:
    """How a command on this machine reaches a server listening on `host`."""
    name = "127.0.0.1" if host in ("", "0.0.0.0", "::", "localhost") else host
    return f"http://{f'[{name}]' if ':' in name else name}:{port}"
