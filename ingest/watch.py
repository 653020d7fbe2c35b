"""`kura watch DIR`: keep a folder in sync. File events are debounced: once the folder has been quiet for
`quiet_s` (editors write in several steps, copies arrive in parts), one incremental ingest runs; unchanged files
are skipped by the manifest, vanished ones removed, and editors' temporary files ignored. A sync that fails is
reported and retried on the next change; one that fails because the store is gone stops the watch, so
`kura watch` exits with an error instead of "watching" while nothing syncs."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from ingest.discovery import is_temporary
from ingest.pipeline import IngestReport
from retrieval.store import StoreError


class FolderWatcher:
    """Calls `sync()` after changes under `folder` settle. start()/stop(), or use as a context manager."""

    def __init__(
        self,
        folder: Path,
        sync: Callable[[], IngestReport],
        quiet_s: float = 2.0,
        on_report: Callable[[IngestReport], None] | None = None,
        on_error: Callable[[Exception], None] | None = None,
    ) -> None:
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer

        self.folder = Path(folder).resolve()
        self.sync = sync
        self.quiet_s = quiet_s
        self.on_report = on_report
        self.on_error = on_error
        self.failed: Exception | None = None  # the error that stopped the watch, if one did
        self.stopped = threading.Event()  # set when the watch ends, by stop() or by a fatal error
        self._changed = threading.Event()
        self._stopping = threading.Event()
        watcher = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event) -> None:
                paths = [Path(p) for p in (event.src_path, getattr(event, "dest_path", "")) if p]
                if event.event_type in ("opened", "closed_no_write") or all(is_temporary(p) for p in paths):
                    return
                watcher._changed.set()

        self._observer = Observer()
        self._observer.schedule(Handler(), str(self.folder), recursive=True)
        self._worker = threading.Thread(target=self._run, name="kura-watch", daemon=True)

    def _run(self) -> None:
        while not self._stopping.is_set():
            if not self._changed.wait(0.2):
                continue
            while self._changed.is_set() and not self._stopping.is_set():  # wait for a quiet period
                self._changed.clear()
                self._stopping.wait(self.quiet_s)
            if not self._stopping.is_set():
                try:
                    report = self.sync()
                except Exception as exc:  # reported, never silently swallowed by a dead thread
                    if self.on_error:
                        self.on_error(exc)
                    if isinstance(exc, StoreError):  # nothing can sync until the store is back: stop
                        self.failed = exc
                        self.stopped.set()
                        return
                    continue
                if self.on_report:
                    self.on_report(report)

    def start(self) -> FolderWatcher:
        self._observer.start()
        self._worker.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self.stopped.set()
        self._observer.stop()
        self._observer.join()
        self._worker.join()

    def __enter__(self) -> FolderWatcher:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
