"""`kura watch DIR`: keep a folder in sync. File events are debounced: once the folder has been quiet for
`quiet_s` (editors write in several steps, copies arrive in parts), one incremental ingest runs; unchanged files
are skipped by the manifest, vanished ones removed, and editors' temporary files ignored."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from ingest.pipeline import IngestReport, is_temporary


class FolderWatcher:
    """Calls `sync()` after changes under `folder` settle. start()/stop(), or use as a context manager."""

    def __init__(self, folder: Path, sync: Callable[[], IngestReport], quiet_s: float = 2.0,
                 on_report: Callable[[IngestReport], None] | None = None) -> None:
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer

        self.folder = Path(folder).resolve()
        self.sync = sync
        self.quiet_s = quiet_s
        self.on_report = on_report
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
                report = self.sync()
                if self.on_report:
                    self.on_report(report)

    def start(self) -> FolderWatcher:
        self._observer.start()
        self._worker.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._observer.stop()
        self._observer.join()
        self._worker.join()

    def __enter__(self) -> FolderWatcher:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
