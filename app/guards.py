"""The app's defences against careless or hostile input: upload checks, per-user rate limits, and the local-only
check of single-user mode."""

from __future__ import annotations

import io
import re
import threading
import time
import unicodedata
import zipfile
from collections import deque
from dataclasses import dataclass

from ingest import formats
from retrieval.errors import KuraError

_UNSAFE = re.compile(r"[^\w.\- ()]+", re.UNICODE)


class UploadRejected(KuraError, ValueError):
    """Why an upload was refused: `key` names the message in the UI's language, `params` fill it in."""

    def __init__(self, key: str, **params) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


def sanitise_filename(name: str) -> str:
    """A name safe to save under the upload folder: no folders, no '..', no control or shell characters,
    no hidden files. Letters of any script (日本語 too) are kept."""
    name = unicodedata.normalize("NFKC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).strip(" .")
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    stem = stem[:120] or "upload"
    return f"{stem}.{suffix.lower()}" if suffix else stem


def check_upload(name: str, data: bytes, *, max_mb: int, max_unpacked_mb: int) -> str:
    """The sanitised name if this upload may be stored; else UploadRejected with the reason."""
    safe = sanitise_filename(name)
    suffix = "." + safe.rsplit(".", 1)[-1] if "." in safe else ""
    if suffix in formats.LEGACY:
        raise UploadRejected("upload_legacy", name=safe, suffix=suffix, instead=formats.LEGACY[suffix])
    if suffix not in formats.FORMATS:
        raise UploadRejected("upload_type", name=safe, allowed=", ".join(formats.supported()))
    if len(data) > max_mb * 1024 * 1024:
        raise UploadRejected("upload_size", name=safe, limit=max_mb)
    if not data:
        raise UploadRejected("upload_empty", name=safe)
    if suffix in formats.zipped():
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                unpacked = sum(member.file_size for member in archive.infolist())
        except zipfile.BadZipFile:
            raise UploadRejected("upload_corrupt", name=safe) from None
        if unpacked > max_unpacked_mb * 1024 * 1024:
            raise UploadRejected("upload_bomb", name=safe, limit=max_unpacked_mb)
    return safe


@dataclass
class RateLimiter:
    """At most `per_minute` actions per user in any 60-second window. Shared by all sessions of one app process."""

    per_minute: int
    window_s: float = 60.0

    def __post_init__(self) -> None:
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, user: str, now: float | None = None) -> float:
        """0 when the action may go ahead (and is counted); else the seconds to wait."""
        now = time.monotonic() if now is None else now
        with self._lock:
            events = self._events.setdefault(user, deque())
            while events and events[0] <= now - self.window_s:
                events.popleft()
            if len(events) >= self.per_minute:
                return round(events[0] + self.window_s - now, 1)
            events.append(now)
            return 0.0


LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})


def _host_name(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):  # [::1]:8501
        return host[: host.index("]") + 1] if "]" in host else host
    name, _, port = host.rpartition(":")
    return name if name and ":" not in name and port.isdigit() else host


def is_local_request(headers) -> bool:
    """A request made to kura on this machine by a page of this machine. Single-user mode has no sign-in, so a
    foreign Host (a remote page whose name was re-pointed at 127.0.0.1: DNS rebinding) or a foreign Origin would
    hand that page the no-login admin session. Requests without headers are not HTTP (in-process tests)."""
    host = headers.get("Host") or headers.get("host")
    if host is None:
        return True
    if _host_name(host) not in LOCAL_HOSTS:
        return False
    origin = headers.get("Origin") or headers.get("origin")
    if origin:
        from urllib.parse import urlsplit

        return f"[{urlsplit(origin).hostname}]" in LOCAL_HOSTS or urlsplit(origin).hostname in LOCAL_HOSTS
    return True
